package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestLLMEndToEnd points kefu at an in-process OpenAI-compatible server: the bot's answer
// is the model's wording, citing the article; a broken model falls back to the article.
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
		content, _ := json.Marshal(map[string]any{"covered": true, "article": "invoice-available", "answer": "亲，可以开发票的，下单时填写抬头就可以啦。"})
		json.NewEncoder(w).Encode(map[string]any{
			"id": "x", "object": "chat.completion", "model": "test-model",
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "message": map[string]string{"role": "assistant", "content": string(content)}}},
		})
	}))
	defer llm.Close()
	k := startKefu(t, "", "KEFU_LLM_BASE_URL="+llm.URL+"/v1", "KEFU_LLM_MODEL=test-model", "KEFU_LLM_API_KEY=test-key")
	ask := func() map[string]any {
		resp, err := http.Post(k.url("/api/bot/ask"), "application/json", strings.NewReader(`{"text":"可以开发票吗？"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d map[string]any
		json.NewDecoder(resp.Body).Decode(&d)
		return d
	}
	d := ask()
	if d["text"] != "亲，可以开发票的，下单时填写抬头就可以啦。" || d["phrased"] != true || d["article"].(map[string]any)["id"] != "invoice-available" {
		t.Fatalf("decision with the model = %v", d)
	}
	broken.Store(true)
	d = ask()
	if d["phrased"] == true || !strings.HasPrefix(d["text"].(string), "可以的") || d["action"] != "answer" {
		t.Fatalf("decision with a broken model = %v, want the article's own answer", d)
	}
	if calls.Load() < 2 {
		t.Errorf("the model was called %d times, want at least 2", calls.Load())
	}
	if strings.Contains(k.logText(), "test-key") {
		t.Error("the log holds the API key")
	}
}
