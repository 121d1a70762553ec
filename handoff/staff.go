package handoff

import (
	"context"

	"github.com/kefu-im/kefu/internal/account"
)

// Staff tells the desk about the people who serve chats: an agent's skill group and
// chat limit. account.Service is the one Kefu runs with.
type Staff interface {
	// User returns the named user, or an error wrapping account.ErrNotFound.
	User(ctx context.Context, name string) (account.User, error)
}
