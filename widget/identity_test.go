package widget_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/widget"
)

var shopSecret = []byte("test-shop-secret")

const demoAttrs = `{"name":"王小明","vip":3,"orders":[{"id":"2024052012345678901","items":["羊毛围巾 ×1"],"status":"已发货"}]}`

// identity is the identity object of a hello frame.
type identity struct {
	ID    string `json:"id"`
	Attrs string `json:"attrs"`
	TS    int64  `json:"ts"`
	Sig   string `json:"sig"`
}

type helloFrame struct {
	Type         string    `json:"type"`
	Identity     *identity `json:"identity,omitempty"`
	Conversation string    `json:"conversation,omitempty"`
	Token        string    `json:"token,omitempty"`
}

// signed returns the identity of shopper id with attrs as the shop signs it with secret,
// issued at.
func signed(secret []byte, id, attrs string, at time.Time) *identity {
	return &identity{ID: id, Attrs: attrs, TS: at.Unix(), Sig: widget.SignIdentity(secret, id, at.Unix(), attrs)}
}

// connectAs dials with hello=1 and query, sends the hello frame with id (nil: none) and
// reads the welcome frame.
func (e *env) connectAs(t *testing.T, query string, id *identity) *shopper {
	t.Helper()
	if query != "" {
		query += "&"
	}
	c, _, err := e.dialRaw(t, query+"hello=1", nil)
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	send(t, c, helloFrame{Type: "hello", Identity: id})
	w := readFrame(t, c)
	if w.str("type") != "welcome" {
		t.Fatalf("first frame = %v, want a welcome", w)
	}
	return &shopper{c: c, conv: w.str("conversation"), token: w.str("token"), welcome: w}
}

func withSecret(c *widget.Config) { c.IdentitySecret = shopSecret }

func TestIdentityVerified(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng, gateway: withSecret})
		sh := e.connectAs(t, "", signed(shopSecret, "buyer-42", demoAttrs, time.Now()))
		if sh.welcome["verified"] != true {
			t.Errorf("welcome = %v, want verified: true", sh.welcome)
		}
		// Stored at the hand-off, with the shopper's signed attributes; the signed VIP
		// level, and only that, raises the hand-off's priority.
		sh.handOff(t, "h1")
		c, err := e.desk.Conversation(context.Background(), sh.conv)
		if err != nil {
			t.Fatal(err)
		}
		s := c.Shopper
		if s == nil || !s.Verified || s.ID != "buyer-42" || s.Name != "王小明" || s.VIP != 3 ||
			len(s.Orders) != 1 || s.Orders[0].ID != "2024052012345678901" || s.Orders[0].Status != "已发货" {
			t.Fatalf("conversation shopper = %+v, want the verified buyer-42 with their attributes", s)
		}
		if c.VIP != 3 {
			t.Errorf("queued conversation VIP = %d, want 3", c.VIP)
		}
		ids, err := e.rig.Engine.Annals.ShopperConversations(context.Background(), "buyer-42")
		if err != nil || len(ids) != 1 || ids[0] != sh.conv {
			t.Errorf("shopper index = %v, %v; want [%s]", ids, err, sh.conv)
		}
	})
}

func TestIdentityRefused(t *testing.T) {
	now := time.Now()
	tampered := signed(shopSecret, "buyer-42", demoAttrs, now)
	tampered.Attrs = strings.Replace(tampered.Attrs, `"vip":3`, `"vip":5`, 1)
	otherID := signed(shopSecret, "buyer-42", demoAttrs, now)
	otherID.ID = "buyer-43"
	for _, tc := range []struct {
		name   string
		secret []byte
		id     *identity
	}{
		{"tampered attrs", shopSecret, tampered},
		{"tampered id", shopSecret, otherID},
		{"expired", shopSecret, signed(shopSecret, "buyer-42", demoAttrs, now.Add(-25*time.Hour))},
		{"issued in the future", shopSecret, signed(shopSecret, "buyer-42", demoAttrs, now.Add(time.Hour))},
		{"wrong secret", shopSecret, signed([]byte("another-shop"), "buyer-42", demoAttrs, now)},
		{"no secret configured", nil, signed(shopSecret, "buyer-42", demoAttrs, now)},
		{"malformed signature", shopSecret, &identity{ID: "buyer-42", Attrs: demoAttrs, TS: now.Unix(), Sig: "zz"}},
		{"VIP out of range", shopSecret, signed(shopSecret, "buyer-42", `{"vip":9}`, now)},
		{"attrs not an object", shopSecret, signed(shopSecret, "buyer-42", `[1]`, now)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, setup{gateway: func(c *widget.Config) { c.IdentitySecret = tc.secret }})
			sh := e.connectAs(t, "", tc.id)
			if _, ok := sh.welcome["verified"]; ok {
				t.Errorf("welcome = %v, want no verified field", sh.welcome)
			}
			f := readFrame(t, sh.c)
			checkFields(t, f, map[string]any{"type": "error", "code": "bad_identity", "message": nil})
			// The session goes on, as an anonymous visitor.
			sh.say(t, "m1", askInvoice)
			readUntil(t, sh.c, "the ack", isAck("m1"))
			c, err := e.desk.Conversation(context.Background(), sh.conv)
			if err != nil {
				t.Fatal(err)
			}
			if c.Shopper == nil || c.Shopper.Verified || !strings.HasPrefix(c.Shopper.ID, "v_") || c.Shopper.Name != "" || c.Shopper.VIP != 0 {
				t.Errorf("conversation shopper = %+v, want an anonymous visitor", c.Shopper)
			}
			sh.handOff(t, "h1")
			if c, _ := e.desk.Conversation(context.Background(), sh.conv); c.VIP != 0 {
				t.Errorf("queued conversation VIP = %d, want 0 for an unverified shopper", c.VIP)
			}
		})
	}
}

