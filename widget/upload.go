package widget

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// identityHeader carries a shop-signed identity on an upload: the JSON of the hello
// frame's identity ({id, attrs, ts, sig}) in base64, since attributes may hold any
// text and headers only Latin-1.
const identityHeader = "Kefu-Identity"

// tokenHeader carries the conversation's token on an upload, out of the URL that
// proxies and access logs keep; the query's token is still read for widgets embedded
// before.
const tokenHeader = "Kefu-Token"

// Upload handles POST /api/uploads?conversation=ID with the conversation's token in the
// Kefu-Token header: one photo of the shopper for their conversation
// (files.Service.Accept), 201 {id, url, type, size}. The token is checked as the socket checks it, and a verified shopper's conversation takes
// uploads only with the same shopper's signed identity in the Kefu-Identity header:
// anything else is 403 bad_token. Uploads count against the client's LimitUpload; a
// photo sent before the first message stores the conversation (LimitConversation).
func (g *Gateway) Upload(w http.ResponseWriter, r *http.Request) {
	if !g.cors(w, r) {
		web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "origin not allowed")
		return
	}
	if g.cfg.Files == nil {
		web.WriteError(w, http.StatusServiceUnavailable, web.CodeUnavailable, "图片上传未开启")
		return
	}
	q := r.URL.Query()
	var sh *handoff.Shopper
	if h := r.Header.Get(identityHeader); h != "" {
		sh = g.uploadIdentity(r, h)
	}
	cl := g.clientOf(r, sh)
	if ok, wait := g.allow(r.Context(), LimitUpload, cl); !ok {
		writeLimited(w, wait)
		return
	}
	token := r.Header.Get(tokenHeader)
	if token == "" {
		token = q.Get("token")
	}
	conv, err := g.desk.OpenAs(r.Context(), q.Get("conversation"), token, verifiedID(sh))
	if errors.Is(err, handoff.ErrBadToken) {
		web.WriteError(w, http.StatusForbidden, web.CodeBadToken, errorMessages[codeBadToken])
		return
	}
	if err != nil {
		web.Fault(w, r, err)
		return
	}
	if !conv.Stored() {
		// A photo before the first message: the conversation is stored now, within the
		// client's limit of new conversations, for the shopper who uploads.
		if ok, wait := g.allow(r.Context(), LimitConversation, cl); !ok {
			writeLimited(w, wait)
			return
		}
		if sh == nil {
			sh = &handoff.Shopper{ID: visitorID()}
		}
		conv.Shopper, conv.Lang = sh, handoff.ParseLang(q.Get("lang")).Of()
		if conv, err = g.desk.Keep(r.Context(), conv); err != nil {
			web.Fault(w, r, err)
			return
		}
		g.metrics.ConversationsStarted.Inc()
	}
	if up, ok := g.cfg.Files.Accept(w, r, conv.ID); ok {
		zerolog.Ctx(r.Context()).Info().Str("conv", conv.ID).Str("file", up.ID).Str("type", up.Type).Int64("size", up.Size).
			Msg("shopper uploaded a photo")
	}
}

// uploadIdentity verifies the identity of an upload's header; nil when it is refused,
// and the upload goes on as an anonymous visitor's.
func (g *Gateway) uploadIdentity(r *http.Request, h string) *handoff.Shopper {
	var f identityFrame
	raw, err := base64.StdEncoding.DecodeString(h)
	if err == nil {
		err = json.Unmarshal(raw, &f)
	}
	if err != nil {
		zerolog.Ctx(r.Context()).Info().Err(err).Msg("upload identity refused: malformed header")
		return nil
	}
	sh, err := verifyIdentity(g.cfg.IdentitySecret, f, g.cfg.Now(), g.cfg.IdentityMaxAge)
	if err != nil {
		zerolog.Ctx(r.Context()).Info().Err(err).Msg("upload identity refused")
		return nil
	}
	return sh
}

// UploadPreflight handles OPTIONS /api/uploads: the widget's upload reports its
// progress, which makes browsers ask first.
func (g *Gateway) UploadPreflight(w http.ResponseWriter, r *http.Request) {
	if !g.cors(w, r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, "+identityHeader+", "+tokenHeader)
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// fileURL is the signed URL of a conversation's file, for the frames that carry it.
func (g *Gateway) fileURL(conv, id string) string {
	if g.cfg.Files == nil {
		return ""
	}
	return g.cfg.Files.URL(conv, id)
}
