package knowledge

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
)

// readJSON reads the JSON request bodies of the editor API: an article's answer is at
// most kb.MaxAnswerBytes, and its questions add to that; a field the API does not know
// is refused, so that a typo in a sync job's request is not silently ignored.
var readJSON = web.JSONReader{MaxBytes: 1 << 20, Strict: true}.Read

// writeStoreError answers for an error of the store or of validation: the client's
// own mistakes get their code and a message that says what to fix; anything else is
// logged and answered 503.
func writeStoreError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, kb.ErrInvalid):
		web.WriteError(w, http.StatusBadRequest, web.CodeInvalid, userMessage(err, kb.ErrInvalid))
	case errors.Is(err, ErrUnsafeContent):
		web.WriteError(w, http.StatusBadRequest, web.CodeUnsafeContent, userMessage(err, ErrUnsafeContent))
	case errors.Is(err, kb.ErrNotFound):
		web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "文章或版本不存在 (article or version not found)")
	case errors.Is(err, kb.ErrExists):
		web.WriteError(w, http.StatusConflict, web.CodeExists, "该文章 ID 已存在 (an article with this id exists)")
	case errors.Is(err, kb.ErrConflict):
		web.WriteError(w, http.StatusConflict, web.CodeConflict, "文章已被他人修改，请刷新后再保存 (the article changed since you opened it)")
	default:
		web.Fault(w, r, err)
	}
}

// userMessage is err's text from the sentinel on: the validation's own words, without
// the wrapping context meant for the log.
func userMessage(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()); i >= 0 {
		return msg[i:]
	}
	return msg
}
