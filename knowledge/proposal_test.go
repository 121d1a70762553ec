package knowledge_test

import (
	"context"
	"testing"
)

// TestProposalConversation checks that a proposal keeps the chat it came from through
// the editor's saves, a restore and an import, and that a malformed id is refused.
func TestProposalConversation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	type withConv struct {
		article
		Conversation string `json:"conversation"`
	}
	var p withConv
	if code := e.call("agent", "POST", "/api/proposals", map[string]any{
		"title": "能送货上楼吗", "questions": []string{"快递能送上楼吗"}, "answer": "大件商品请提前与快递员沟通。", "conversation": "c_Q2hhdElk-0_x",
	}, &p); code != 201 || p.Conversation != "c_Q2hhdElk-0_x" || !p.Review {
		t.Fatalf("propose: %d %+v", code, p)
	}
	// The editor's form does not carry the conversation: a save keeps it, even one
	// whose body names another.
	var got withConv
	if code := e.call("ed", "PUT", "/api/articles/"+p.ID, map[string]any{
		"version": 1, "title": "能送货上楼吗", "category": "presale", "answer": "可以送货上楼。", "status": "published", "conversation": "c_other",
	}, &got); code != 200 || got.Conversation != "c_Q2hhdElk-0_x" || got.Review {
		t.Fatalf("publish: %d %+v", code, got)
	}
	if code := e.call("ed", "POST", "/api/articles/"+p.ID+"/restore", map[string]int{"version": 1, "base": 2}, &got); code != 200 || got.Conversation != "c_Q2hhdElk-0_x" {
		t.Fatalf("restore: %d %+v", code, got)
	}
	line := `{"id":"` + p.ID + `","title":"能送货上楼吗","category":"presale","answer":"导入的回答。"}` + "\n"
	if code, out := e.importFile("/api/articles/import?name=a.jsonl", "application/x-ndjson", []byte(line)); code != 200 || out.Applied != 1 {
		t.Fatalf("import: %d %+v", code, out)
	}
	vs, err := e.store.Versions(ctx, p.ID)
	if err != nil || len(vs) != 4 {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	for _, v := range vs {
		if v.Conversation != "c_Q2hhdElk-0_x" {
			t.Errorf("version %d (%s) has conversation %q", v.Version, v.Action, v.Conversation)
		}
	}

	var bad apiErr
	if code := e.call("agent", "POST", "/api/proposals", map[string]any{"title": "标题", "answer": "回答", "conversation": "c_1 <b>"}, &bad); code != 400 || bad.Error.Code != "invalid" {
		t.Fatalf("a malformed conversation id: %d %+v", code, bad)
	}
}

// TestProposalRoles: whoever serves chats in the console proposes articles from them,
// an after-sales lead as well as an agent (a lead is an agent who also approves refunds);
// proposing does not let them edit.
func TestProposalRoles(t *testing.T) {
	e := newEnv(t, nil)
	for token, want := range map[string]int{"agent": 201, "lead": 201, "ed": 201, "admin": 201, "": 401, "s_madeup": 401} {
		var p article
		code := e.call(token, "POST", "/api/proposals", map[string]any{
			"title": "能开增值税发票吗 " + token, "answer": "可以，下单时填写发票信息。",
		}, &p)
		if code != want {
			t.Errorf("a proposal by %q: %d, want %d", token, code, want)
			continue
		}
		if want == 201 && (!p.Review || p.Status != "draft" || p.UpdatedBy != testUsers[token].name) {
			t.Errorf("the proposal by %q is %+v, want a draft for review by %s", token, p, testUsers[token].name)
		}
	}
	for _, token := range []string{"agent", "lead"} {
		if code := e.call(token, "GET", "/api/articles", nil, nil); code != 403 {
			t.Errorf("GET /api/articles by %q: %d, want 403", token, code)
		}
	}
}
