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
	ErrUserExists     = errors.New("user already exists")
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrWrongStatus is returned when a change does not fit the conversation's status.
	ErrWrongStatus = errors.New("conversation status does not allow this")
)
