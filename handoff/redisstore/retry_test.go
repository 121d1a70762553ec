package redisstore_test

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/redis/go-redis/v9"
)

// replyDropper is a TCP proxy to Redis that, while armed, forwards the nth script call
// from then and closes the client's connection instead of passing its reply on: the
// script ran, the client never learns it. go-redis then sends the call again on a new
// connection.
type replyDropper struct {
	ln      net.Listener
	backend string
	skip    atomic.Int32 // script calls to let through before the one whose reply is lost; -1: none
	dropped atomic.Int32
	wg      sync.WaitGroup
}

func newReplyDropper(t *testing.T, backend string) *replyDropper {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyDropper{ln: ln, backend: backend}
	p.skip.Store(-1)
	p.wg.Go(p.accept)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

// arm makes the proxy lose the reply of the script call after the next skip ones.
func (p *replyDropper) arm(skip int32) { p.skip.Store(skip) }

func (p *replyDropper) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// serve relays one client connection, request by request.
func (p *replyDropper) serve(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer server.Close()
	// dropping is set before a request whose reply must be lost is sent, so the reply
	// goroutine cannot pass that reply on.
	var dropping atomic.Bool
	p.wg.Go(func() {
		b := make([]byte, 64<<10)
		for {
			n, err := server.Read(b)
			if err != nil || dropping.Load() {
				if err == nil {
					p.dropped.Add(1) // the script ran: its reply is here, and is lost
				}
				client.Close()
				server.Close()
				return
			}
			if _, err := client.Write(b[:n]); err != nil {
				server.Close()
				return
			}
		}
	})
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if err != nil {
			return
		}
		req := buf[:n]
		if bytes.Contains(bytes.ToLower(req), []byte("evalsha")) {
			if k := p.skip.Add(-1); k == -1 {
				dropping.Store(true)
			} else if k < -1 {
				p.skip.Store(-1)
			}
		}
		if _, err := server.Write(req); err != nil {
			return
		}
	}
}

// TestRetryStoresOnce: a script whose reply is lost, and which go-redis therefore runs
// again, stores once. An append is answered with its first seq; a claim, whichever of
// its steps lost its reply (the reservation, the conversation side, the end), is made
// once, and nothing stays pending.
func TestRetryStoresOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	proxy := newReplyDropper(t, srv.Addr())
	n := openNode(t, desktest.Options{Server: srv, Desk: manual, Client: func(string) *redis.Client {
		return redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: 3})
	}})
	c, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Load the scripts first so that the calls that lose their reply are the EVALSHAs
	// of the change itself.
	if _, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "warm", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "warm-up"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Desk.Claim(ctx, n.queued(t).ID, "bob"); err != nil {
		t.Fatal(err)
	}

	proxy.arm(0)
	m, dup, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "我要退货"})
	if err != nil {
		t.Fatalf("Append through a lost reply: %v", err)
	}
	if proxy.dropped.Load() != 1 {
		t.Fatalf("the proxy dropped %d replies, want 1: the retry path was not exercised", proxy.dropped.Load())
	}
	if m.Seq != 2 || !dup {
		t.Errorf("Append = seq %d, dup %v; want the first write's seq 2, reported as a duplicate", m.Seq, dup)
	}
	all, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[1].ID != "m1" {
		t.Fatalf("log holds %d records (%+v), want warm-up and m1 once", len(all), all)
	}
	if next, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m2", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "next"}); err != nil || next.Seq != 3 {
		t.Errorf("next Append = seq %d, err %v; want 3", next.Seq, err)
	}

	// A claim is three scripts: the reservation, the conversation side, the end.
	for step, name := range []string{"the reservation", "the conversation side", "the end"} {
		id := n.handoff(t, handoff.GroupPresale, triage.ReasonRequested, 0)
		before := proxy.dropped.Load()
		proxy.arm(int32(step))
		got, err := n.Desk.Claim(ctx, id, "alice")
		if err != nil || got.Status != handoff.StatusActive || got.Agent != "alice" {
			t.Errorf("claim whose %s lost its reply = %s with %q, %v", name, got.Status, got.Agent, err)
		}
		if proxy.dropped.Load() != before+1 {
			t.Fatalf("claim whose %s lost its reply: the proxy dropped %d replies, want 1", name, proxy.dropped.Load()-before)
		}
		if k := enginetest.CountStatus(t, n.Desk, id, handoff.StatusActive); k != 1 {
			t.Errorf("claim whose %s lost its reply: %d status-active records, want 1", name, k)
		}
		if p := n.pending(t); len(p) != 0 {
			t.Errorf("claim whose %s lost its reply left %v pending", name, p)
		}
	}
	if l := n.loads(t, "alice"); l[0] != 3 {
		t.Errorf("alice's load after three claims = %d, want 3", l[0])
	}
}
