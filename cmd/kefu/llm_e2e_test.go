package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/timetest"
)

// TestLLMEndToEnd points kefu at an in-process OpenAI-compatible server: in a
// conversation the bot's answer is the model's wording, citing the article, and a broken
// model falls back to the article. The public bot API, open to anyone, calls no model
// (KEFU_BOT_API_LLM is off), answers a question asked again from its cache, and leaves
// the editors' unanswered inbox to real conversations.
func TestLLMEndToEnd(t *testing.T) {
	var broken atomic.Bool
	var calls atomic.Int32
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" || !strings.Contains(string(body), "invoice-available") || r.Header.Get("Authorization") != "Bearer test-key" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		if broken.Load() {
			w.Write([]byte("not json at all"))
			return
		}
		content, _ := json.Marshal(map[string]any{"covered": true, "article": "invoice-available", "answer": phrased})
		json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion", "model": "test-model",
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "message": map[string]string{"role": "assistant", "content": string(content)}}},
		})
	}))
	defer llm.Close()
	k := startKefu(t, "", "KEFU_LLM_BASE_URL="+llm.URL+"/v1", "KEFU_LLM_MODEL=test-model", "KEFU_LLM_API_KEY=test-key")
	admin := adminAdding(t, k)
	ask := func(text string) map[string]any {
		resp, err := http.Post(k.url("/api/bot/ask"), "application/json", strings.NewReader(`{"text":"`+text+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d map[string]any
		json.NewDecoder(resp.Body).Decode(&d)
		return d
	}
	for range 3 {
		if d := ask("可以开发票吗？"); d["phrased"] == true || !strings.HasPrefix(d["text"].(string), "可以的") {
			t.Fatalf("the public API's answer = %v, want the article's own", d)
		}
	}
	if d := ask("明天北京下雪吗"); d["action"] != "handoff" {
		t.Fatalf("the public API on the weather = %v, want a hand-off", d)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the public API called the model %d times, want none", n)
	}

	s, _ := dialShopper(t, k, "")
	s.send(map[string]any{"type": "message", "id": "m1", "text": "可以开发票吗？"})
	s.until("the model's answer", func(f map[string]any) bool { return isFrom("bot")(f) && f["text"] == phrased })
	broken.Store(true)
	s.send(map[string]any{"type": "message", "id": "m2", "text": "能开发票吗"})
	f := s.until("the article's answer", isFrom("bot"))
	if text, _ := f["text"].(string); !strings.HasPrefix(text, "可以的") {
		t.Errorf("the answer with a broken model = %v, want the article's own", f)
	}
	if calls.Load() < 2 {
		t.Errorf("the model was called %d times, want at least 2", calls.Load())
	}
	s.send(map[string]any{"type": "message", "id": "m3", "text": "明天上海下雨吗"})
	s.until("the hand-off", isType("handoff"))
	var inbox struct {
		Total  int
		Groups []struct{ Text string }
	}
	timetest.Poll(t, 10*time.Second, "the conversation's question in the unanswered inbox", func() bool {
		return admin.do("GET", "/api/unanswered", nil, &inbox) == 200 && inbox.Total > 0
	})
	if inbox.Total != 1 || !strings.Contains(inbox.Groups[0].Text, "上海") {
		t.Errorf("unanswered questions %+v, want the conversation's alone", inbox)
	}
	if strings.Contains(k.logText(), "test-key") {
		t.Error("the log holds the API key")
	}
}

// phrased is the fake model's wording of the invoice answer.
const phrased = "亲，可以开发票的，下单时填写抬头就可以啦。"
