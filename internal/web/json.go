package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// Error is what a client sees of an error, under the key "error" of the answer: a code
// from the closed set Code and a message for people. The cause stays in the log.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// WriteJSON answers v as JSON with status; JSON answers are never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// WriteError answers {"error": {"code": code, "message": message}} with status. The
// message is written for people; it never carries the cause of a failure.
func WriteError(w http.ResponseWriter, status int, code Code, message string) {
	WriteJSON(w, status, map[string]Error{"error": {Code: code, Message: message}})
}

// Fault answers an unexpected failure: it logs err with the request's logger
// (zerolog.Ctx, which carries the request id) and answers 503 unavailable, without the
// cause.
func Fault(w http.ResponseWriter, r *http.Request, err error) {
	zerolog.Ctx(r.Context()).Error().Err(err).Str("path", r.URL.Path).Msg("request failed")
	WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "服务暂时不可用，请稍后重试")
}

// DefaultMaxBody is the size limit of a JSON request body read by ReadJSON.
const DefaultMaxBody = 64 << 10

// JSONReader reads JSON request bodies. Its zero value reads bodies of up to
// DefaultMaxBody and ignores fields the target does not have.
type JSONReader struct {
	// MaxBytes bounds the body; 0 means DefaultMaxBody.
	MaxBytes int64
	// Strict refuses a body with a field the target does not have.
	Strict bool
}

// ReadJSON decodes the request body into v with the zero JSONReader.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	return JSONReader{}.Read(w, r, v)
}

// Read decodes the request body into v. When the body cannot be read it answers the
// client itself and returns false: 415 bad_json for a Content-Type other than JSON,
// 413 too_large past the size limit, 400 bad_json for an empty or malformed body (the
// message names what the decoder found wrong in it).
func (jr JSONReader) Read(w http.ResponseWriter, r *http.Request, v any) bool {
	limit := jr.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		WriteError(w, http.StatusUnsupportedMediaType, CodeBadJSON, "请求须为 JSON (the body must be JSON)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if jr.Strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			WriteError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("请求内容过大 (the body is larger than %s)", size(limit)))
		case errors.Is(err, io.EOF):
			WriteError(w, http.StatusBadRequest, CodeBadJSON, "请求内容为空 (empty body)")
		default:
			WriteError(w, http.StatusBadRequest, CodeBadJSON, "请求内容不是有效的 JSON: "+err.Error())
		}
		return false
	}
	return true
}

// size writes a byte count as people read it: 64 KiB, 1 MiB.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
