//go:build legacyconsole

package handoff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 8

var userNamePattern = regexp.MustCompile(`^[\p{L}\p{N}_.-]{1,32}$`)

// ErrBadUser wraps every reason a new user is refused.
var ErrBadUser = errors.New("用户信息无效")

// NewUser checks the fields and returns a User of one of DefaultGroups with the password
// hashed.
func NewUser(name, password, role, group string) (User, error) {
	return newUser(name, password, role, group, DefaultGroups)
}

func newUser(name, password, role, group string, groups []string) (User, error) {
	switch {
	case !userNamePattern.MatchString(name):
		return User{}, fmt.Errorf("%w: 用户名须为 1-32 个字母、数字或 _ . -", ErrBadUser)
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return User{}, fmt.Errorf("%w: 密码至少 %d 个字符", ErrBadUser, MinPasswordLen)
	case len(password) > 72:
		return User{}, fmt.Errorf("%w: 密码过长（最多 72 字节）", ErrBadUser)
	case role != RoleAgent && role != RoleLead && role != RoleEditor && role != RoleAdmin:
		return User{}, fmt.Errorf("%w: 未知角色 %q", ErrBadUser, role)
	case !slices.Contains(groups, group):
		return User{}, fmt.Errorf("%w: 未知技能组 %q", ErrBadUser, group)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return User{}, fmt.Errorf("hashing password: %w", err)
	}
	return User{Name: name, Role: role, Group: group, PassHash: string(hash)}, nil
}

// AddUser creates a user; ErrUserExists if the name is taken.
func (d *Desk) AddUser(ctx context.Context, name, password, role, group string) (User, error) {
	u, err := newUser(name, password, role, group, d.groups)
	if err != nil {
		return User{}, err
	}
	if err := d.store.PutUser(ctx, u, true); err != nil {
		return User{}, err
	}
	return u, nil
}

// EnsureAdmin creates the user "admin" with a random password when no admin exists, and
// returns that password; it returns "" when an admin exists already.
func (d *Desk) EnsureAdmin(ctx context.Context) (string, error) {
	users, err := d.store.Users(ctx)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if u.Role == RoleAdmin {
			return "", nil
		}
	}
	password := randomID("")[:16]
	u, err := newUser("admin", password, RoleAdmin, d.groups[0], d.groups)
	if err != nil {
		return "", err
	}
	if err := d.store.PutUser(ctx, u, true); err != nil {
		return "", fmt.Errorf("creating the admin: %w", err)
	}
	return password, nil
}

// dummyHash is compared against when the user does not exist, so that a login takes as
// long for an unknown name as for a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("kefu-dummy-password"), bcrypt.DefaultCost)

// Login checks the password and starts a session; it returns the session token.
func (d *Desk) Login(ctx context.Context, name, password string) (string, User, error) {
	u, err := d.store.User(ctx, name)
	if errors.Is(err, ErrNotFound) {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", User{}, ErrBadCredentials
	}
	if err != nil {
		return "", User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PassHash), []byte(password)) != nil {
		return "", User{}, ErrBadCredentials
	}
	token := randomID("s_")
	if err := d.store.PutSession(ctx, hashToken(token), Session{User: u.Name, Expires: d.now().Add(d.ttl)}); err != nil {
		return "", User{}, err
	}
	return token, u, nil
}

// Authenticate returns the user of a session token or of an API token (see APIToken),
// or ErrBadCredentials.
func (d *Desk) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrBadCredentials
	}
	if isAPIToken(token) {
		return d.authenticateToken(ctx, token)
	}
	s, err := d.store.Session(ctx, hashToken(token))
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	u, err := d.store.User(ctx, s.User)
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrBadCredentials
	}
	return u, err
}

// Logout ends the session of token.
func (d *Desk) Logout(ctx context.Context, token string) error {
	return d.store.DeleteSession(ctx, hashToken(token))
}

// Users returns every user, without password hashes.
func (d *Desk) Users(ctx context.Context) ([]User, error) {
	us, err := d.store.Users(ctx)
	for i := range us {
		us[i].PassHash = ""
	}
	return us, err
}
