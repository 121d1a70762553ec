package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/widget"
)

func TestWelcome(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		checkFields(t, sh.welcome, map[string]any{
			"type": "welcome", "conversation": nil, "token": nil, "seq": 0, "epoch": nil,
			"status": "bot", "greeting": greeting, "lang": "zh", "hours": "每天9:00–23:00",
		})
		if !strings.HasPrefix(sh.conv, "c_") || !strings.HasPrefix(sh.token, "t_") || sh.welcome.str("epoch") == "" {
			t.Errorf("welcome = %v, want a c_ conversation, a t_ token and an epoch", sh.welcome)
		}
		conv, err := e.desk.OpenAs(context.Background(), sh.conv, sh.token, "")
		if err != nil {
			t.Fatalf("the welcome's token does not open the conversation: %v", err)
		}
		if conv.Epoch != sh.welcome.str("epoch") || conv.Status != handoff.StatusBot || conv.Stored() {
			t.Errorf("drafted conversation = %+v, want epoch %q, status bot, not stored before a message", conv, sh.welcome.str("epoch"))
		}

		// A second connection is a second conversation.
		other := e.connect(t, "")
		if other.conv == sh.conv || other.token == sh.token {
			t.Errorf("two new connections share conversation %q or token", sh.conv)
		}
	})
}

func TestBotAnswers(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.say(t, "m1", askInvoice)
		fs := readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))

		ack, ackAt := find(fs, isType("ack"))
		if ack == nil {
			t.Fatalf("no ack before the bot's answer: %v", fs)
		}
		checkFields(t, ack, map[string]any{"type": "ack", "id": "m1", "seq": 1})
		if got := logSeqs(fs); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("log frames %v, want seqs 1, 2", got)
		}
		shopperMsg, echoAt := find(fs, isSeq(1))
		if ackAt > echoAt {
			t.Errorf("the shopper's message came back before its ack: %v", fs)
		}
		checkFields(t, shopperMsg, map[string]any{
			"type": "message", "seq": 1, "from": "shopper", "id": "m1", "text": askInvoice, "ts": nil,
		})
		botMsg, botAt := find(fs, isSeq(2))
		checkFields(t, botMsg, map[string]any{
			"type": "message", "seq": 2, "from": "bot", "text": invoiceArticle.Answer,
			"article": articleField(invoiceArticle), "ts": nil,
		})
		if botAt < echoAt {
			t.Errorf("the bot's answer came before the shopper's message: %v", fs)
		}
		if shopperMsg.num("ts") <= 0 || botMsg.num("ts") < shopperMsg.num("ts") {
			t.Errorf("timestamps %d, %d: want positive and ordered", shopperMsg.num("ts"), botMsg.num("ts"))
		}
		if c, err := e.desk.Conversation(context.Background(), sh.conv); err != nil || c.Status != handoff.StatusBot || c.Seq != 2 {
			t.Errorf("conversation = %+v, %v; want status bot, seq 2", c, err)
		}
	})
}

// TestPickedSuggestion: a message naming an article (a picked suggestion) is answered
// from that article whatever its text.
func TestPickedSuggestion(t *testing.T) {
	e := newEnv(t, setup{})
	sh := e.connect(t, "")
	send(t, sh.c, msg{Type: "message", ID: "pick", Text: "第二个", Article: shippingArticle.ID})
	fs := readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))
	botMsg, _ := find(fs, isMessageFrom("bot"))
	checkFields(t, botMsg, map[string]any{
		"type": "message", "seq": 2, "from": "bot", "text": shippingArticle.Answer,
		"article": articleField(shippingArticle), "ts": nil,
	})
}

