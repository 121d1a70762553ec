package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/redistest"
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
			var (
				next    atomic.Int64
				wg      sync.WaitGroup
				samples = make([]time.Duration, b.N)
				failed  atomic.Bool
			)
			b.ResetTimer()
			for w := range shoppers {
				agent := fmt.Sprintf("agent%02d", w)
				wg.Go(func() {
					for i := int(next.Add(1)) - 1; i < b.N && !failed.Load(); i = int(next.Add(1)) - 1 {
						d, err := e.handoffOnce(agent)
						samples[i] = d
						if err != nil {
							b.Errorf("run %d: %v", i, err)
							failed.Store(true)
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if failed.Load() {
				return
			}
			slices.Sort(samples)
			b.ReportMetric(benchMicros(benchPercentile(samples, 50)), "p50-µs")
			b.ReportMetric(benchMicros(benchPercentile(samples, 99)), "p99-µs")
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
	srv := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 64})
	st, err := handoff.NewRedisStore(handoff.RedisConfig{Client: rdb, Prefix: srv.Prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	// The store's Run delivers the events; closing the client ends it.
	ctx, cancel := context.WithCancel(context.Background())
	sub := st.Subscribe("")
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		rdb.Close()
		<-done
	})
	// The clients' Run must have subscribed before anything is published.
	select {
	case <-sub.C:
	case <-time.After(frameWait):
		b.Fatal("the store's Run did not subscribe")
	}
	sub.Close()

	desk, err := handoff.NewDesk(handoff.DeskConfig{Store: st, Staff: newAccounts(b), ManualOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	bt, err := testBot()
	if err != nil {
		b.Fatal(err)
	}
	gw, err := widget.New(widget.Config{Desk: desk, Bot: bt, AllowedOrigins: []string{shopOrigin}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	b.Cleanup(hs.Close)
	for range benchBacklog {
		c, _, err := desk.Start(ctx)
		if err == nil {
			err = desk.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m1", Reason: "requested", Group: handoff.GroupPresale})
		}
		if err != nil {
			b.Fatalf("filling the queue: %v", err)
		}
	}
	return &benchEnv{desk: desk, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws/shopper"}
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

// benchPercentile returns the p-th percentile of sorted samples by the nearest-rank
// method.
func benchPercentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100 // ⌈n·p/100⌉
	return sorted[max(rank, 1)-1]
}

func benchMicros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
