package handoff

import "errors"

// Errors that callers branch on.
var (
	ErrNotFound       = errors.New("not found")
	ErrAlreadyClaimed = errors.New("conversation already claimed")
	ErrNotQueued      = errors.New("conversation is not waiting in the queue")
	ErrResolved       = errors.New("conversation is resolved")
	ErrNotOwner       = errors.New("agent does not own the conversation")
	ErrBadToken       = errors.New("wrong conversation token")
	// ErrWrongStatus is returned when a change does not fit the conversation's status.
	ErrWrongStatus = errors.New("conversation status does not allow this")
	// ErrAtCapacity is returned when an agent already owns as many chats as they may.
	ErrAtCapacity = errors.New("agent is at their concurrency limit")
	// ErrAgentUnavailable is returned for a transfer to an agent who is not online.
	ErrAgentUnavailable = errors.New("agent is not online")
	// ErrAftersaleStays is returned for handing an after-sales chat back to the bot:
	// after-sales is always a person's.
	ErrAftersaleStays = errors.New("after-sales chats stay with people")
	// ErrUnknownGroup is returned for a skill group the desk does not have.
	ErrUnknownGroup = errors.New("unknown skill group")
	// ErrBusy is returned when another change of the conversation is being written;
	// trying again shortly succeeds or gives the real answer.
	ErrBusy = errors.New("conversation is changing, try again")
	// ErrExists is returned by an engine's Create for an id that is stored already.
	ErrExists = errors.New("conversation exists already")
	// ErrLogFull is returned for a shopper's message to a conversation whose log is
	// full (DeskConfig.MaxLog): nothing more of the shopper's is stored in it.
	ErrLogFull = errors.New("conversation log is full")
	// ErrLimited is returned when the bot would hand a chat to people but the
	// shopper's client is over its limit of hand-offs (ShopperMessage.MayHandOff).
	ErrLimited = errors.New("over the limit of hand-offs")
)

// Errors of the Store's routing changes, handled inside the desk.
var (
	// errConflict: the routing state changed since it was read.
	errConflict = errors.New("routing state changed")
	// errBusy: another routing change of the conversation is pending.
	errBusy = errors.New("another routing change is pending")
)

// Errors of after-sales tickets (ticket.go).
var (
	// ErrBadPhrase wraps every reason an edit of the phrasebook is refused: an unknown
	// key, or a text the reply guard refuses; its text goes on with the language and
	// the key (en.greeting, zh.canned.ask_order) and the reason.
	ErrBadPhrase = errors.New("话术未通过检查")
	// ErrBadTicket wraps every reason a ticket's fields are refused; its text after the
	// sentinel is meant for the agent.
	ErrBadTicket = errors.New("工单信息无效")
	// ErrBadTransition is returned for a status change the ticket's status does not allow.
	ErrBadTransition = errors.New("ticket status does not allow this change")
	// ErrRoleNotAllowed is returned when the actor's role may not make a ticket change,
	// such as an agent approving a refund.
	ErrRoleNotAllowed = errors.New("role may not make this ticket change")
	// ErrTicketChanged is returned for a shopper's answer to a remedy that is no longer
	// the one proposed: withdrawn, changed, or answered already.
	ErrTicketChanged = errors.New("ticket changed since the shopper saw it")
)
