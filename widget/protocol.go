package widget

import (
	"context"
	"regexp"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/triage"
)

// Limits of the shopper protocol.
const (
	// MaxFrameBytes bounds a client frame. Compression is off, so it bounds the memory
	// a frame can take too.
	MaxFrameBytes = 8 << 10
	// MaxTextRunes bounds a shopper's message.
	MaxTextRunes = 1000
)

var (
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	ticketIDPattern = regexp.MustCompile(`^AS-[0-9]{8}-[0-9]{6}$`)
)

// Error codes of error frames (docs/protocol.md).
const (
	codeBadJSON     = "bad_json"
	codeUnknownType = "unknown_type"
	codeBadMessage  = "bad_message"
	codeBadToken    = "bad_token"
	codeRateLimited = "rate_limited"
	codeUnavailable = "unavailable"
	codeBadIdentity = "bad_identity"
	// codeBadTicket: the ticket named does not exist or is not this conversation's.
	codeBadTicket = "bad_ticket"
	// codeTicketChanged: the remedy answered is no longer the one waiting for an answer.
	codeTicketChanged = "ticket_changed"
	// codeBadForm: a leave_message frame's fields were refused; the message says which.
	codeBadForm = "bad_form"
	// codeNotQueued: a leave_message frame came when the chat is not waiting.
	codeNotQueued = "not_queued"
	// codeBadAttachment: a message names photos that were not uploaded to its
	// conversation, or more than handoff.MaxAttachments.
	codeBadAttachment = "bad_attachment"
	// codeBadRating: a rate frame's score is not 1–5 or its comment is over 200
	// characters; nothing was stored.
	codeBadRating = "bad_rating"
	// codeNotRatable: a rate frame came while the chat is not resolved.
	codeNotRatable = "not_ratable"
	// codeBadFeedback: a feedback frame names no bot answer (an unknown seq, a small-talk
	// reply, a system or agent message).
	codeBadFeedback = "bad_feedback"
	// codeConversationFull: the conversation's log is full (handoff.ErrLogFull); the
	// shopper starts a new one.
	codeConversationFull = "conversation_full"
)

// clientFrame is any frame a shopper's client sends.
type clientFrame struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Text    string `json:"text"`
	Article string `json:"article"`
	// Identity is the shop-signed shopper identity of a hello frame.
	Identity *identityFrame `json:"identity"`
	// Conversation and Token name the conversation a hello frame resumes: they stand in
	// for the URL's, which proxies and servers log.
	Conversation string `json:"conversation"`
	Token        string `json:"token"`
	// Ticket and Rev name the proposal a ticket_confirm or ticket_decline answers.
	Ticket string `json:"ticket"`
	Rev    int64  `json:"rev"`
	// Contact and Order go with the Text of a leave_message frame.
	Contact string `json:"contact"`
	Order   string `json:"order"`
	// Attachments are the ids of photos uploaded to the conversation
	// (POST /api/uploads) that a message frame carries.
	Attachments []string `json:"attachments"`
	// Score and Comment are a rate frame's rating of the resolved chat.
	Score   *int   `json:"score"`
	Comment string `json:"comment"`
	// Seq and Helpful are a feedback frame's bot answer and verdict.
	Seq     int64 `json:"seq"`
	Helpful *bool `json:"helpful"`
}

// leaveOfferFrame offers a waiting shopper to leave a message instead of waiting.
type leaveOfferFrame struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
	// Text is the offer in the conversation's language: for reason offline the desk's
	// no_agent phrase with the opening hours.
	Text string `json:"text,omitempty"`
}

type welcomeFrame struct {
	Type         string `json:"type"`
	Conversation string `json:"conversation"`
	Token        string `json:"token"`
	Seq          int64  `json:"seq"`
	Epoch        string `json:"epoch"`
	Status       string `json:"status"`
	// Agent is the shown name of the chat's agent (never a login), AgentAvatar the URL
	// of their photo.
	Agent       string `json:"agent,omitempty"`
	AgentAvatar string `json:"agent_avatar,omitempty"`
	Reset       bool   `json:"reset,omitempty"`
	Greeting    string `json:"greeting,omitempty"`
	// Lang is the conversation's language (zh or en), that of every system message.
	Lang string `json:"lang"`
	// Hours are the desk's opening hours, written in Lang.
	Hours string `json:"hours,omitempty"`
	// Verified is true when the conversation belongs to a shop-verified shopper.
	Verified bool `json:"verified,omitempty"`
}

type ackFrame struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
}

type queueFrame struct {
	Type     string `json:"type"`
	Position int    `json:"position"`
	ETA      int64  `json:"eta_s,omitempty"` // omitted while nobody can serve the chat
}

type errorFrame struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	ID      string `json:"id,omitempty"`
	// RetryAfter is, for rate_limited, the seconds until the next try may succeed.
	RetryAfter int64 `json:"retry_after,omitempty"`
}

