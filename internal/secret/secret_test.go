package secret

import (
	"strings"
	"testing"
)

// TestHash: the hash is the SHA-256 in hex that the stores already keep, so tokens
// issued before stay good.
func TestHash(t *testing.T) {
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // SHA-256("abc")
	if got := Hash("abc"); got != abc {
		t.Errorf("Hash(abc) = %s, want %s", got, abc)
	}
	if !Matches(abc, "abc") || Matches(abc, "abd") || Matches("", "abc") {
		t.Error("Matches does not tell the token of a hash from others")
	}
}

func TestNew(t *testing.T) {
	a, b := New("s_"), New("s_")
	if a == b || !strings.HasPrefix(a, "s_") || len(a) != len("s_")+22 {
		t.Errorf("New = %q, %q; want two different s_ tokens of 16 random bytes", a, b)
	}
}
