package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/kb"
)

var llmArticles = []kb.Article{
	{ID: "shipping-time", Title: "发货时间", Category: kb.CategoryPresale, Answer: "亲，正常情况下下单后48小时内发货，偏远地区会稍慢一些。"},
	{ID: "invoice", Title: "开发票", Category: kb.CategoryInsale, Answer: "您可以在订单详情页点击「申请发票」开具电子发票。"},
	{ID: "coupon", Title: "优惠券使用", Category: kb.CategoryPresale, Answer: "优惠券在结算页自动抵扣，每笔订单限用一张。"},
	{ID: "size-guide", Title: "尺码选择", Category: kb.CategoryPresale, Answer: "商品详情页有尺码表，按胸围和肩宽选择即可。"},
}

const llmQuestion = "我今天下单什么时候能发货呀"

// wireRequest is the part of a chat-completion request body the tests look at, decoded
// from the wire rather than from the client library's own types.
type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
}

// text is every message's content, joined.
func (r wireRequest) text() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content)
		b.WriteByte('\n')
	}
	return b.String()
}

// received is what the fake server saw of one request.
type received struct {
	auth string
	body wireRequest
}

// fakeLLM is an OpenAI-compatible server on a real socket. answer writes the response
// to each request; it defaults to a 200 with content.
type fakeLLM struct {
	srv *httptest.Server

	mu   sync.Mutex // guards reqs
	reqs []received
}

func newFakeLLM(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, req wireRequest)) *fakeLLM {
	t.Helper()
	f := &fakeLLM{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		var req wireRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, received{auth: r.Header.Get("Authorization"), body: req})
		f.mu.Unlock()
		answer(w, r, req)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLLM) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.reqs...)
}

func (f *fakeLLM) baseURL() string { return f.srv.URL + "/v1" }

// replyWith answers every request with a chat completion whose content is content.
func replyWith(content string) func(http.ResponseWriter, *http.Request, wireRequest) {
	return func(w http.ResponseWriter, _ *http.Request, req wireRequest) {
		writeCompletion(w, req.Model, content)
	}
}

// writeCompletion writes the JSON of OpenAI's chat.completion object.
func writeCompletion(w http.ResponseWriter, model, content string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id":      "chatcmpl-test",
		"object":  "chat.completion",
		"created": 1700000000,
		"model":   model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content},
			"finish_reason": "stop",
		}},
		"usage": map[string]any{"prompt_tokens": 200, "completion_tokens": 40, "total_tokens": 240},
	})
}

// replyJSON is a reply in the format the prompt asks for.
func replyJSON(covered bool, article, answer string) string {
	b, _ := json.Marshal(map[string]any{"covered": covered, "article": article, "answer": answer})
	return string(b)
}

func newTestLLM(t *testing.T, cfg LLMConfig) *LLM {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = "test-model"
	}
	l, err := NewLLM(cfg)
	if err != nil {
		t.Fatalf("NewLLM: %v", err)
	}
	return l
}

const goodAnswer = "亲，您好！正常情况下下单后48小时内就会为您发货哦，偏远地区会稍慢一些，感谢您的耐心等待～"

