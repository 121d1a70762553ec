package console

import (
	"net/http"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
)

// deskErrors are the answers to the desk's errors.
var deskErrors = web.ErrorAnswers{
	{Err: handoff.ErrNotFound, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "会话不存在"},
	{Err: handoff.ErrNotReader, Status: http.StatusForbidden, Code: web.CodeForbidden, Message: "您无权查看该会话"},
	{Err: handoff.ErrAlreadyClaimed, Status: http.StatusConflict, Code: web.CodeAlreadyClaimed, Message: "该会话已被其他客服接入"},
	{Err: handoff.ErrNotQueued, Status: http.StatusConflict, Code: web.CodeNotQueued, Message: "该会话不在排队中"},
	{Err: handoff.ErrResolved, Status: http.StatusConflict, Code: web.CodeResolved, Message: "该会话已结束"},
	{Err: handoff.ErrNotOwner, Status: http.StatusForbidden, Code: web.CodeNotOwner, Message: "您没有接入该会话"},
	{Err: handoff.ErrAtCapacity, Status: http.StatusConflict, Code: web.CodeAtCapacity, Message: "您的同时接待数已达上限"},
	{Err: handoff.ErrAgentUnavailable, Status: http.StatusConflict, Code: web.CodeAgentUnavailable, Message: "对方客服不在线"},
	{Err: handoff.ErrAftersaleStays, Status: http.StatusConflict, Code: web.CodeAftersaleStays, Message: "售后会话须由人工处理，不能转回机器人"},
	{Err: handoff.ErrUnknownGroup, Status: http.StatusBadRequest, Code: web.CodeBadRequest, Message: "未知技能组"},
	{Err: handoff.ErrBusy, Status: http.StatusConflict, Code: web.CodeBusy, Message: "会话正在变更，请稍后重试"},
	{Err: handoff.ErrWrongStatus, Status: http.StatusConflict, Code: web.CodeNotQueued, Message: "该会话当前状态不允许此操作"},
	{Err: handoff.ErrBadAttachment, Status: http.StatusBadRequest, Code: web.CodeBadAttachment, Message: "图片须先上传到本会话，每条消息最多 9 张"},
}

// noteErrors are the answers to the errors of notes: the desk's, but for who may read
// and write them and how many a chat may have.
var noteErrors = append(web.ErrorAnswers{
	{Err: handoff.ErrNotOwner, Status: http.StatusForbidden, Code: web.CodeForbidden, Message: "只有接待客服和本组客服可以查看或添加备注"},
	{Err: handoff.ErrNoteLimit, Status: http.StatusConflict, Code: web.CodeTooManyNotes, Message: "该会话的备注已达上限"},
}, deskErrors...)

// ticketErrors are the answers to the errors of Tickets. The text of ErrBadTicket after
// the sentinel is written for the agent (badTicket).
var ticketErrors = web.ErrorAnswers{
	{Err: handoff.ErrNoConversation, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "会话不存在"},
	{Err: handoff.ErrNotReader, Status: http.StatusForbidden, Code: web.CodeForbidden, Message: "您无权查看或处理该工单"},
	{Err: handoff.ErrNotTheirs, Status: http.StatusForbidden, Code: web.CodeForbidden, Message: "只能为本组中您接待过的会话开工单"},
	{Err: handoff.ErrSelfApproval, Status: http.StatusForbidden, Code: web.CodeSelfApproval, Message: "不能审批自己提交或提议的工单，请由其他主管审批"},
	{Err: handoff.ErrOverCap, Status: http.StatusForbidden, Code: web.CodeOverCap, Message: "金额超过主管审批上限，须由管理员审批"},
	{Err: handoff.ErrNotFound, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "工单不存在"},
	{Err: handoff.ErrBadTicket, Status: http.StatusBadRequest, Code: web.CodeBadRequest},
	{Err: handoff.ErrBadTransition, Status: http.StatusConflict, Code: web.CodeBadTransition, Message: "工单当前状态不允许此操作"},
	{Err: handoff.ErrRoleNotAllowed, Status: http.StatusForbidden, Code: web.CodeForbidden, Message: "您的角色无权执行此操作"},
	{Err: handoff.ErrBusy, Status: http.StatusConflict, Code: web.CodeBusy, Message: "工单正在变更，请稍后重试"},
}

// maxChatsErrors are the answers to the errors of setting a user's chat limit. A Refusal
// of the limit is written for people: it is answered as it is.
var maxChatsErrors = web.ErrorAnswers{
	{Err: account.ErrBadUser, Status: http.StatusBadRequest, Code: web.CodeBadRequest},
	{Err: account.ErrNotFound, Status: http.StatusNotFound, Code: web.CodeNotFound, Message: "用户不存在"},
	{Err: account.ErrLastAdmin, Status: http.StatusConflict, Code: web.CodeLastAdmin, Message: "至少要保留一位启用的管理员"},
}
