//go:build legacyconsole

package handoff

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kefu-im/kefu/handoff/redistest"
	"github.com/redis/go-redis/v9"
)

// replyDropper is a TCP proxy to Redis that, while armed, forwards a script call and
// then closes the client's connection instead of passing the reply on: the write happened,
// the client never learns it. go-redis then retries the call on a new connection.
type replyDropper struct {
	ln      net.Listener
	backend string
	armed   atomic.Bool
	dropped atomic.Int32
	wg      sync.WaitGroup
}

func newReplyDropper(t *testing.T, backend string) *replyDropper {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &replyDropper{ln: ln, backend: backend}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *replyDropper) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.serve(c) }()
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
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
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
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if err != nil {
			return
		}
		req := buf[:n]
		lower := bytes.ToLower(req)
		if bytes.Contains(lower, []byte("evalsha")) && p.armed.CompareAndSwap(true, false) {
			dropping.Store(true)
		}
		if _, err := server.Write(req); err != nil {
			return
		}
	}
}

// TestRedisRetryStoresOnce shows that a write whose reply is lost, and that go-redis
// therefore sends again, is stored once and answered with its first seq.
func TestRedisRetryStoresOnce(t *testing.T) {
	srv := redistest.Start(t)
	proxy := newReplyDropper(t, srv.Addr())
	rdb := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: 3})
	t.Cleanup(func() { rdb.Close() })
	s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: srv.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	newConv(t, s, "c1")
	// Load the script first so the dropped call is the EVALSHA of the append itself.
	if _, _, err := s.Append(ctx, "c1", msg("warm", "warm-up")); err != nil {
		t.Fatal(err)
	}

	proxy.armed.Store(true)
	m, dup, err := s.Append(ctx, "c1", msg("m1", "我要退货"))
	if err != nil {
		t.Fatalf("Append through a lost reply: %v", err)
	}
	if proxy.dropped.Load() != 1 {
		t.Fatalf("the proxy dropped %d replies, want 1: the retry path was not exercised", proxy.dropped.Load())
	}
	if m.Seq != 2 || !dup {
		t.Errorf("Append = seq %d, dup %v; want the first write's seq 2, reported as a duplicate", m.Seq, dup)
	}
	all, err := s.Messages(ctx, "c1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[1].ID != "m1" {
		t.Fatalf("log holds %d records (%+v), want warm-up and m1 once", len(all), all)
	}
	next, _, err := s.Append(ctx, "c1", msg("m2", "next"))
	if err != nil || next.Seq != 3 {
		t.Errorf("next Append = seq %d, err %v; want 3", next.Seq, err)
	}
}