func TestLLMPhrase(t *testing.T) {
	f := newFakeLLM(t, replyWith(replyJSON(true, "shipping-time", "  "+goodAnswer+"\n")))
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL(), Model: "qwen-plus", APIKey: "sk-test"})

	got, err := l.Phrase(context.Background(), llmQuestion, llmArticles)
	if err != nil {
		t.Fatalf("Phrase: %v", err)
	}
	want := Phrasing{Covered: true, ArticleID: "shipping-time", Text: goodAnswer}
	if got != want {
		t.Errorf("Phrase = %+v, want %+v", got, want)
	}

	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.auth != "Bearer sk-test" {
		t.Errorf("Authorization = %q, want %q", r.auth, "Bearer sk-test")
	}
	if r.body.Model != "qwen-plus" {
		t.Errorf("model = %q, want qwen-plus", r.body.Model)
	}
	if len(r.body.Messages) != 2 || r.body.Messages[0].Role != "system" || r.body.Messages[1].Role != "user" {
		t.Fatalf("messages = %+v, want a system and a user message", r.body.Messages)
	}
	if r.body.ResponseFormat == nil || r.body.ResponseFormat.Type != "json_object" {
		t.Errorf("response_format = %+v, want json_object", r.body.ResponseFormat)
	}
	user := r.body.Messages[1].Content
	if !strings.Contains(user, llmQuestion) {
		t.Errorf("user message lacks the question:\n%s", user)
	}
	for _, a := range llmArticles[:3] {
		for _, s := range []string{a.ID, a.Title, a.Answer} {
			if !strings.Contains(user, s) {
				t.Errorf("user message lacks %q of article %s:\n%s", s, a.ID, user)
			}
		}
	}
	if sys := r.body.Messages[0].Content; !strings.Contains(sys, "正常情况下") || !strings.Contains(sys, "JSON") {
		t.Errorf("system prompt lacks 正常情况下 or JSON:\n%s", sys)
	}
}

func TestLLMPhraseReplies(t *testing.T) {
	long := strings.Repeat("亲，正常情况下48小时内发货。", 200)
	tests := []struct {
		name    string
		content string
		want    Phrasing
		wantErr string // a part of the error; empty means no error
	}{
		{name: "fenced", content: "```json\n" + replyJSON(true, "invoice", "亲，您可以在订单详情页申请电子发票哦。") + "\n```",
			want: Phrasing{Covered: true, ArticleID: "invoice", Text: "亲，您可以在订单详情页申请电子发票哦。"}},
		{name: "prose around", content: "好的，{以下是回复}：\n" + replyJSON(true, "coupon", "亲，优惠券会在结算页自动抵扣哦。") + "\n希望有帮助",
			want: Phrasing{Covered: true, ArticleID: "coupon", Text: "亲，优惠券会在结算页自动抵扣哦。"}},
		{name: "not covered", content: replyJSON(false, "", ""), want: Phrasing{Covered: false}},
		{name: "not covered citing", content: replyJSON(false, "invoice", "抱歉"), want: Phrasing{Covered: false}},
		{name: "capped", content: replyJSON(true, "shipping-time", long),
			want: Phrasing{Covered: true, ArticleID: "shipping-time", Text: string([]rune(long)[:maxPhrasingRunes])}},
		{name: "unknown article", content: replyJSON(true, "return-policy", "亲，七天无理由退货。"), wantErr: "return-policy"},
		{name: "covered without article", content: replyJSON(true, "", "亲，七天无理由退货。"), wantErr: "not given"},
		{name: "not JSON", content: "亲，48小时内发货。", wantErr: "not a JSON object"},
		{name: "empty content", content: "", wantErr: "not a JSON object"},
		{name: "wrong types", content: `{"covered": "yes", "article": 3, "answer": ["a"]}`, wantErr: "not a JSON object"},
		{name: "no covered", content: `{"article": "invoice", "answer": "亲，可以开发票。"}`, wantErr: "covered"},
		{name: "one character", content: replyJSON(true, "invoice", "好"), wantErr: "single character"},
		{name: "blank answer", content: replyJSON(true, "invoice", " \n "), wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeLLM(t, replyWith(tt.content))
			l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL()})
			got, err := l.Phrase(context.Background(), llmQuestion, llmArticles)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Phrase: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Phrase = %+v, want an error containing %q", got, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Phrase error %q, want one containing %q", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Phrase = %+v, want %+v", got, tt.want)
			}
			if n := utf8.RuneCountInString(got.Text); n > maxPhrasingRunes {
				t.Errorf("Phrase text has %d runes, more than %d", n, maxPhrasingRunes)
			}
		})
	}
}

