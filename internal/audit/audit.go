package audit

import (
	"net/netip"

	"context"
	"errors"
	"fmt"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// Entry is one record of the audit log.
type Entry struct {
	// ID orders entries and is the cursor of List's before; the store gives it.
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Actor is the user who acted ("token:NAME" for an API token, the name typed for
	// a failed sign-in, "system" for the server itself).
	Actor string `json:"actor"`
	// Action is what was done, one of the Action constants.
	Action string `json:"action"`
	// Target is whom or what it was done to: a user, a token, a conversation, an
	// article, a shopper.
	Target string `json:"target,omitempty"`
	// Detail says more: the fields that changed, a reason. It never holds a password
	// or a contact detail in clear.
	Detail string `json:"detail,omitempty"`
	// IP is the address the request came from.
	IP string `json:"ip,omitempty"`
}

// The actions.
const (
	ActionLogin          = "login"
	ActionLoginFailed    = "login_failed"
	ActionLoginLocked    = "login_locked"
	ActionLogout         = "logout"
	ActionUserCreated    = "user_created"
	ActionUserChanged    = "user_changed"
	ActionRoleChanged    = "role_changed"
	ActionUserDisabled   = "user_disabled"
	ActionUserEnabled    = "user_enabled"
	ActionPasswordReset  = "password_reset"
	ActionPasswordChange = "password_changed"
	ActionTokenAdded     = "token_added"
	ActionTokenRevoked   = "token_revoked"
	ActionGuardOverride  = "guard_override"
	ActionArticleDeleted = "article_deleted"
	ActionShopperErased  = "shopper_erased"
	ActionShopperExport  = "shopper_exported"
	ActionRetentionSweep = "retention_sweep"
)

// Store keeps the entries. BoltStore and RedisStore implement it and pass the same
// tests.
type Store interface {
	// Append stores e, giving it its ID, and drops the oldest entries beyond max.
	Append(ctx context.Context, e Entry, max int) (Entry, error)
	// List returns up to limit entries, newest first, older than the entry before (all
	// when before is ""). A before that is no ID gives ErrBadCursor.
	List(ctx context.Context, limit int, before string) ([]Entry, error)
}

// ErrBadCursor is returned for a before that is not an entry's ID.
var ErrBadCursor = errors.New("audit: bad cursor")

// DefaultMaxEntries is how many entries the log keeps unless told otherwise.
const DefaultMaxEntries = 100_000

// Config configures a Log.
type Config struct {
	// Store is required.
	Store Store
	// MaxEntries is how many entries are kept; 0 means DefaultMaxEntries.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
	// TrustedProxies are the proxies whose X-Forwarded-For names the client an entry
	// records (ratelimit.ClientIP); empty trusts none.
	TrustedProxies []netip.Prefix
}

// Log writes and reads the audit log. A nil *Log records nothing, so that parts may run
// without one (in tests).
type Log struct {
	store   Store
	proxies []netip.Prefix
	max     int
	now     func() time.Time
	log     zerolog.Logger
}

// New returns a Log.
func New(cfg Config) (*Log, error) {
	if cfg.Store == nil {
		return nil, errors.New("audit: Config.Store is required")
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Log{store: cfg.Store, max: cfg.MaxEntries, now: cfg.Now, log: cfg.Logger, proxies: cfg.TrustedProxies}, nil
}

// Add records that actor did action to target, with detail, from the address of r (nil
// for none). The log is written before the answer; a failure to write it is logged,
// not answered: the action is done already.
func (l *Log) Add(r *http.Request, actor, action, target, detail string) {
	if l == nil {
		return
	}
	ctx := context.Background()
	ip := ""
	if r != nil {
		ctx, ip = context.WithoutCancel(r.Context()), ClientIP(r, l.proxies)
	}
	e := Entry{At: l.now().UTC(), Actor: actor, Action: action, Target: target, Detail: detail, IP: ip}
	if _, err := l.store.Append(ctx, e, l.max); err != nil {
		l.log.Error().Err(err).Str("action", action).Str("actor", actor).Str("target", target).Msg("writing the audit log")
	}
}

// List returns up to limit entries (1-500, 50 when 0), newest first, older than the
// entry before.
func (l *Log) List(ctx context.Context, limit int, before string) ([]Entry, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxLimit)
	es, err := l.store.List(ctx, limit, before)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return es, nil
}

// MaxLimit is the most entries one List returns.
const MaxLimit = 500

// ClientIP is the address a request came from: X-Forwarded-For's when the request
// came through one of trusted (ratelimit.ClientIP), else the host of its RemoteAddr;
// any client may send X-Forwarded-For, so it is believed from trusted proxies alone.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	if a := ratelimit.ClientIP(r, trusted); a.IsValid() {
		return a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
