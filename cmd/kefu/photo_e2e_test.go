package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/kefu-im/kefu/internal/files/filestest"
	"github.com/kefu-im/kefu/internal/miniotest"
)

// TestPhotosTwoNodes runs two kefu nodes on one Redis and one S3-compatible store (a
// real MinIO server): a photo the shopper uploads through one node is sent in a message
// and shown to the agent of the other, whose URL works on either node, since the nodes
// share the store and the key that signs its URLs.
func TestPhotosTwoNodes(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	mc := miniotest.Start(t)
	_, env := redisEnv(t)
	env = append(env, "KEFU_FILES=s3://kefu-photos/shop-a", "KEFU_S3_ENDPOINT="+mc.Endpoint,
		"KEFU_S3_ACCESS_KEY="+mc.AccessKey, "KEFU_S3_SECRET_KEY="+mc.SecretKey)
	nodeA := startKefu(t, "", env...)
	nodeB := startKefu(t, "", env...)
	addUser(t, env, "wang", "agent", "aftersale", "wang-secret")
	a := login(t, nodeB, "wang", "wang-secret")

	s, _ := dialShopper(t, nodeA, "")
	s.send(map[string]any{"type": "message", "id": "m1", "text": "我要退货，杯子碎了"})
	s.until("the hand-off", isType("handoff"))
	photo := filestest.PNG(t, 240, 180, 77)
	q := url.Values{"conversation": {s.conv}}
	req, _ := http.NewRequest(http.MethodPost, nodeA.url("/api/uploads?"+q.Encode()), bytes.NewReader(photo))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Kefu-Token", s.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct{ ID, URL string }
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || up.ID == "" {
		t.Fatalf("upload on node A: %d %+v", resp.StatusCode, up)
	}
	if n := metricValue(t, nodeA, `kefu_uploads_total{result="stored"}`); n != 1 {
		t.Errorf("node A counted %v uploads stored, want 1", n)
	}
	s.send(map[string]any{"type": "message", "id": "m2", "text": "这是破损的照片", "attachments": []string{up.ID}})
	s.until("the ack", isType("ack"))

	a.waitMessage(s.conv, "shopper", "这是破损的照片")
	var conv struct {
		Messages []struct {
			Attachments []struct{ ID, URL string }
		}
	}
	if code := a.do("GET", "/api/conversations/"+s.conv, nil, &conv); code != 200 {
		t.Fatalf("the conversation on node B: %d", code)
	}
	var signed string
	for _, m := range conv.Messages {
		for _, at := range m.Attachments {
			if at.ID == up.ID {
				signed = at.URL
			}
		}
	}
	if signed == "" {
		t.Fatalf("node B shows no attachment %s: %+v", up.ID, conv.Messages)
	}
	for name, u := range map[string]string{"node B's URL on node A": nodeA.url(signed), "node A's URL on node B": nodeB.url(up.URL)} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || sha256.Sum256(got) != sha256.Sum256(photo) {
			t.Errorf("%s: %d, %d bytes; want the %d uploaded", name, resp.StatusCode, len(got), len(photo))
		}
	}
}