func TestLLMPhraseBadResponses(t *testing.T) {
	secret := "SECRET-BODY-" + llmQuestion
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{name: "no choices", status: 200, body: `{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`},
		{name: "body not JSON", status: 200, body: "<html>" + secret + "</html>"},
		{name: "500 plain", status: 500, body: "internal error " + secret},
		{name: "500 OpenAI error", status: 500, body: `{"error":{"message":"` + secret + `","type":"server_error","code":null}}`},
		{name: "401", status: 401, body: `{"error":{"message":"Incorrect API key provided: sk-te***st ` + secret + `","type":"invalid_request_error","code":"invalid_api_key"}}`},
		{name: "429", status: 429, body: `{"error":{"message":"` + secret + `","type":"rate_limit_error"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeLLM(t, func(w http.ResponseWriter, _ *http.Request, _ wireRequest) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL()})
			got, err := l.Phrase(context.Background(), llmQuestion, llmArticles)
			if err == nil {
				t.Fatalf("Phrase = %+v, want an error", got)
			}
			if got != (Phrasing{}) {
				t.Errorf("Phrase = %+v with the error, want the zero Phrasing", got)
			}
			// Errors get logged: they must not carry what the server said.
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), llmQuestion) {
				t.Errorf("error %q quotes the response body", err)
			}
			if tt.status != 200 && !strings.Contains(err.Error(), fmt.Sprint(tt.status)) {
				t.Errorf("error %q does not name status %d", err, tt.status)
			}
		})
	}
}

func TestLLMPhraseTimeout(t *testing.T) {
	release := make(chan struct{})
	f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, _ wireRequest) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL(), Timeout: 50 * time.Millisecond})

	// The outer deadline is far away: only the LLM's own Timeout can end the call early.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	got, err := l.Phrase(ctx, llmQuestion, llmArticles)
	if err == nil {
		t.Fatalf("Phrase = %+v, want a timeout error", got)
	}
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("Phrase error %v, want context.DeadlineExceeded or a net timeout", err)
	}
	if ctx.Err() != nil || time.Since(start) > 5*time.Second {
		t.Errorf("Phrase returned after %v: the 50ms Timeout was not applied", time.Since(start))
	}
}

func TestLLMPhraseCanceled(t *testing.T) {
	f := newFakeLLM(t, replyWith(replyJSON(true, "invoice", "亲，可以开电子发票哦。")))
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Phrase(ctx, llmQuestion, llmArticles); !errors.Is(err, context.Canceled) {
		t.Errorf("Phrase error %v, want context.Canceled", err)
	}
}

func TestLLMMaxArticles(t *testing.T) {
	f := newFakeLLM(t, replyWith(replyJSON(true, "coupon", "亲，优惠券会在结算页自动抵扣哦。")))
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL(), MaxArticles: 2})

	// The third article was not sent, so the model cannot have cited it.
	if got, err := l.Phrase(context.Background(), llmQuestion, llmArticles); err == nil {
		t.Errorf("Phrase citing the unsent article = %+v, want an error", got)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	user := reqs[0].body.text()
	for i, a := range llmArticles {
		sent := strings.Contains(user, a.Answer) || strings.Contains(user, "id: "+a.ID+"\n")
		if want := i < 2; sent != want {
			t.Errorf("article %s sent = %v, want %v", a.ID, sent, want)
		}
	}
}

func TestLLMDefaultMaxArticles(t *testing.T) {
	f := newFakeLLM(t, replyWith(replyJSON(true, "shipping-time", goodAnswer)))
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL()})
	if _, err := l.Phrase(context.Background(), llmQuestion, llmArticles); err != nil {
		t.Fatalf("Phrase: %v", err)
	}
	user := f.requests()[0].body.text()
	for i, a := range llmArticles {
		if sent, want := strings.Contains(user, a.Answer), i < 3; sent != want {
			t.Errorf("article %s sent = %v, want %v", a.ID, sent, want)
		}
	}
}

func TestLLMNoAPIKey(t *testing.T) {
	f := newFakeLLM(t, replyWith(replyJSON(true, "shipping-time", goodAnswer)))
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL() + "/"})
	if _, err := l.Phrase(context.Background(), llmQuestion, llmArticles); err != nil {
		t.Fatalf("Phrase: %v", err)
	}
	if auth := f.requests()[0].auth; auth != "" {
		t.Errorf("Authorization = %q without an API key, want none", auth)
	}
}

// TestLLMWithoutJSONMode covers a compatible server that rejects response_format: the
// request is repeated without it, and later requests leave it out.
func TestLLMWithoutJSONMode(t *testing.T) {
	f := newFakeLLM(t, func(w http.ResponseWriter, _ *http.Request, req wireRequest) {
		if req.ResponseFormat != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"response_format is not supported","type":"invalid_request_error"}}`)
			return
		}
		writeCompletion(w, req.Model, replyJSON(true, "shipping-time", goodAnswer))
	})
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL()})
	for i := range 2 {
		got, err := l.Phrase(context.Background(), llmQuestion, llmArticles)
		if err != nil {
			t.Fatalf("Phrase %d: %v", i, err)
		}
		if got.ArticleID != "shipping-time" {
			t.Errorf("Phrase %d = %+v, want shipping-time", i, got)
		}
	}
	var withFormat []bool
	for _, r := range f.requests() {
		withFormat = append(withFormat, r.body.ResponseFormat != nil)
	}
	if want := []bool{true, false, false}; fmt.Sprint(withFormat) != fmt.Sprint(want) {
		t.Errorf("requests with response_format = %v, want %v", withFormat, want)
	}
}

