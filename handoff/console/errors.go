package console

import (
	"errors"
	"net/http"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/web"
)

// writeDeskError maps the desk's errors to statuses and codes.
func writeDeskError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "会话不存在")
	case errors.Is(err, handoff.ErrAlreadyClaimed):
		web.WriteError(w, http.StatusConflict, web.CodeAlreadyClaimed, "该会话已被其他客服接入")
	case errors.Is(err, handoff.ErrNotQueued):
		web.WriteError(w, http.StatusConflict, web.CodeNotQueued, "该会话不在排队中")
	case errors.Is(err, handoff.ErrResolved):
		web.WriteError(w, http.StatusConflict, web.CodeResolved, "该会话已结束")
	case errors.Is(err, handoff.ErrNotOwner):
		web.WriteError(w, http.StatusForbidden, web.CodeNotOwner, "您没有接入该会话")
	case errors.Is(err, handoff.ErrAtCapacity):
		web.WriteError(w, http.StatusConflict, web.CodeAtCapacity, "您的同时接待数已达上限")
	case errors.Is(err, handoff.ErrAgentUnavailable):
		web.WriteError(w, http.StatusConflict, web.CodeAgentUnavailable, "对方客服不在线")
	case errors.Is(err, handoff.ErrAftersaleStays):
		web.WriteError(w, http.StatusConflict, web.CodeAftersaleStays, "售后会话须由人工处理，不能转回机器人")
	case errors.Is(err, handoff.ErrUnknownGroup):
		web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "未知技能组")
	case errors.Is(err, handoff.ErrBusy):
		web.WriteError(w, http.StatusConflict, web.CodeBusy, "会话正在变更，请稍后重试")
	case errors.Is(err, handoff.ErrWrongStatus):
		web.WriteError(w, http.StatusConflict, web.CodeNotQueued, "该会话当前状态不允许此操作")
	default:
		web.Fault(w, r, err)
	}
}
