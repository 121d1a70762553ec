package account

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned for an unknown user or API token.
	ErrNotFound = errors.New("not found")
	// ErrUserExists is returned when a new user's name is taken.
	ErrUserExists = errors.New("user already exists")
	// ErrBadCredentials is returned for a wrong name or password, and for a session or
	// API token that is unknown, expired or revoked.
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrBadUser is the sentinel of a Refusal of a new user or of a user's chat limit.
	ErrBadUser = errors.New("用户信息无效")
	// ErrBadAPIToken is the sentinel of a Refusal of a new API token.
	ErrBadAPIToken = errors.New("API 令牌信息无效")
	// ErrDisabled is returned when a disabled user signs in with the right password.
	ErrDisabled = errors.New("user is disabled")
	// ErrLastAdmin is returned when a change would leave no enabled admin.
	ErrLastAdmin = errors.New("the last enabled admin cannot be disabled or demoted")
	// ErrWrongPassword is returned when the current password given to change one's own
	// is wrong.
	ErrWrongPassword = errors.New("wrong current password")
	// ErrAPITokenExists is returned when a new API token's name is taken.
	ErrAPITokenExists = errors.New("API token name already in use")
)

// Refusal is an error whose text is written for people: what they entered and why it is
// refused. A handler may show its Error to the client as it is, which it never does with
// other errors. It wraps the sentinel callers branch on (ErrBadUser, ErrBadAPIToken).
type Refusal struct {
	// Err is the sentinel.
	Err error
	// Reason says what to fix.
	Reason string
}

// Error returns the sentinel's text and the reason: "用户信息无效: 密码至少 8 个字符".
func (e *Refusal) Error() string { return e.Err.Error() + ": " + e.Reason }

// Unwrap returns the sentinel.
func (e *Refusal) Unwrap() error { return e.Err }

func refuse(sentinel error, format string, args ...any) error {
	return &Refusal{Err: sentinel, Reason: fmt.Sprintf(format, args...)}
}
