package widget_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/widget"
)

// TestSlowConsumer: a client that never reads is disconnected by the server on its own
// (its send queue overflows, or a write times out), Append never waits for it, and the
// gateway goes on serving.
func TestSlowConsumer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, setup{
		gateway: func(c *widget.Config) { c.SendQueue = 2; c.WriteWait = 200 * time.Millisecond },
		sndBuf:  4096,
	})
	// A client that reads its welcome and then nothing.
	sh := e.connect(t, "")
	e.keep(t, sh)

	// Far more than the socket buffers (the server's is 8 KiB, the client's receive
	// window a few hundred KiB at most) and the queue hold: the server's writes block.
	const n = 200
	big := strings.Repeat("慢", 5000)
	for i := range n {
		m := handoff.Message{ID: fmt.Sprintf("flood-%d", i), Kind: handoff.KindMessage, From: handoff.FromSystem, Text: big}
		if _, _, err := e.desk.Append(ctx, sh.conv, m); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	// The server gives up on the client by itself, while the client still holds the
	// connection open.
	e.waitIdle(t)

	fs, _ := readToClose(t, sh.c)
	if got := len(logSeqs(fs)); got >= n {
		t.Errorf("the slow client received all %d records; want it disconnected", got)
	}
	for i, s := range logSeqs(fs) {
		if s != int64(i+1) {
			t.Fatalf("frames before the disconnect have seqs %v, want 1, 2, …", logSeqs(fs))
		}
	}

	// The gateway still serves: the client resumes.
	again := e.resume(t, sh, n)
	if got := again.welcome.num("seq"); got != n {
		t.Errorf("welcome on resume has seq %d, want %d", got, n)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, setup{gateway: func(c *widget.Config) { c.RateBurst = 2; c.RateEvery = time.Hour }})
	sh := e.connect(t, "")
	sh.say(t, "m1", askInvoice)
	sh.say(t, "m2", askShipping)
	sh.say(t, "m3", askInvoice)
	fs := readUntil(t, sh.c, "the rate_limited error", isType("error"))
	checkFields(t, fs[len(fs)-1], map[string]any{"type": "error", "code": "rate_limited", "message": nil, "id": "m3", "retry_after": nil})
	for _, id := range []string{"m1", "m2"} {
		if f, _ := find(fs, isAck(id)); f == nil {
			t.Errorf("no ack for %s before the rate_limited error: %v", id, fs)
		}
	}
	send(t, sh.c, msg{Type: "handoff", ID: "h1"})
	fs = readUntil(t, sh.c, "the rate_limited error of the handoff", isType("error"))
	checkFields(t, fs[len(fs)-1], map[string]any{"type": "error", "code": "rate_limited", "message": nil, "id": "h1", "retry_after": nil})

	log := e.logOf(t, sh.conv)
	var ids []string
	for _, m := range log {
		if m.From == handoff.FromShopper {
			ids = append(ids, m.ID)
		}
	}
	if len(log) != 4 || !slices.Equal(ids, []string{"m1", "m2"}) {
		t.Errorf("log = %+v, want m1, m2 and their answers only", log)
	}
}

// cutStore watches the gateway's reads of the log in pages (limit > 0) and tells when
// one starts before the end of the page read before it: the gateway failed to queue
// all of that page.
type cutStore struct {
	handoff.Conversations
	mu      sync.Mutex // guards lastEnd
	lastEnd int64      // after + length of the last page read
	cut     atomic.Bool
}

func (s *cutStore) Messages(ctx context.Context, id string, after int64, limit int) ([]handoff.Message, error) {
	msgs, err := s.Conversations.Messages(ctx, id, after, limit)
	if limit > 0 && err == nil {
		s.mu.Lock()
		if after < s.lastEnd {
			s.cut.Store(true)
		}
		s.lastEnd = after + int64(len(msgs))
		s.mu.Unlock()
	}
	return msgs, err
}

// TestSlowConsumerQueueOverflow: once a client's send queue overflows, the client is
// disconnected with 1008 after what was queued, even if it reads again; the server does
// not buffer the whole backlog for it.
func TestSlowConsumerQueueOverflow(t *testing.T) {
	ctx := context.Background()
	cs := new(cutStore)
	e := newEnv(t, setup{
		wrap:    func(c handoff.Conversations) handoff.Conversations { cs.Conversations = c; return cs },
		gateway: func(c *widget.Config) { c.SendQueue = 2 }, // and writes may wait 10 s
		sndBuf:  4096,
	})
	sh := e.connect(t, "") // and then read nothing
	e.keep(t, sh)

	big := strings.Repeat("慢", 10000) // 30 KB a frame
	appended := 0
	appendOne := func() {
		m := handoff.Message{ID: fmt.Sprintf("flood-%d", appended), Kind: handoff.KindMessage, From: handoff.FromSystem, Text: big}
		if _, _, err := e.desk.Append(ctx, sh.conv, m); err != nil {
			t.Fatalf("Append: %v", err)
		}
		appended++
	}
	// 6 MB, far more than the socket buffers and the queue hold.
	for range 200 {
		appendOne()
	}
	// The queue has overflowed once the gateway gave up a page of the log half-sent
	// (its writes wait for the client) or closed the connection (they did not). Each
	// further record wakes it to read the log again.
	timetest.Poll(t, frameWait, "the send queue to overflow", func() bool {
		if cs.cut.Load() || e.running.Load() == 0 {
			return true
		}
		appendOne()
		return false
	})

	// The client now reads all it can get.
	fs, err := readToClose(t, sh.c)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "slow consumer" {
		t.Errorf("connection ended with %v, want close 1008 slow consumer", err)
	}
	seqs := logSeqs(fs)
	if !slices.Equal(seqs, seqRange(1, int64(len(seqs)))) || len(seqs) >= appended {
		t.Fatalf("got records %v before the close, want a prefix of 1..%d", seqs, appended)
	}
	e.waitIdle(t)

	// It resumes where it was cut off.
	again := e.resume(t, sh, int64(len(seqs)))
	if f := readFrame(t, again.c); f.num("seq") != int64(len(seqs))+1 {
		t.Errorf("first frame on resume = %v, want seq %d", f, len(seqs)+1)
	}
}
