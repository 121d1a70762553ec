package account

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/kefu-im/kefu/internal/secret"
	"golang.org/x/crypto/bcrypt"
)

// Config configures a Service.
type Config struct {
	// Store keeps the users, sessions and tokens; required.
	Store Store
	// Groups are the skill groups a user may be in: the desk's (handoff.DeskConfig.Groups);
	// required. The admin EnsureAdmin creates is in the first.
	Groups []string
	// SessionTTL is how long a sign-in lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// PasswordCost is the bcrypt cost of new password hashes; 0 means
	// bcrypt.DefaultCost. Tests lower it to bcrypt.MinCost.
	PasswordCost int
	// InsecureCookie drops the Secure flag of the session cookie, for plain-HTTP
	// deployments that are not on localhost. Browsers accept Secure cookies on
	// http://localhost, so the default suits local use and HTTPS.
	InsecureCookie bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Audit receives the API's sign-ins, sign-outs, changes of users, passwords and
	// API tokens; nil records none.
	Audit *audit.Log
	// Limiter keeps the limits of failed sign-ins (login.go), in Redis when nodes
	// share one; nil limits nothing.
	Limiter *ratelimit.Limiter
	// LoginRules are the rules RuleLoginAccount and RuleLoginIP; a rule not among them
	// is DefaultLoginRules'.
	LoginRules []ratelimit.Rule
	// TrustedProxies are the addresses whose X-Forwarded-For names the client
	// (KEFU_TRUSTED_PROXIES); the sign-in limits and the audit log go by it.
	TrustedProxies []netip.Prefix
}

// Service keeps Kefu's users, signs them in and out, checks sessions and API tokens,
// and admits requests by role (Require).
type Service struct {
	store  changingStore
	cache  *sessionCache
	groups []string
	ttl    time.Duration
	cost   int
	secure bool
	now    func() time.Time
	audit  *audit.Log
	gate   loginGate
	// ends closes the event streams of a session that ends on this node (Ends).
	ends sessionEnds
	// dummyHash is compared against when a user does not exist, so that signing in
	// takes as long for an unknown name as for a wrong password.
	dummyHash []byte
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || len(cfg.Groups) == 0 {
		return nil, errors.New("account: Config.Store and Groups are required")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.PasswordCost == 0 {
		cfg.PasswordCost = bcrypt.DefaultCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("kefu-dummy-password"), cfg.PasswordCost)
	if err != nil {
		return nil, fmt.Errorf("account: Config.PasswordCost: %w", err)
	}
	rule := func(name string) ratelimit.Rule {
		for _, r := range cfg.LoginRules {
			if r.Name == name {
				return r
			}
		}
		return ratelimit.Find(DefaultLoginRules, name)
	}
	cache := &sessionCache{}
	bc, _ := cfg.Store.(Broadcaster)
	return &Service{
		store: changingStore{Store: cfg.Store, cache: cache, bc: bc}, cache: cache, groups: slices.Clone(cfg.Groups), ttl: cfg.SessionTTL, cost: cfg.PasswordCost,
		secure: !cfg.InsecureCookie, now: cfg.Now, audit: cfg.Audit, dummyHash: dummy,
		gate: loginGate{lim: cfg.Limiter, account: rule(RuleLoginAccount), address: rule(RuleLoginIP), proxies: cfg.TrustedProxies},
	}, nil
}

// Groups returns the skill groups a user may be in.
func (s *Service) Groups() []string { return slices.Clone(s.groups) }

// AddUser creates a user with a password of at least MinPasswordLen characters, a role
// and one of the groups. A field that is not right gives a Refusal (ErrBadUser); a name
// in use, ErrUserExists.
func (s *Service) AddUser(ctx context.Context, name, password string, role Role, group string) (User, error) {
	u, err := newUser(name, password, role, group, s.groups, s.cost)
	if err != nil {
		return User{}, err
	}
	if err := s.store.PutUser(ctx, u, true); err != nil {
		return User{}, err
	}
	u.PassHash = ""
	return u, nil
}

// EnsureAdmin creates the user "admin" with a random password when no admin exists, and
// returns that password; it returns "" when an admin exists already. The admin must
// change the password at their first sign-in (MustChangePassword). Nodes that start
// together on an empty store all try: the store creates the user if absent, atomically,
// so one node creates it and prints its password, and the others return "".
func (s *Service) EnsureAdmin(ctx context.Context) (string, error) {
	users, err := s.store.Users(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if u.Role == RoleAdmin {
			return "", nil
		}
	}
	password := secret.New("")[:16]
	u, err := newUser("admin", password, RoleAdmin, s.groups[0], s.groups, s.cost)
	if err != nil {
		return "", err
	}
	u.MustChangePassword = true
	err = s.store.PutUser(ctx, u, true)
	if errors.Is(err, ErrUserExists) {
		// Another node created it meanwhile, or a user named admin is no admin.
		if other, rerr := s.store.User(ctx, "admin"); rerr == nil && other.Role == RoleAdmin {
			return "", nil
		}
		return "", fmt.Errorf("creating the admin: a user named admin exists and is no admin; make one of the users an admin with kefu user")
	}
	if err != nil {
		return "", fmt.Errorf("creating the admin: %w", err)
	}
	return password, nil
}

// User returns the named user, without the password hash, or ErrNotFound. An API
// token's user ("token:NAME") is no user.
func (s *Service) User(ctx context.Context, name string) (User, error) {
	u, err := s.store.User(ctx, name)
	if err != nil {
		return User{}, fmt.Errorf("reading user %q: %w", name, err)
	}
	u.PassHash = ""
	return u, nil
}

// Users returns every user by name, without password hashes.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	us, err := s.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	for i := range us {
		us[i].PassHash = ""
	}
	slices.SortFunc(us, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return us, nil
}

// SetMaxChats sets how many chats the user may serve at once, 0 to MaxChatsLimit (0
// means the desk's default); another number gives a Refusal (ErrBadUser), an unknown
// user ErrNotFound. The desk reads the limit when the agent next claims or is given a
// chat; handoff.Desk.RenewCap applies it to an agent who is online now.
func (s *Service) SetMaxChats(ctx context.Context, name string, n int) (User, error) {
	if n < 0 || n > MaxChatsLimit {
		return User{}, refuse(ErrBadUser, "同时接待上限须为 0-%d", MaxChatsLimit)
	}
	u, err := s.store.User(ctx, name)
	if err != nil {
		return User{}, err
	}
	u.MaxChats = n
	if err := s.store.PutUser(ctx, u, false); err != nil {
		return User{}, err
	}
	u.PassHash = ""
	return u, nil
}

// Audit is the audit log the Service writes to (nil for none).
func (s *Service) Audit() *audit.Log { return s.audit }