func TestAfterSalesHandoff(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.say(t, "r1", askReturn)
		fs := readUntil(t, sh.c, "the transfer message and the queue frame", all(isSeq(4), isType("queue")))

		if got := logSeqs(fs); !slices.Equal(got, []int64{1, 2, 3, 4}) {
			t.Fatalf("log frames %v, want seqs 1..4; frames: %v", got, fs)
		}
		ack, _ := find(fs, isType("ack"))
		checkFields(t, ack, map[string]any{"type": "ack", "id": "r1", "seq": 1})
		explain, _ := find(fs, isSeq(2))
		checkFields(t, explain, map[string]any{
			"type": "message", "seq": 2, "from": "bot", "text": returnArticle.Answer,
			"article": articleField(returnArticle), "ts": nil,
		})
		h, hAt := find(fs, isSeq(3))
		checkFields(t, h, map[string]any{
			"type": "handoff", "seq": 3, "reason": "after_sales", "group": "aftersale", "ts": nil,
		})
		sys, _ := find(fs, isSeq(4))
		checkFields(t, sys, map[string]any{
			"type": "message", "seq": 4, "from": "system", "text": handoff.DefaultPhrases.TransferAftersale, "ts": nil,
		})
		q, qAt := find(fs, isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1}) // nobody online: no wait told
		if qAt < hAt {
			t.Errorf("the queue frame came before the handoff frame: %v", fs)
		}

		c, err := e.desk.Conversation(context.Background(), sh.conv)
		if err != nil || c.Status != handoff.StatusQueued || c.Group != handoff.GroupAftersale || c.Reason != "after_sales" {
			t.Errorf("conversation = %+v, %v; want queued in aftersale for after_sales", c, err)
		}
		if c.Context == nil || c.Context.Question != askReturn {
			t.Errorf("hand-off context = %+v, want the shopper's question", c.Context)
		}
	})
}

func TestClientHandoff(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		send(t, sh.c, msg{Type: "handoff", ID: "h1"})
		fs := readUntil(t, sh.c, "the transfer message and the queue frame", all(isSeq(2), isType("queue")))
		if got := logSeqs(fs); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("log frames %v, want seqs 1, 2; frames: %v", got, fs)
		}
		h, _ := find(fs, isSeq(1))
		checkFields(t, h, map[string]any{"type": "handoff", "seq": 1, "reason": "requested", "group": "presale", "ts": nil})
		sys, _ := find(fs, isSeq(2))
		checkFields(t, sys, map[string]any{
			"type": "message", "seq": 2, "from": "system", "text": handoff.DefaultPhrases.TransferPresale, "ts": nil,
		})
		q, _ := find(fs, isType("queue"))
		checkFields(t, q, map[string]any{"type": "queue", "position": 1}) // nobody online: no wait told

		// Asking again while queued changes nothing.
		send(t, sh.c, msg{Type: "handoff", ID: "h2"})
		if fs := sh.barrier(t); len(logSeqs(fs)) != 0 {
			t.Errorf("a second 转人工 while queued sent log frames: %v", fs)
		}
		if n := len(e.logOf(t, sh.conv)); n != 2 {
			t.Errorf("log has %d records after a second 转人工, want 2", n)
		}
	})
}

func TestResume(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		for _, after := range []int64{0, 2, 5, 6} {
			t.Run(fmt.Sprintf("after=%d", after), func(t *testing.T) {
				e := newEnv(t, setup{engine: eng}) // its own queue: the shopper is first in it
				first := e.connect(t, "")
				orig := first.transcript(t)
				first.c.Close()

				sh := e.resume(t, first, after)
				checkFields(t, sh.welcome, map[string]any{
					"type": "welcome", "conversation": first.conv, "token": first.token, "seq": 6,
					"epoch": first.welcome.str("epoch"), "status": "queued", "lang": "zh", "hours": "每天9:00–23:00",
				})
				// A message while queued is stored and not answered: the barrier record.
				sh.say(t, "still", stillThere)
				fs := readUntil(t, sh.c, "the barrier message and the queue frame", all(isSeq(7), isType("queue")))
				if got := logSeqs(fs); !slices.Equal(got, seqRange(after+1, 7)) {
					t.Fatalf("resumed log frames = %v, want %v; frames: %v", got, seqRange(after+1, 7), fs)
				}
				for _, f := range fs {
					if f.isLog() && f.num("seq") <= 6 && !reflect.DeepEqual(f, orig[f.num("seq")-1]) {
						t.Errorf("resumed frame %v differs from the first delivery %v", f, orig[f.num("seq")-1])
					}
				}
				qs := 0
				for _, f := range fs {
					if f.str("type") == "queue" {
						qs++
						checkFields(t, f, map[string]any{"type": "queue", "position": 1})
					}
				}
				if qs != 1 {
					t.Errorf("got %d queue frames on resume, want 1: %v", qs, fs)
				}
			})
		}
	})
}

