//go:build legacyconsole

package handoff

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
)

// maxBody bounds every JSON request body of the console API.
const maxBody = 64 << 10

// apiError is what a client sees of an error: a code from a closed set and a message for
// people. The cause stays in the log.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: message}})
}

// writeFault logs an unexpected error with the request's logger and answers 500, or 503
// when the storage is unreachable.
func writeFault(w http.ResponseWriter, r *http.Request, err error) {
	zerolog.Ctx(r.Context()).Error().Err(err).Str("path", r.URL.Path).Msg("request failed")
	writeError(w, http.StatusServiceUnavailable, "unavailable", "服务暂时不可用，请稍后重试")
}

// readJSON decodes the request body into v, answering the client itself on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", "请求须为 JSON")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "请求内容过大")
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "bad_json", "请求内容为空")
		default:
			writeError(w, http.StatusBadRequest, "bad_json", "请求内容不是有效的 JSON")
		}
		return false
	}
	return true
}

// writeDeskError maps the desk's errors to statuses and codes.
func writeDeskError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "会话不存在")
	case errors.Is(err, ErrAlreadyClaimed):
		writeError(w, http.StatusConflict, "already_claimed", "该会话已被其他客服接入")
	case errors.Is(err, ErrNotQueued):
		writeError(w, http.StatusConflict, "not_queued", "该会话不在排队中")
	case errors.Is(err, ErrResolved):
		writeError(w, http.StatusConflict, "conversation_resolved", "该会话已结束")
	case errors.Is(err, ErrNotOwner):
		writeError(w, http.StatusForbidden, "not_owner", "您没有接入该会话")
	case errors.Is(err, ErrAtCapacity):
		writeError(w, http.StatusConflict, "at_capacity", "您的同时接待数已达上限")
	case errors.Is(err, ErrAgentUnavailable):
		writeError(w, http.StatusConflict, "agent_unavailable", "对方客服不在线")
	case errors.Is(err, ErrAftersaleStays):
		writeError(w, http.StatusConflict, "aftersale_stays", "售后会话须由人工处理，不能转回机器人")
	case errors.Is(err, ErrUnknownGroup):
		writeError(w, http.StatusBadRequest, "bad_request", "未知技能组")
	case errors.Is(err, ErrBusy):
		writeError(w, http.StatusConflict, "busy", "会话正在变更，请稍后重试")
	case errors.Is(err, ErrWrongStatus):
		writeError(w, http.StatusConflict, "not_queued", "该会话当前状态不允许此操作")
	default:
		writeFault(w, r, err)
	}
}
