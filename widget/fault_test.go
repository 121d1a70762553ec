package widget_test

import (
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestRedisDown shows that a shopper's message sent while Redis is down is refused with
// an error frame naming it, never silently dropped, and that resending it with the same
// id after Redis is back stores it exactly once, on the same connection.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	eng := engine{name: "redis", open: func(t *testing.T) desktest.Options {
		return desktest.Options{Engine: desktest.Redis, Server: srv, Client: func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: 1, DialTimeout: 300 * time.Millisecond})
		}}
	}}
	e := newEnv(t, setup{engine: eng})
	sh := e.connect(t, "")
	send(t, sh.c, msg{Type: "message", ID: "before", Text: "可以开发票吗？"})
	readUntil(t, sh.c, "the first ack", isAck("before"))

	srv.Stop()
	send(t, sh.c, msg{Type: "message", ID: "during", Text: "发货要多久"})
	readUntil(t, sh.c, "an unavailable error for the message", all(isError("unavailable"), func(f frame) bool { return f.str("id") == "during" }))

	srv.Restart()
	// The widget resends unacknowledged messages with the same id; the connection pool
	// needs a moment to reconnect, so resend until acknowledged.
	deadline := time.Now().Add(10 * time.Second)
	for acked := false; !acked; {
		if time.Now().After(deadline) {
			t.Fatal("the resent message was never acknowledged after Redis came back")
		}
		send(t, sh.c, msg{Type: "message", ID: "during", Text: "发货要多久"})
		for {
			f, err := tryRead(sh.c)
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if isAck("during")(f) {
				acked = true
				break
			}
			if isError("unavailable")(f) {
				time.Sleep(100 * time.Millisecond) // Redis still coming back: resend, as the widget does
				break
			}
		}
	}
	n := 0
	for _, m := range e.logOf(t, sh.conv) {
		if m.ID == "during" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the message resent around the outage is stored %d times, want once", n)
	}
}
