package console

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestConsolePhrasebook drives GET/PUT /api/phrasebook: the admin edits the English
// greeting and a Chinese canned reply, which the desk uses at once; a stale revision is
// 409, a text the reply guard refuses 422 with its reason, an agent's write 403; an
// agent reads the canned replies of the language asked for; dropping an edit restores
// the default.
func TestConsolePhrasebook(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := ctNewConsoleWith(t, engine, func(c *handoff.DeskConfig) {
			c.CannedReplies = []handoff.CannedReply{{Key: "ask_order", Title: "询问订单号", Text: "亲，麻烦您提供一下订单号，我这边马上为您查询。"}}
			c.CannedByLang = map[handoff.Lang][]handoff.CannedReply{handoff.LangEN: {{Key: "ask_order", Title: "Ask for the order", Text: "Could you give me your order number?"}}}
		})
		f.serve(t, ctRoutes(t, f.desk, f.accounts, f.clock.Now))
		admin, alice := f.token["admin"], f.token["alice"]

		status, body := f.api.Call(t, "GET", "/api/phrasebook", admin, nil)
		webtest.WantStatus(t, "the admin's phrasebook", status, body, http.StatusOK)
		var v handoff.PhrasebookView
		webtest.Decode(t, body, &v)
		if v.Rev != 0 || len(v.Phrases[handoff.LangEN]) == 0 || len(v.Canned[handoff.LangZH]) != 1 || v.Hours.From != "09:00" {
			t.Fatalf("phrasebook = %+v", v)
		}

		const greeting = "Welcome to our shop! What can I do for you today?"
		edit := map[string]any{"rev": 0,
			"phrases": map[string]map[string]string{"en": {"greeting": greeting}},
			"canned":  map[string]map[string]string{"zh": {"ask_order": "亲，请把订单号发给我，我马上帮您查。"}},
			"hours":   map[string]any{"days": []int{1, 2, 3, 4, 5}, "from": "09:30", "to": "21:00", "zone": "Asia/Shanghai"},
		}
		status, body = f.api.Call(t, "PUT", "/api/phrasebook", alice, edit)
		webtest.WantError(t, "an agent's edit", status, body, http.StatusForbidden, "forbidden")
		bad := map[string]any{"rev": 0, "phrases": map[string]map[string]string{"zh": {"greeting": "加我微信 kefu_2024 领优惠券哦"}}}
		status, body = f.api.Call(t, "PUT", "/api/phrasebook", admin, bad)
		webtest.WantError(t, "a greeting with a WeChat id", status, body, http.StatusUnprocessableEntity, "bad_phrase")
		if !strings.Contains(string(body), "微信") || !strings.Contains(string(body), "greeting") {
			t.Errorf("the refusal %s does not give the guard's reason and the key", body)
		}
		short := map[string]any{"rev": 0, "canned": map[string]map[string]string{"en": {"ask_order": "ok"}}}
		status, body = f.api.Call(t, "PUT", "/api/phrasebook", admin, short)
		webtest.WantError(t, "a one-word canned reply", status, body, http.StatusUnprocessableEntity, "bad_phrase")

		status, body = f.api.Call(t, "PUT", "/api/phrasebook", admin, edit)
		webtest.WantStatus(t, "the admin's edit", status, body, http.StatusOK)
		webtest.Decode(t, body, &v)
		if v.Rev != 1 || v.Hours.From != "09:30" {
			t.Errorf("after the edit: rev %d, hours %+v", v.Rev, v.Hours)
		}
		if got := f.desk.PhrasesFor(handoff.LangEN).Greeting; got != greeting {
			t.Errorf("the desk's English greeting = %q, want the edit", got)
		}
		status, body = f.api.Call(t, "PUT", "/api/phrasebook", admin, edit) // rev 0 again
		webtest.WantError(t, "an edit of a stale revision", status, body, http.StatusConflict, "conflict")

		// Agents read the canned replies in the language asked for, as edited.
		var canned struct {
			Lang   handoff.Lang          `json:"lang"`
			Canned []handoff.CannedReply `json:"canned"`
		}
		status, body = f.api.Call(t, "GET", "/api/phrasebook?lang=en", alice, nil)
		webtest.WantStatus(t, "an agent's English canned replies", status, body, http.StatusOK)
		webtest.Decode(t, body, &canned)
		if canned.Lang != handoff.LangEN || len(canned.Canned) != 1 || canned.Canned[0].Text != "Could you give me your order number?" {
			t.Errorf("English canned replies = %+v", canned)
		}
		status, body = f.api.Call(t, "GET", "/api/canned", alice, nil)
		webtest.Decode(t, body, &canned)
		if status != http.StatusOK || len(canned.Canned) != 1 || canned.Canned[0].Text != "亲，请把订单号发给我，我马上帮您查。" {
			t.Errorf("Chinese canned replies = %d %+v, want the edited one", status, canned)
		}

		// 恢复默认: the greeting's edit dropped.
		delete(edit, "phrases")
		edit["rev"] = 1
		status, body = f.api.Call(t, "PUT", "/api/phrasebook", admin, edit)
		webtest.WantStatus(t, "restoring the greeting", status, body, http.StatusOK)
		if got := f.desk.PhrasesFor(handoff.LangEN).Greeting; got != handoff.DefaultPhrasesEN.Greeting {
			t.Errorf("the restored greeting = %q, want the default", got)
		}
	})
}
