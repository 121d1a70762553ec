package widget_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/kb"
)

// frame is a decoded server frame.
type frame map[string]any

func (f frame) str(k string) string {
	s, _ := f[k].(string)
	return s
}

// num returns a numeric field, or -1 when it is missing.
func (f frame) num(k string) int64 {
	n, ok := f[k].(float64)
	if !ok {
		return -1
	}
	return int64(n)
}

func (f frame) keys() []string {
	var ks []string
	for k := range f {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// isLog reports whether f is a record of the conversation's log.
func (f frame) isLog() bool {
	switch f.str("type") {
	case "message", "handoff", "status", "ticket":
		return true
	}
	return false
}

func (f frame) String() string {
	g := make(map[string]any, len(f))
	for k, v := range f {
		if s, ok := v.(string); ok && len([]rune(s)) > 40 {
			v = string([]rune(s)[:40]) + "…"
		}
		g[k] = v
	}
	b, _ := json.Marshal(g)
	return string(b)
}

func isType(typ string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == typ }
}

func isSeq(seq int64) func(frame) bool {
	return func(f frame) bool { return f.isLog() && f.num("seq") == seq }
}

func isError(code string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == "error" && f.str("code") == code }
}

func isAck(id string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == "ack" && f.str("id") == id }
}

func isMessageFrom(from string) func(frame) bool {
	return func(f frame) bool { return f.str("type") == "message" && f.str("from") == from }
}

// all matches once each of preds has matched some frame.
func all(preds ...func(frame) bool) func(frame) bool {
	seen := make([]bool, len(preds))
	return func(f frame) bool {
		done := true
		for i, p := range preds {
			seen[i] = seen[i] || p(f)
			done = done && seen[i]
		}
		return done
	}
}

// readFrame reads one frame, failing the test after frameWait.
func readFrame(t *testing.T, c *websocket.Conn) frame {
	t.Helper()
	f, err := tryRead(c)
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	return f
}

func tryRead(c *websocket.Conn) (frame, error) {
	c.SetReadDeadline(time.Now().Add(frameWait))
	kind, data, err := c.ReadMessage()
	if err != nil {
		return nil, err
	}
	if kind != websocket.TextMessage {
		return nil, fmt.Errorf("got a websocket message of kind %d, want text", kind)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("frame %q is not a JSON object: %w", data, err)
	}
	return f, nil
}

// readUntil reads frames until match holds and returns every frame read, the matching
// one last.
func readUntil(t *testing.T, c *websocket.Conn, what string, match func(frame) bool) []frame {
	t.Helper()
	var got []frame
	for {
		f, err := tryRead(c)
		if err != nil {
			t.Fatalf("waiting for %s: %v; frames read: %v", what, err, got)
		}
		got = append(got, f)
		if f.str("type") == "queue" && f.num("position") < 1 {
			t.Errorf("got %v: a queue position is 1 or more", f)
		}
		if match(f) {
			return got
		}
	}
}

// readToClose reads frames until the connection fails and returns them with the error.
// A read timeout fails the test: the server was expected to close.
func readToClose(t *testing.T, c *websocket.Conn) ([]frame, error) {
	t.Helper()
	var got []frame
	for {
		f, err := tryRead(c)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server did not close the connection within %v; frames read: %v", frameWait, got)
			}
			return got, err
		}
		got = append(got, f)
	}
}

func send(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(frameWait))
	if err := c.WriteJSON(v); err != nil {
		t.Fatalf("sending %v: %v", v, err)
	}
}

func sendRaw(t *testing.T, c *websocket.Conn, kind int, data string) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(frameWait))
	if err := c.WriteMessage(kind, []byte(data)); err != nil {
		t.Fatalf("sending %q: %v", data, err)
	}
}

type msg struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Text    string `json:"text,omitempty"`
	Article string `json:"article,omitempty"`
}

func (sh *shopper) say(t *testing.T, id, text string) {
	t.Helper()
	send(t, sh.c, msg{Type: "message", ID: id, Text: text})
}

// barrier sends a malformed frame and reads up to its bad_json error. The gateway handles
// a connection's frames one after the other, bot included, so when the error arrives
// everything sent before has been fully handled.
func (sh *shopper) barrier(t *testing.T) []frame {
	t.Helper()
	sendRaw(t, sh.c, websocket.TextMessage, "{")
	return readUntil(t, sh.c, "the barrier's bad_json error", isError("bad_json"))
}

// logOf returns the conversation's whole log.
func (e *env) logOf(t *testing.T, conv string) []handoff.Message {
	t.Helper()
	msgs, err := e.desk.Messages(context.Background(), conv, 0, 0)
	if errors.Is(err, handoff.ErrNotFound) {
		return nil // never stored
	}
	if err != nil {
		t.Fatalf("reading the log of %s: %v", conv, err)
	}
	return msgs
}

func logSeqs(fs []frame) []int64 {
	var out []int64
	for _, f := range fs {
		if f.isLog() {
			out = append(out, f.num("seq"))
		}
	}
	return out
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func find(fs []frame, match func(frame) bool) (frame, int) {
	for i, f := range fs {
		if match(f) {
			return f, i
		}
	}
	return nil, -1
}

// checkFields fails unless f has exactly the wanted fields with these values; a nil
// want value only requires the field to be present.
func checkFields(t *testing.T, f frame, want map[string]any) {
	t.Helper()
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(wantKeys)
	if got := f.keys(); !slices.Equal(got, wantKeys) {
		t.Errorf("frame %v has fields %v, want %v", f, got, wantKeys)
	}
	for k, w := range want {
		if w == nil {
			continue
		}
		if n, ok := w.(int); ok {
			w = float64(n)
		}
		if !reflect.DeepEqual(f[k], w) {
			t.Errorf("frame %v: %s = %#v, want %#v", f, k, f[k], w)
		}
	}
}

func articleField(a kb.Article) map[string]any {
	return map[string]any{"id": a.ID, "title": a.Title, "category": a.Category}
}

// transcript has the shopper ask about invoices and then return an item, and returns
// the six log frames: shopper, bot (invoice), shopper, bot (return procedure), handoff,
// transfer message. The conversation ends up queued.
func (sh *shopper) transcript(t *testing.T) []frame {
	t.Helper()
	sh.say(t, "t1", askInvoice)
	fs := readUntil(t, sh.c, "the invoice answer", isSeq(2))
	sh.say(t, "t2", askReturn)
	fs = append(fs, readUntil(t, sh.c, "the transfer message and the queue frame", all(isSeq(6), isType("queue")))...)
	var logs []frame
	for _, f := range fs {
		if f.isLog() {
			logs = append(logs, f)
		}
	}
	if got := logSeqs(logs); !slices.Equal(got, seqRange(1, 6)) {
		t.Fatalf("transcript seqs = %v, want 1..6", got)
	}
	return logs
}
