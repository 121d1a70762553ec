package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/benchtest"
	"github.com/kefu-im/kefu/widget"
	"github.com/redis/go-redis/v9"
)

// benchBacklog is how many chats already wait in the queue when a benchmarked shopper
// asks for a person, so that every position frame says benchBacklog+1.
const benchBacklog = 20

// BenchmarkHandoffToQueueFrame measures what a shopper waits for after pressing 「转人工」:
// from sending the handoff frame on a real websocket to a real gateway until the queue
// frame with their position arrives. Behind it: the hand-off's routing and conversation
// writes in Redis (AOF, fsync always), the event through Redis pub/sub, the session
// reading the log and the queue position. The queue holds benchBacklog chats; after each
// run the chat is claimed and resolved so that the queue keeps its length. It reports the
// median and 99th percentile of that time; ns/op is the whole cycle (connect, hand-off,
// claim and resolve) over all shoppers.
func BenchmarkHandoffToQueueFrame(b *testing.B) {
	for _, shoppers := range []int{1, 16} {
		b.Run(fmt.Sprintf("shoppers=%d", shoppers), func(b *testing.B) {
			e := newBenchEnv(b)
			benchtest.Parallel(b, shoppers, func(w, _ int) (time.Duration, error) {
				return e.handoffOnce(fmt.Sprintf("agent%02d", w))
			})
		})
	}
}

// benchEnv is a gateway on a Redis store, served by a real HTTP server.
type benchEnv struct {
	desk *handoff.Desk
	url  string
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	rig, bt := openBusyDesk(b, nil)
	desk := rig.Desk
	gw, err := widget.New(widget.Config{Desk: desk, Bot: bt, AllowedOrigins: []string{shopOrigin}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	b.Cleanup(hs.Close)
	ctx := context.Background()
	for range benchBacklog {
		c, _, err := desk.StartAs(ctx, nil)
		if err == nil {
			err = desk.AskForPerson(ctx, c.ID, "m1")
		}
		if err != nil {
			b.Fatalf("filling the queue: %v", err)
		}
	}
	return &benchEnv{desk: desk, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws/shopper"}
}

// openBusyDesk opens a desk on Redis, with a pool of connections for many shoppers at
// once, that assigns no chat on its own and answers with the test bot; set, when not
// nil, changes its configuration further.
func openBusyDesk(tb testing.TB, set func(*handoff.DeskConfig)) (*desktest.Rig, *bot.Bot) {
	tb.Helper()
	bt, err := testBot()
	if err != nil {
		tb.Fatal(err)
	}
	rig := desktest.Open(tb, desktest.Options{
		Engine: desktest.Redis,
		Client: func(addr string) *redis.Client { return redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64}) },
		Desk: func(c *handoff.DeskConfig) {
			c.ManualOnly, c.Bot = true, widget.DeskBot(bt)
			if set != nil {
				set(c)
			}
		},
	})
	return rig, bt
}

// handoffOnce connects a new shopper, asks for a person and returns the time until the
// queue frame came; then agent claims and resolves the chat.
func (e *benchEnv) handoffOnce(agent string) (time.Duration, error) {
	c, _, err := websocket.DefaultDialer.Dial(e.url, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var f struct {
		Type         string
		Conversation string
		Position     int
	}
	readFrame := func() error {
		c.SetReadDeadline(time.Now().Add(frameWait))
		_, data, err := c.ReadMessage()
		if err != nil {
			return err
		}
		return json.Unmarshal(data, &f)
	}
	if err := readFrame(); err != nil || f.Type != "welcome" {
		return 0, fmt.Errorf("first frame %+v, %v; want a welcome", f, err)
	}
	conv := f.Conversation
	start := time.Now()
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"handoff","id":"h1"}`)); err != nil {
		return 0, err
	}
	for f.Type != "queue" {
		if err := readFrame(); err != nil {
			return 0, fmt.Errorf("waiting for the queue frame: %w", err)
		}
	}
	took := time.Since(start)
	// Other shoppers' chats may wait ahead only while they are between their own
	// hand-off and claim.
	if f.Position < benchBacklog+1 {
		return took, fmt.Errorf("queue position %d, want at least %d", f.Position, benchBacklog+1)
	}
	c.Close()
	ctx := context.Background()
	if _, err := e.desk.Claim(ctx, conv, agent); err != nil {
		return took, err
	}
	if _, err := e.desk.Resolve(ctx, conv, agent); err != nil {
		return took, err
	}
	return took, nil
}
