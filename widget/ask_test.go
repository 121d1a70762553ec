package widget_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/triage"
)

// post sends a POST /api/bot/ask with body and origin (none when empty).
func (e *env) post(t *testing.T, origin, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/bot/ask", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /api/bot/ask: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	return resp, b
}

func TestAsk(t *testing.T) {
	e := newEnv(t, setup{})
	for _, tc := range []struct {
		name   string
		origin string
		body   string
		status int
		code   string // the error code, for a failure
		check  func(t *testing.T, d bot.Decision, raw []byte)
	}{
		{name: "answer", body: mustJSON(map[string]string{"text": askInvoice}), status: http.StatusOK,
			check: func(t *testing.T, d bot.Decision, raw []byte) {
				if d.Action != triage.Answer || d.Reason != "" || d.Intent != triage.IntentPresale {
					t.Errorf("action %q, reason %q, intent %q; want answer, no reason, presale", d.Action, d.Reason, d.Intent)
				}
				if d.Article == nil || d.Article.ID != invoiceArticle.ID || d.Text != invoiceArticle.Answer {
					t.Errorf("article %+v, text %q; want the invoice article and its answer", d.Article, d.Text)
				}
				if d.Confidence <= 0 || d.Confidence > 1 {
					t.Errorf("confidence %v, want in (0, 1]", d.Confidence)
				}
				if len(d.Hits) == 0 || d.Hits[0].ID != invoiceArticle.ID {
					t.Errorf("hits %+v, want the invoice article first", d.Hits)
				}
				// Empty lists are lists, not null, for the shop's scripts.
				if !bytes.Contains(raw, []byte(`"suggestions":[]`)) {
					t.Errorf("body %s, want \"suggestions\":[]", raw)
				}
			}},
		{name: "after-sales hand-off", origin: shopOrigin, body: mustJSON(map[string]string{"text": askReturn}), status: http.StatusOK,
			check: func(t *testing.T, d bot.Decision, _ []byte) {
				if d.Action != triage.Handoff || d.Reason != triage.ReasonAfterSales || d.Intent != triage.IntentAftersale {
					t.Errorf("action %q, reason %q, intent %q; want handoff, after_sales, aftersale", d.Action, d.Reason, d.Intent)
				}
				if d.Article == nil || d.Article.ID != returnArticle.ID || d.Text != returnArticle.Answer {
					t.Errorf("article %+v, text %q; want the return procedure explained", d.Article, d.Text)
				}
			}},
		{name: "picked suggestion", body: mustJSON(map[string]string{"text": "第二个", "article": shippingArticle.ID}), status: http.StatusOK,
			check: func(t *testing.T, d bot.Decision, _ []byte) {
				if d.Action != triage.Answer || d.Article == nil || d.Article.ID != shippingArticle.ID || d.Confidence != 1 {
					t.Errorf("decision %+v, want the shipping article answered with confidence 1", d)
				}
			}},
		{name: "out of scope", body: mustJSON(map[string]string{"text": stillThere}), status: http.StatusOK,
			check: func(t *testing.T, d bot.Decision, raw []byte) {
				if d.Action != triage.Handoff || d.Reason != triage.ReasonOutOfScope || d.Text != "" {
					t.Errorf("decision %+v, want an out_of_scope hand-off without text", d)
				}
				if !bytes.Contains(raw, []byte(`"hits":[]`)) {
					t.Errorf("body %s, want \"hits\":[]", raw)
				}
			}},
		{name: "malformed JSON", body: `{"text":`, status: http.StatusBadRequest, code: "bad_json"},
		{name: "not an object", body: `["可以开发票吗"]`, status: http.StatusBadRequest, code: "bad_json"},
		{name: "empty body", body: ``, status: http.StatusBadRequest, code: "bad_json"},
		{name: "empty text", body: `{"text":""}`, status: http.StatusBadRequest, code: "bad_request"},
		{name: "blank text", body: `{"text":"  　 "}`, status: http.StatusBadRequest, code: "bad_request"},
		{name: "no text", body: `{}`, status: http.StatusBadRequest, code: "bad_request"},
		{name: "1001 characters", body: mustJSON(map[string]string{"text": strings.Repeat("好", 1001)}), status: http.StatusBadRequest, code: "bad_request"},
		{name: "body over 8 KiB", body: mustJSON(map[string]string{"text": strings.Repeat("好", 3000)}), status: http.StatusRequestEntityTooLarge, code: "too_large"},
		{name: "disallowed origin", origin: "https://evil.example", body: mustJSON(map[string]string{"text": askInvoice}), status: http.StatusForbidden, code: "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := e.post(t, tc.origin, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d %s, want %d", resp.StatusCode, raw, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			switch {
			case tc.status == http.StatusForbidden || tc.origin == "":
				if acao != "" {
					t.Errorf("Access-Control-Allow-Origin %q, want none", acao)
				}
			case acao != tc.origin:
				t.Errorf("Access-Control-Allow-Origin %q, want %q", acao, tc.origin)
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("Access-Control-Allow-Credentials is set; the widget uses no credentials")
			}
			if tc.code != "" {
				var body struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code != tc.code || body.Error.Message == "" {
					t.Errorf("body %s (%v), want error code %q with a message", raw, err, tc.code)
				}
				return
			}
			var d bot.Decision
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("body %s: %v", raw, err)
			}
			tc.check(t, d, raw)
		})
	}
}

func TestAskCORS(t *testing.T) {
	e := newEnv(t, setup{})
	for _, origin := range []string{shopOrigin, e.srv.URL} {
		resp, _ := e.post(t, origin, mustJSON(map[string]string{"text": askInvoice}))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("from %s: HTTP %d, want 200", origin, resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("from %s: Access-Control-Allow-Origin %q, want it echoed", origin, got)
		}
		if got := resp.Header.Values("Vary"); !containsFold(got, "Origin") {
			t.Errorf("from %s: Vary %q, want Origin", origin, got)
		}
	}

	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/api/bot/ask", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatalf("OPTIONS: %v", err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight(shopOrigin)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != shopOrigin ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST" || resp.Header.Get("Access-Control-Allow-Headers") != "Content-Type" {
		t.Errorf("preflight from the shop: HTTP %d, headers %v; want 204 allowing POST with Content-Type", resp.StatusCode, resp.Header)
	}
	resp = preflight("https://evil.example")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another site: HTTP %d, headers %v; want 403 without CORS headers", resp.StatusCode, resp.Header)
	}
}

func containsFold(vals []string, want string) bool {
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), want) {
				return true
			}
		}
	}
	return false
}
