package web

// Code is the code of an error answer: a closed set that clients branch on (listed with
// their statuses in docs/api.md). What went wrong in words is the Error's message.
type Code string

// The codes of the whole HTTP API.
const (
	CodeBadRequest Code = "bad_request" // 400: a field is missing or wrong
	CodeBadJSON    Code = "bad_json"    // 400, 415: the body is not the JSON asked for
	// 400: a text holds invalid UTF-8, a control character or a bidi override, or only
	// invisible characters (contactguard.Garbled).
	CodeBadMessage     Code = "bad_message"
	CodeBadCredentials Code = "bad_credentials" // 401: wrong user name or password
	CodeUnauthorized   Code = "unauthorized"    // 401: not signed in
	CodeForbidden      Code = "forbidden"       // 403: the role, the group or the origin may not
	CodeBadToken       Code = "bad_token"       // 403: a shopper's conversation or token is wrong
	CodeNotOwner       Code = "not_owner"       // 403: the chat is another agent's
	CodeNotFound       Code = "not_found"       // 404
	CodeTooLarge       Code = "too_large"       // 413
	// 415: an upload that is no JPEG, PNG, WebP or GIF image, whatever it claims.
	CodeUnsupportedType Code = "unsupported_type"
	// 400: a message names an attachment that was not uploaded to its conversation.
	CodeBadAttachment  Code = "bad_attachment"
	CodeBlockedContact Code = "blocked_contact" // 422: a reply with outside contact details
	// 422: an edited phrase the reply guard refuses (outside contact details, a one-word
	// reply), an unknown key or bad opening hours.
	CodeBadPhrase   Code = "bad_phrase"
	CodeInternal    Code = "internal"    // 500
	CodeUnavailable Code = "unavailable" // 503: the storage does not answer

	// 429: over a limit on the shoppers' requests; Retry-After says when to try again.
	CodeRateLimited Code = "rate_limited"

	// 409: the state forbids the change.
	CodeAlreadyClaimed   Code = "already_claimed"
	CodeNotQueued        Code = "not_queued"
	CodeResolved         Code = "conversation_resolved"
	CodeUserExists       Code = "user_exists"
	CodeTokenExists      Code = "token_exists"
	CodeAtCapacity       Code = "at_capacity"
	CodeAgentUnavailable Code = "agent_unavailable"
	CodeAftersaleStays   Code = "aftersale_stays"
	CodeBusy             Code = "busy"
	CodeConfirmShort     Code = "confirm_short"
	CodeTooManyNotes     Code = "too_many_notes"
	CodeBadTransition    Code = "bad_transition"
	CodeLastAdmin        Code = "last_admin" // the last enabled admin stays an enabled admin

	// 403: the user is disabled (账号已停用).
	CodeDisabled Code = "user_disabled"
	// 403: the current password given to change one's own is wrong.
	CodeWrongPassword Code = "wrong_password"

	// The knowledge API's.
	CodeInvalid       Code = "invalid"        // 400: the article is not valid
	CodeUnsafeContent Code = "unsafe_content" // 400: the article holds script or a bad link
	CodeExists        Code = "exists"         // 409: an article with the id exists
	CodeConflict      Code = "conflict"       // 409: the article changed since it was read
)