// errorMessages are the texts of the error codes, shown to shoppers.
var errorMessages = map[string]string{
	codeBadJSON:          "消息格式有误",
	codeUnknownType:      "不支持的消息类型",
	codeBadMessage:       "消息不能为空，且不超过 1000 字",
	codeBadToken:         "会话不存在或已失效",
	codeRateLimited:      "发送太快了，请稍后再试",
	codeUnavailable:      "服务暂时不可用，消息未发送，请稍后重试",
	codeBadIdentity:      "身份验证未通过，将以访客身份继续",
	codeBadTicket:        "工单不存在",
	codeTicketChanged:    "处理方案已更新或已答复，请查看最新的方案",
	codeBadForm:          "留言内容有误",
	codeNotQueued:        "会话已不在排队中，留言未提交，请直接发送消息",
	codeBadAttachment:    "图片未上传成功或已失效，请重新选择图片",
	codeBadRating:        "评价无效：请选择 1-5 星，评价内容不超过 200 字",
	codeNotRatable:       "会话结束后才能评价",
	codeBadFeedback:      "只能评价智能助手的回答",
	codeConversationFull: "本次会话消息已达上限，请开始新的会话",
}

// errorMessagesEN are errorMessages in English.
var errorMessagesEN = map[string]string{
	codeBadJSON:          "The message is malformed",
	codeUnknownType:      "This kind of message is not supported",
	codeBadMessage:       "A message cannot be empty or longer than 1000 characters",
	codeBadToken:         "This conversation does not exist or has expired",
	codeRateLimited:      "You are sending too fast, please try again in a moment",
	codeUnavailable:      "The service is unavailable right now; the message was not sent, please try again",
	codeBadIdentity:      "Your identity could not be verified; you continue as a guest",
	codeBadTicket:        "This ticket does not exist",
	codeTicketChanged:    "The solution was updated or answered already; please look at the latest one",
	codeBadForm:          "The message form is not valid",
	codeNotQueued:        "You are no longer waiting, so the message was not left; please write in the chat instead",
	codeBadAttachment:    "The photo was not uploaded or has expired; please choose it again",
	codeBadRating:        "The rating is not valid: choose 1 to 5 stars and write at most 200 characters",
	codeNotRatable:       "You can rate the chat once it has ended",
	codeBadFeedback:      "Only the assistant's answers can be rated",
	codeConversationFull: "This conversation is full; please start a new one",
}

// errFrame is the error frame of code in the shopper's language.
func errFrame(l handoff.Lang, code, id string) errorFrame {
	msg := errorMessages[code]
	if l == handoff.LangEN {
		msg = errorMessagesEN[code]
	}
	return errorFrame{Type: "error", Code: code, Message: msg, ID: id}
}

// logFrame is a record of the conversation's log as the shopper sees it. The record's
// server-side idempotency key is only shown for the shopper's own messages, where it is
// the client's id.
type logFrame struct {
	Type handoff.Kind `json:"type"`
	Seq  int64        `json:"seq"`
	From handoff.From `json:"from,omitempty"`
	ID   string       `json:"id,omitempty"`
	Text string       `json:"text,omitempty"`
	// Agent is the shown name of the agent (Desk.Person), never a login; AgentAvatar
	// the URL of their photo.
	Agent       string               `json:"agent,omitempty"`
	AgentAvatar string               `json:"agent_avatar,omitempty"`
	Article     *triage.ArticleRef   `json:"article,omitempty"`
	Suggestions []triage.ArticleRef  `json:"suggestions,omitempty"`
	SmallTalk   triage.Intent        `json:"smalltalk,omitempty"`
	Reason      triage.Reason        `json:"reason,omitempty"`
	Group       handoff.Group        `json:"group,omitempty"`
	Status      handoff.Status       `json:"status,omitempty"`
	Ticket      *handoff.TicketCard  `json:"ticket,omitempty"`
	Attachments []handoff.Attachment `json:"attachments,omitempty"`
	// Rating is a rating record's score and comment (without the agent's login).
	Rating *shownRating `json:"rating,omitempty"`
	// Feedback is a feedback record's bot answer and verdict.
	Feedback *handoff.Feedback `json:"feedback,omitempty"`
	TS       int64             `json:"ts"`
}

// shownRating is a rating as the shopper sees it.
type shownRating struct {
	Score   int    `json:"score"`
	Comment string `json:"comment,omitempty"`
}

// toFrame is record m as the shopper sees it; the URLs of its photos are signed now, and
// an agent is named by their shown name, never their login (docs/domain.md rule 18).
func (g *Gateway) toFrame(ctx context.Context, conv string, m handoff.Message) logFrame {
	if len(m.Attachments) > 0 {
		m = handoff.WithURLs([]handoff.Message{m}, conv, g.fileURL)[0]
	}
	f := logFrame{
		Type: m.Kind, Seq: m.Seq, From: m.From, Text: m.Text, Agent: m.Agent, Article: m.Article,
		Suggestions: m.Suggestions, SmallTalk: m.SmallTalk, Reason: m.Reason, Group: m.Group, Status: m.Status, Ticket: m.Ticket,
		Attachments: m.Attachments, Feedback: m.Feedback, TS: m.TS,
	}
	if m.Agent != "" {
		p := g.desk.Person(ctx, m.Agent)
		f.Agent, f.AgentAvatar = p.Name, account.AvatarURL(p.Avatar)
	}
	if m.Rating != nil {
		f.Rating = &shownRating{Score: m.Rating.Score, Comment: m.Rating.Comment}
	}
	if m.From == handoff.FromShopper {
		f.ID = m.ID
	}
	if m.Kind != handoff.KindMessage {
		f.From = ""
	}
	return f
}
