package account

import "context"

// Store keeps users, sessions and API tokens. BoltStore and RedisStore implement it;
// both pass the same test suite. A Store only stores: the Service checks and decides.
type Store interface {
	// PutUser stores u under its name; with create true it fails with ErrUserExists
	// when the name is taken.
	PutUser(ctx context.Context, u User, create bool) error
	// User returns the user or ErrNotFound.
	User(ctx context.Context, name string) (User, error)
	// Users returns every user, in no particular order.
	Users(ctx context.Context) ([]User, error)

	// PutSession stores s under tokenHash, the hash of its token. The store may forget
	// it once s.Expires has passed.
	PutSession(ctx context.Context, tokenHash string, s Session) error
	// Session returns the session stored under tokenHash or ErrNotFound; it may return
	// one that has expired.
	Session(ctx context.Context, tokenHash string) (Session, error)
	// DeleteSession removes a session; an unknown one is no error.
	DeleteSession(ctx context.Context, tokenHash string) error

	// PutToken stores t under its ID.
	PutToken(ctx context.Context, t APIToken) error
	// Token returns the API token or ErrNotFound.
	Token(ctx context.Context, id string) (APIToken, error)
	// Tokens returns every API token, in no particular order.
	Tokens(ctx context.Context) ([]APIToken, error)
	// DeleteToken removes an API token, or returns ErrNotFound.
	DeleteToken(ctx context.Context, id string) error
}
