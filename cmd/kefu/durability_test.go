package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// userAdd runs "kefu user add" on the embedded data directory dir.
func userAdd(t *testing.T, dir, name, role, group, password string) string {
	t.Helper()
	cmd := exec.Command(kefuBin, "user", "add", "--role", role, "--group", group, name)
	cmd.Env = append(os.Environ(), "KEFU_DATA_DIR="+dir)
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kefu user add %s: %v\n%s", name, err, out)
	}
	return string(out)
}

// transcript reads a shopper's frames until want records have come, and returns them as
// "seq from text" lines.
func transcript(s *shopper, want int) []string {
	var out []string
	for len(out) < want {
		f := s.next()
		if seq, ok := f["seq"].(float64); ok && f["type"] != "ack" && f["type"] != "welcome" {
			out = append(out, fmt.Sprintf("%v %v %v %v", seq, f["type"], f["from"], f["text"]))
		}
	}
	return out
}

// TestEmbeddedSurvivesKill runs kefu with no Redis configured, as a new user does, and
// kills it with SIGKILL: the users (added before the first start and while it ran), a
// shopper's transcript, the waiting chats' places in the queue and an article published
// through the API all survive, and the restart prints no second admin password.
func TestEmbeddedSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	env := []string{"KEFU_DATA_DIR=" + dir}
	// Before the first start: the command opens the data directory itself.
	userAdd(t, dir, "carol", "agent", "aftersale", "carol-secret")

	k := startKefu(t, "", env...)
	pw := k.adminPassword()
	if pw == "" {
		t.Fatalf("the first start printed no admin password:\n%s", k.logText())
	}
	login(t, k, "carol", "carol-secret")
	// While it runs: the command goes through the server's admin socket.
	userAdd(t, dir, "dave", "agent", "aftersale", "dave-secret")
	login(t, k, "dave", "dave-secret")

	first, _ := dialShopper(t, k, "")
	first.send(map[string]any{"type": "message", "id": "m1", "text": "可以开发票吗？"})
	first.send(map[string]any{"type": "message", "id": "m2", "text": "我要退货"})
	before := transcript(first, 6) // two messages, the answer, the explanation, the hand-off, the transfer note
	if q := first.until("the first place", isType("queue")); q["position"] != 1.0 {
		t.Fatalf("first shopper's place = %v", q)
	}
	second, _ := dialShopper(t, k, "")
	second.send(map[string]any{"type": "message", "id": "m1", "text": "我要退货"})
	if q := second.until("the second place", isType("queue")); q["position"] != 2.0 {
		t.Fatalf("second shopper's place = %v", q)
	}

	admin := login(t, k, "admin", pw)
	if code := admin.do("POST", "/api/articles", tradeInArticle, nil); code != 201 {
		t.Fatalf("publishing an article: status %d", code)
	}
	const question = "旧手机可以抵钱吗？"
	waitAnswers(t, admin, question, "trade-in", true, 5*time.Second)

	// kill -9: no shutdown, no flush.
	if err := k.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-k.done

	k = startKefu(t, k.addr, env...)
	if pw := k.adminPassword(); pw != "" {
		t.Errorf("the restart printed a second admin password %q", pw)
	}
	admin = login(t, k, "admin", pw)
	login(t, k, "carol", "carol-secret")
	login(t, k, "dave", "dave-secret")

	// The shopper comes back and gets the same transcript and place.
	again, w := resumeShopper(t, k, first.conv, first.tok, 0)
	if w["status"] != "queued" || w["reset"] == true {
		t.Errorf("welcome after the restart = %v", w)
	}
	if after := transcript(again, len(before)); !slices.Equal(after, before) {
		t.Errorf("transcript after the restart:\n%q\nwant\n%q", after, before)
	}
	if q := again.until("the first place again", isType("queue")); q["position"] != 1.0 {
		t.Errorf("first shopper's place after the restart = %v", q)
	}
	back, _ := resumeShopper(t, k, second.conv, second.tok, 0)
	if q := back.until("the second place again", isType("queue")); q["position"] != 2.0 {
		t.Errorf("second shopper's place after the restart = %v", q)
	}
	// The agent takes the first; the second moves up.
	carol := login(t, k, "carol", "carol-secret")
	if code := carol.do("POST", "/api/conversations/"+first.conv+"/claim", nil, nil); code != 200 {
		t.Fatalf("claim after the restart: status %d", code)
	}
	if q := back.until("the new place", isType("queue")); q["position"] != 1.0 {
		t.Errorf("second shopper's place after the claim = %v", q)
	}

	var art struct{ ID, Status string }
	if code := admin.do("GET", "/api/articles/trade-in", nil, &art); code != 200 || art.Status != "published" {
		t.Errorf("the published article after the restart: status %d, %+v", code, art)
	}
	waitAnswers(t, admin, question, "trade-in", true, 5*time.Second)
}
