package widget

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/rs/zerolog"
)

// Ask handles POST /api/bot/ask {text, article?, lang?}: the bot's decision as JSON. Like
// the widget it is open to the shop's pages without login, so it answers within the
// client's LimitAsk, from Config.Bot (which records no unanswered question and, unless
// the shop turned it on, calls no language model), and answers an identical question
// (the same normalised text, article and language) from a short cache. The texts the
// shop writes itself (small-talk replies, the clarify prompt) are in lang, or, without
// it, in the language the question is written in (askLang).
func (g *Gateway) Ask(w http.ResponseWriter, r *http.Request) {
	if !g.cors(w, r) {
		writeAPIError(w, http.StatusForbidden, "forbidden", "origin not allowed")
		return
	}
	if ok, wait := g.allow(r.Context(), LimitAsk, g.clientOf(r, nil)); !ok {
		writeLimited(w, wait)
		return
	}
	var req struct {
		Text    string `json:"text"`
		Article string `json:"article"`
		Lang    string `json:"lang"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxFrameBytes))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeAPIError(w, http.StatusRequestEntityTooLarge, "too_large", "request body over 8 KiB")
		case errors.Is(err, io.EOF):
			writeAPIError(w, http.StatusBadRequest, "bad_json", "empty body")
		default:
			writeAPIError(w, http.StatusBadRequest, "bad_json", "body is not valid JSON")
		}
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" || utf8.RuneCountInString(text) > MaxTextRunes {
		writeAPIError(w, http.StatusBadRequest, "bad_request", "text must be 1-1000 characters")
		return
	}
	l := askLang(req.Lang, text)
	var gen uint64
	if g.cfg.Generation != nil {
		gen = g.cfg.Generation()
	}
	key := fmt.Sprintf("%d\x00%s\x00%s\x00%s", gen, l, req.Article, bot.Normalize(text))
	if body, ok := g.answers.get(key); ok {
		writeAnswer(w, body)
		return
	}
	d, err := g.bot.Decide(r.Context(), bot.Input{Text: text, ArticleID: req.Article})
	if err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("bot decision")
		writeAPIError(w, http.StatusServiceUnavailable, "unavailable", "the bot is unavailable")
		return
	}
	switch d.Action {
	case triage.SmallTalk:
		d.Text = g.desk.SmallTalkReply(l, d.Intent, false)
	case triage.Clarify:
		d.Text = g.desk.PhrasesFor(l).Clarify
	}
	if d.Suggestions == nil {
		d.Suggestions = []triage.ArticleRef{}
	}
	if d.Hits == nil {
		d.Hits = []bot.ScoredHit{}
	}
	body, err := json.Marshal(d)
	if err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("encoding a bot decision")
		writeAPIError(w, http.StatusInternalServerError, "internal", "the answer could not be written")
		return
	}
	g.answers.put(key, body)
	writeAnswer(w, body)
}

func writeAnswer(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(body, '\n'))
}

// askLang is the language of an answer to text: lang when given (handoff.ParseLang),
// else English for a question in Latin letters without a Chinese character, else Chinese.
func askLang(lang, text string) handoff.Lang {
	if lang != "" {
		return handoff.ParseLang(lang)
	}
	latin := false
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			return handoff.LangZH
		}
		latin = latin || r < unicode.MaxASCII && unicode.IsLetter(r)
	}
	if latin {
		return handoff.LangEN
	}
	return handoff.LangZH
}

// AskPreflight handles OPTIONS /api/bot/ask.
func (g *Gateway) AskPreflight(w http.ResponseWriter, r *http.Request) {
	if !g.cors(w, r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// cors sets the CORS headers for an allowed origin and reports whether it is allowed.
// No credentials are ever allowed: the widget uses none.
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request) bool {
	if !g.originAllowed(r) {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Add("Vary", "Origin")
	}
	return true
}

func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"code": code, "message": message}})
}
