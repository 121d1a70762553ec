package knowledge

import (
	"net/http"

	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/kb"
)

// readJSON reads the JSON request bodies of the editor API: an article's answer is at
// most kb.MaxAnswerBytes, and its questions add to that; a field the API does not know
// is refused, so that a typo in a sync job's request is not silently ignored.
var readJSON = web.JSONReader{MaxBytes: 1 << 20, Strict: true}.Read

// storeErrors are the answers to the errors of the store and of validation: the
// client's own mistakes get their code and a message that says what to fix (a
// validation's own words); anything else is logged and answered 503.
var storeErrors = web.ErrorAnswers{
	{Err: kb.ErrInvalid, Status: http.StatusBadRequest, Code: web.CodeInvalid},
	{Err: ErrUnsafeContent, Status: http.StatusBadRequest, Code: web.CodeUnsafeContent},
	{Err: kb.ErrNotFound, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "文章或版本不存在 (article or version not found)"},
	{Err: kb.ErrExists, Status: http.StatusConflict, Code: web.CodeExists, Message: "该文章 ID 已存在 (an article with this id exists)"},
	{Err: kb.ErrConflict, Status: http.StatusConflict, Code: web.CodeConflict, Message: "文章已被他人修改，请刷新后再保存 (the article changed since you opened it)"},
}
