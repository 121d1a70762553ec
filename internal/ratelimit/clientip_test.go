package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8, 127.0.0.1, ::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"direct", "203.0.113.7:5555", nil, "203.0.113.7"},
		{"untrusted peer's header ignored", "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:80", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client's forgery left of the real hop", "10.1.2.3:80", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", "127.0.0.1:80", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"split headers", "10.1.2.3:80", []string{"1.1.1.1", "198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"garbage hop stops", "10.1.2.3:80", []string{"1.1.1.1, nonsense, 10.0.0.5"}, "10.0.0.5"},
		{"only trusted hops", "10.1.2.3:80", []string{"10.0.0.9"}, "10.0.0.9"},
		{"no header from proxy", "[::1]:80", nil, "::1"},
		{"mapped v4", "[::ffff:203.0.113.7]:1", nil, "203.0.113.7"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		for _, h := range tt.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := ClientIP(r, trusted); got != netip.MustParseAddr(tt.want) {
			t.Errorf("%s: ClientIP = %v, want %s", tt.name, got, tt.want)
		}
	}
	if _, err := ParsePrefixes("10.0.0.0/33"); err == nil {
		t.Error("ParsePrefixes accepted 10.0.0.0/33")
	}
	if _, err := ParsePrefixes("proxy.local"); err == nil {
		t.Error("ParsePrefixes accepted a host name")
	}
}