func TestBadToken(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		owner := e.connect(t, "")
		owner.transcript(t)

		other := e.connect(t, "") // a real token of another conversation
		for _, tc := range []struct {
			name  string
			query url.Values
		}{
			{"wrong token", url.Values{"conversation": {owner.conv}, "token": {"t_wrong"}, "after": {"0"}}},
			{"token of another conversation", url.Values{"conversation": {owner.conv}, "token": {other.token}}},
			{"missing token", url.Values{"conversation": {owner.conv}, "after": {"0"}}},
			{"empty token", url.Values{"conversation": {owner.conv}, "token": {""}}},
			{"unknown conversation", url.Values{"conversation": {"c_doesnotexist"}, "token": {owner.token}}},
			{"token without conversation", url.Values{"token": {owner.token}}},
		} {
			// In the hello frame, as the widget sends them, and in the URL, as widgets
			// embedded before did.
			for _, way := range []string{"hello", "url"} {
				t.Run(tc.name+" in the "+way, func(t *testing.T) {
					q := tc.query
					if way == "hello" {
						q = url.Values{"hello": {"1"}, "after": tc.query["after"]}
					}
					c, _, err := e.dialRaw(t, q.Encode(), nil)
					if err != nil {
						t.Fatalf("dial: %v", err)
					}
					if way == "hello" {
						send(t, c, helloFrame{Type: "hello", Conversation: tc.query.Get("conversation"), Token: tc.query.Get("token")})
					}
					fs, err := readToClose(t, c)
					if len(fs) != 1 {
						t.Fatalf("got frames %v, want exactly one bad_token error", fs)
					}
					checkFields(t, fs[0], map[string]any{"type": "error", "code": "bad_token", "message": nil})
					if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
						t.Errorf("connection ended with %v, want a close frame 1008", err)
					}
				})
			}
		}
		if n := len(e.logOf(t, owner.conv)); n != 6 {
			t.Errorf("log has %d records after the rejected connections, want 6", n)
		}
	})
}

func TestReset(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		for _, tc := range []struct {
			name      string
			query     func(sh *shopper) url.Values
			wantReset bool
			from      int64 // first log frame resent
		}{
			{"epoch mismatch", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"4"}, "epoch": {"e-of-another-life"}}
			}, true, 1},
			{"after beyond the log", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"99"}, "epoch": {sh.welcome.str("epoch")}}
			}, true, 1},
			{"negative after", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"-1"}}
			}, true, 1},
			{"matching epoch", func(sh *shopper) url.Values {
				return url.Values{"conversation": {sh.conv}, "token": {sh.token}, "after": {"4"}, "epoch": {sh.welcome.str("epoch")}}
			}, false, 5},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, setup{engine: eng})
				first := e.connect(t, "")
				first.transcript(t)
				first.c.Close()

				sh := e.connect(t, tc.query(first).Encode())
				want := map[string]any{
					"type": "welcome", "conversation": first.conv, "token": first.token, "seq": 6,
					"epoch": first.welcome.str("epoch"), "status": "queued", "lang": "zh", "hours": "每天9:00–23:00",
				}
				if tc.wantReset {
					want["reset"] = true
				}
				checkFields(t, sh.welcome, want)
				sh.say(t, "still", stillThere)
				fs := readUntil(t, sh.c, "the barrier message", isSeq(7))
				if got := logSeqs(fs); !slices.Equal(got, seqRange(tc.from, 7)) {
					t.Errorf("log frames after the welcome = %v, want %v", got, seqRange(tc.from, 7))
				}
			})
		}
	})
}