func TestLLMPhraseInput(t *testing.T) {
	f := newFakeLLM(t, replyWith(replyJSON(true, "shipping-time", goodAnswer)))
	l := newTestLLM(t, LLMConfig{BaseURL: f.baseURL()})
	if _, err := l.Phrase(context.Background(), llmQuestion, nil); err == nil {
		t.Error("Phrase without articles: want an error")
	}
	if _, err := l.Phrase(context.Background(), "  ", llmArticles); err == nil {
		t.Error("Phrase of a blank question: want an error")
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("server got %d requests for bad input, want 0", n)
	}
}

func TestNewLLM(t *testing.T) {
	tests := []struct {
		name string
		cfg  LLMConfig
		ok   bool
	}{
		{"complete", LLMConfig{BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini"}, true},
		{"local server", LLMConfig{BaseURL: "http://127.0.0.1:11434/v1", Model: "qwen2.5:7b", Timeout: time.Second, MaxArticles: 5}, true},
		{"no base URL", LLMConfig{Model: "gpt-4o-mini"}, false},
		{"no model", LLMConfig{BaseURL: "https://api.openai.com/v1"}, false},
		{"blank model", LLMConfig{BaseURL: "https://api.openai.com/v1", Model: " "}, false},
		{"not a URL", LLMConfig{BaseURL: "api.openai.com/v1", Model: "gpt-4o-mini"}, false},
		{"negative timeout", LLMConfig{BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini", Timeout: -time.Second}, false},
		{"negative max articles", LLMConfig{BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini", MaxArticles: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLLM(tt.cfg)
			if tt.ok != (err == nil) {
				t.Fatalf("NewLLM(%+v) error = %v, want ok %v", tt.cfg, err, tt.ok)
			}
			if tt.ok && l == nil {
				t.Fatal("NewLLM returned nil without an error")
			}
		})
	}
	l, err := NewLLM(LLMConfig{BaseURL: "https://api.openai.com/v1", Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if l.timeout != 8*time.Second || l.maxArticles != 3 {
		t.Errorf("defaults: timeout %v, max articles %d; want 8s and 3", l.timeout, l.maxArticles)
	}
}