func TestIdentityAnonymous(t *testing.T) {
	e := newEnv(t, setup{gateway: withSecret})
	for name, connect := range map[string]func() *shopper{
		"no hello":               func() *shopper { return e.connect(t, "") },
		"hello without identity": func() *shopper { return e.connectAs(t, "", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			sh := connect()
			sh.say(t, "m1", askInvoice)
			fs := readUntil(t, sh.c, "the ack", isAck("m1"))
			if _, i := find(fs, isType("error")); i >= 0 {
				t.Errorf("an anonymous visitor got an error: %v", fs)
			}
			c, _ := e.desk.Conversation(context.Background(), sh.conv)
			if c.Shopper == nil || c.Shopper.Verified || !strings.HasPrefix(c.Shopper.ID, "v_") {
				t.Errorf("conversation shopper = %+v, want an anonymous visitor", c.Shopper)
			}
		})
	}
}

// TestIdentityOwnConversations: a verified shopper's conversation opens only for that
// shopper, and a refusal is the same bad_token as a wrong token, with no transcript.
func TestIdentityOwnConversations(t *testing.T) {
	forEngine(t, func(t *testing.T, eng engine) {
		e := newEnv(t, setup{engine: eng, gateway: withSecret})
		now := time.Now()
		alice := signed(shopSecret, "alice", `{"name":"Alice"}`, now)
		bob := signed(shopSecret, "bob", `{"name":"Bob"}`, now)
		a := e.connectAs(t, "", alice)
		a.say(t, "m1", askInvoice)
		readUntil(t, a.c, "the bot's answer", isMessageFrom("bot"))
		a.c.Close()
		b := e.connectAs(t, "", bob)

		resume := func(conv, token string) string {
			return url.Values{"conversation": {conv}, "token": {token}, "after": {"0"}}.Encode()
		}
		for _, tc := range []struct {
			name  string
			query string
			id    *identity
			hello bool
		}{
			{"another shopper with the token", resume(a.conv, a.token), bob, true},
			{"another shopper with their own token", resume(a.conv, b.token), bob, true},
			{"anonymous with the token", resume(a.conv, a.token), nil, false},
			{"hello without identity with the token", resume(a.conv, a.token), nil, true},
			{"refused identity with the token", resume(a.conv, a.token), signed([]byte("x"), "alice", "", now), true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := tc.query
				if tc.hello {
					q += "&hello=1"
				}
				c, _, err := e.dialRaw(t, q, nil)
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if tc.hello {
					send(t, c, helloFrame{Type: "hello", Identity: tc.id})
				}
				fs, _ := readToClose(t, c)
				if len(fs) != 1 {
					t.Fatalf("got frames %v, want exactly one bad_token error", fs)
				}
				checkFields(t, fs[0], map[string]any{"type": "error", "code": "bad_token", "message": nil})
			})
		}

		// Alice herself resumes, with a freshly signed identity.
		again := e.connectAs(t, resume(a.conv, a.token), signed(shopSecret, "alice", `{"name":"Alice"}`, time.Now()))
		if again.conv != a.conv || again.welcome["verified"] != true {
			t.Errorf("alice's resume welcome = %v, want her conversation, verified", again.welcome)
		}
		readUntil(t, again.c, "her transcript", isMessageFrom("bot"))
	})
}