func TestDuplicateMessageID(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng})
		sh := e.connect(t, "")
		sh.say(t, "dup1", askInvoice)
		readUntil(t, sh.c, "the bot's answer", isMessageFrom("bot"))

		for _, text := range []string{askInvoice, askShipping} { // the same resend, and the same id with another text
			sh.say(t, "dup1", text)
			fs := sh.barrier(t)
			if len(fs) != 2 {
				t.Fatalf("after resending id dup1 got frames %v, want only an ack and the barrier error", fs)
			}
			checkFields(t, fs[0], map[string]any{"type": "ack", "id": "dup1", "seq": 1})
		}
		log := e.logOf(t, sh.conv)
		if len(log) != 2 || log[0].ID != "dup1" || log[0].Text != askInvoice || log[1].From != handoff.FromBot {
			t.Errorf("log = %+v, want the message once and one bot answer", log)
		}
	})
}

func TestClientErrors(t *testing.T) {
	e := newEnv(t, setup{gateway: func(c *widget.Config) { c.RateBurst = 1000 }})
	for _, tc := range []struct {
		name   string
		kind   int
		data   string
		code   string
		id     string // the id the error names
		stored bool   // the frame is valid: acked instead
	}{
		{name: "truncated JSON", data: `{"type":"message"`, code: "bad_json"},
		{name: "not JSON", data: `hello`, code: "bad_json"},
		{name: "null", data: `null`, code: "bad_json"},
		{name: "array", data: `[{"type":"message","id":"a1","text":"hi"}]`, code: "bad_json"},
		{name: "string", data: `"message"`, code: "bad_json"},
		{name: "binary frame", kind: websocket.BinaryMessage, data: `{"type":"message","id":"b1","text":"hi"}`, code: "bad_json"},
		{name: "unknown type", data: `{"type":"typing","id":"u1"}`, code: "unknown_type", id: "u1"},
		{name: "missing type", data: `{"id":"u2","text":"hi"}`, code: "unknown_type", id: "u2"},
		{name: "type in capitals", data: `{"type":"MESSAGE","id":"u3","text":"hi"}`, code: "unknown_type", id: "u3"},
		{name: "empty text", data: `{"type":"message","id":"e1","text":""}`, code: "bad_message", id: "e1"},
		{name: "blank text", data: `{"type":"message","id":"e2","text":" \n\t　 "}`, code: "bad_message", id: "e2"},
		{name: "missing text", data: `{"type":"message","id":"e3"}`, code: "bad_message", id: "e3"},
		{name: "1001 characters", data: mustJSON(msg{Type: "message", ID: "e4", Text: strings.Repeat("好", 1001)}), code: "bad_message", id: "e4"},
		{name: "missing id", data: `{"type":"message","text":"hi"}`, code: "bad_message"},
		{name: "id with a space", data: `{"type":"message","id":"m 1","text":"hi"}`, code: "bad_message", id: "m 1"},
		{name: "id with a colon", data: `{"type":"message","id":"bot:m1","text":"hi"}`, code: "bad_message", id: "bot:m1"},
		{name: "id of 65 characters", data: mustJSON(msg{Type: "message", ID: strings.Repeat("a", 65), Text: "hi"}), code: "bad_message", id: strings.Repeat("a", 65)},
		{name: "article id of 97 characters", data: mustJSON(msg{Type: "message", ID: "e5", Text: "hi", Article: strings.Repeat("a", 97)}), code: "bad_message", id: "e5"},
		{name: "invalid UTF-8", data: "{\"type\":\"message\",\"id\":\"g1\",\"text\":\"bad \xff\xfe byte\"}", code: "bad_message", id: "g1"},
		{name: "NUL", data: `{"type":"message","id":"g2","text":"nul \u0000 inside"}`, code: "bad_message", id: "g2"},
		{name: "bidi override", data: `{"type":"message","id":"g3","text":"订单\u202e87654321"}`, code: "bad_message", id: "g3"},
		{name: "zero-width only", data: `{"type":"message","id":"g4","text":"\u200b\u200c\u2060"}`, code: "bad_message", id: "g4"},
		{name: "an emoji family", data: `{"type":"message","id":"ok2","text":"👨\u200d👩\u200d👧"}`, id: "ok2", stored: true},
		{name: "1000 characters", data: mustJSON(msg{Type: "message", ID: "ok1", Text: strings.Repeat("好", 1000)}), id: "ok1", stored: true},
		{name: "id of 64 characters", data: mustJSON(msg{Type: "message", ID: strings.Repeat("a", 64), Text: "hi"}), id: strings.Repeat("a", 64), stored: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := e.connect(t, "")
			kind := tc.kind
			if kind == 0 {
				kind = websocket.TextMessage
			}
			sendRaw(t, sh.c, kind, tc.data)
			f := readFrame(t, sh.c)
			if tc.stored {
				checkFields(t, f, map[string]any{"type": "ack", "id": tc.id, "seq": 1})
				return
			}
			want := map[string]any{"type": "error", "code": tc.code, "message": nil}
			if tc.id != "" {
				want["id"] = tc.id
			}
			checkFields(t, f, want)
			if f.str("message") == "" {
				t.Errorf("error frame %v has an empty message", f)
			}

			// The connection stays usable, and nothing was stored.
			sh.say(t, "next", askInvoice)
			fs := readUntil(t, sh.c, "the ack of the next message", isAck("next"))
			checkFields(t, fs[len(fs)-1], map[string]any{"type": "ack", "id": "next", "seq": 1})
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestOversizedFrame(t *testing.T) {
	e := newEnv(t, setup{})
	// frameOf returns a valid message frame of exactly n bytes, padded with white space.
	frameOf := func(id string, n int) string {
		s := mustJSON(msg{Type: "message", ID: id, Text: askInvoice})
		return s[:len(s)-1] + strings.Repeat(" ", n-len(s)) + "}"
	}

	t.Run("8 KiB is accepted", func(t *testing.T) {
		sh := e.connect(t, "")
		sendRaw(t, sh.c, websocket.TextMessage, frameOf("edge", widget.MaxFrameBytes))
		checkFields(t, readFrame(t, sh.c), map[string]any{"type": "ack", "id": "edge", "seq": 1})
	})

	t.Run("one byte more closes with 1009", func(t *testing.T) {
		sh := e.connect(t, "")
		sendRaw(t, sh.c, websocket.TextMessage, frameOf("big", widget.MaxFrameBytes+1))
		fs, err := readToClose(t, sh.c)
		for _, f := range fs {
			if f.str("type") != "error" || f.str("code") != "too_large" {
				t.Errorf("got frame %v before the close, want at most a too_large error", f)
			}
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("connection ended with %v, want close code 1009", err)
		}
		if log := e.logOf(t, sh.conv); len(log) != 0 {
			t.Errorf("log = %+v, want nothing stored", log)
		}
		e.waitIdle(t)
	})
}

func TestOrigin(t *testing.T) {
	e := newEnv(t, setup{})
	for _, tc := range []struct {
		name   string
		origin string
		ok     bool
	}{
		{"allowed shop", shopOrigin, true},
		{"same origin", e.srv.URL, true},
		{"no Origin header", "", true},
		{"other site", "https://evil.example", false},
		{"suffix of an allowed host", "https://shop.example.evil.example", false},
		{"allowed host over http", "http://shop.example", false},
		{"allowed host on another port", "https://shop.example:8443", false},
		{"opaque origin", "null", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, resp, err := e.dialRaw(t, "", h)
			if !tc.ok {
				if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
					status := 0
					if resp != nil {
						status = resp.StatusCode
					}
					t.Fatalf("dial from %q: err %v, HTTP %d; want HTTP 403", tc.origin, err, status)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial from %q: %v", tc.origin, err)
			}
			if f := readFrame(t, c); f.str("type") != "welcome" {
				t.Errorf("first frame %v, want a welcome", f)
			}
		})
	}
}
