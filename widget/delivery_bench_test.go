package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/benchtest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A big shop's node holds thousands of shoppers who said nothing for minutes while a
// few hundred chat with agents. BenchmarkDeliveryIdle5k measures what the idle ones
// cost the busy ones: a gateway node of its own (this test binary started again as a
// server on Redis, as in BenchmarkIdleSocketMemory) holds deliveryIdle idle sockets and
// deliveryActive chats that agents have claimed; a second node, this process, replies in
// them at deliveryRate a second for deliveryFor. It reports:
//
//   - p50-µs, p99-µs: from the reply's call on the agents' node to its frame read on the
//     shopper's socket;
//   - deliveries/cpu-s: replies delivered per CPU-second of the gateway node (user and
//     system time of its process while the replies ran);
//   - cmds/delivery: Redis commands in all, both nodes, per delivered reply;
//   - idle-cmds/socket/s: Redis commands a second per open socket over deliveryIdleFor
//     with nothing said, both nodes.
//
// It runs once whatever b.N.
func BenchmarkDeliveryIdle5k(b *testing.B) {
	const (
		deliveryIdle    = 5_000
		deliveryActive  = 200
		deliveryRate    = 1_000
		deliveryFor     = 5 * time.Second
		deliveryIdleFor = 20 * time.Second
	)
	srv := redistest.Start(b)
	ch := startChild(b, "redis", srv.Addr())
	rig := desktest.Open(b, desktest.Options{
		Engine: desktest.Redis, Server: srv, Prefix: "bench:", Now: time.Now,
		Client: func(addr string) *redis.Client { return redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64}) },
		Desk:   func(c *handoff.DeskConfig) { c.ManualOnly = true },
	})
	desk, rdb := rig.Desk, rig.Client
	ctx := context.Background()
	commands := func() int64 { return redisCommands(b, rdb) }

	// The chats: each shopper asks for a person, and one of ten agents claims the chat.
	type active struct {
		c    *websocket.Conn
		conv string
	}
	chats := make([]active, deliveryActive)
	for i := range chats {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+ch.addr+"/ws/shopper", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conv := ""
		for conv == "" || !strings.Contains(conv, "queue") {
			c.SetReadDeadline(time.Now().Add(frameWait))
			_, data, err := c.ReadMessage()
			if err != nil {
				b.Fatalf("chat %d: %v", i, err)
			}
			var f struct{ Type, Conversation string }
			json.Unmarshal(data, &f)
			switch f.Type {
			case "welcome":
				conv = f.Conversation
				if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"handoff","id":"h1"}`)); err != nil {
					b.Fatal(err)
				}
			case "queue":
				conv += " queue"
			}
		}
		conv = strings.TrimSuffix(conv, " queue")
		if _, err := desk.Claim(ctx, conv, fmt.Sprintf("agent%d", i%10)); err != nil {
			b.Fatalf("claiming chat %d: %v", i, err)
		}
		chats[i] = active{c, conv}
	}

	// The idle shoppers: connected, welcomed, and then silent.
	idle := ch.open(b, deliveryIdle, false)
	defer func() {
		for _, c := range idle {
			if c != nil {
				c.Close()
			}
		}
	}()

	// Let the claims' frames come and go, then count what idleness costs.
	time.Sleep(2 * time.Second)
	before := commands()
	time.Sleep(deliveryIdleFor)
	idleCmds := commands() - before - 1

	// Replies, each named by its number; the shoppers' readers note when each came.
	const replies = int(deliveryRate * deliveryFor / time.Second)
	sent := make([]time.Time, replies)
	took := make([]time.Duration, replies)
	var got atomic.Int64
	var readers sync.WaitGroup
	for _, a := range chats {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				a.c.SetReadDeadline(time.Now().Add(30 * time.Second))
				_, data, err := a.c.ReadMessage()
				if err != nil {
					return
				}
				var f struct{ Type, From, Text string }
				json.Unmarshal(data, &f)
				if f.Type != "message" || f.From != "agent" {
					continue
				}
				n, err := strconv.Atoi(strings.TrimPrefix(f.Text, "您好，这是第 "))
				if err != nil || n < 0 || n >= replies {
					continue
				}
				took[n] = time.Since(sent[n])
				if got.Add(1) == int64(replies) {
					return
				}
			}
		}()
	}
	cpu0 := ch.cpu(b)
	cmds0 := commands()
	work := make(chan int, replies)
	var senders sync.WaitGroup
	var failed atomic.Int64
	for range 32 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for n := range work {
				a := chats[n%len(chats)]
				sent[n] = time.Now()
				if _, err := desk.Reply(ctx, a.conv, fmt.Sprintf("agent%d", n%len(chats)%10), "", fmt.Sprintf("您好，这是第 %d", n)); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	b.ResetTimer()
	tick := time.NewTicker(time.Second / deliveryRate)
	for n := range replies {
		<-tick.C
		work <- n
	}
	tick.Stop()
	close(work)
	senders.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < int64(replies) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	b.StopTimer()
	cpu := ch.cpu(b) - cpu0
	cmds := commands() - cmds0 - 1
	for _, a := range chats {
		a.c.Close()
	}
	readers.Wait()
	if failed.Load() > 0 || got.Load() < int64(replies) {
		b.Fatalf("%d replies failed, %d of %d delivered", failed.Load(), got.Load(), replies)
	}
	benchtest.ReportLatency(b, took)
	b.ReportMetric(float64(replies)/cpu.Seconds(), "deliveries/cpu-s")
	b.ReportMetric(float64(cmds)/float64(replies), "cmds/delivery")
	b.ReportMetric(float64(idleCmds)/float64(deliveryIdle+deliveryActive)/deliveryIdleFor.Seconds(), "idle-cmds/socket/s")
}
