package account

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User is an agent, lead, editor or admin who signs in to the console or the editor.
type User struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Group is the agent's skill group, one of the desk's (Config.Groups).
	Group string `json:"group"`
	// MaxChats is how many chats the agent serves at once; 0 means the desk's default.
	MaxChats int `json:"max_chats,omitempty"`
	// DisplayName is the name shoppers see (昵称), set by an admin or the user; empty
	// means none: shoppers then see ShownName's neutral label, never the login.
	DisplayName string `json:"display_name,omitempty"`
	// Avatar is the id of the user's photo in the file store (AvatarConv), "" for none.
	Avatar string `json:"avatar,omitempty"`
	// Serving says whether the user takes chats by automatic assignment (接待中); nil
	// means their role's default (DefaultServing).
	Serving *bool `json:"serving,omitempty"`
	// Disabled users cannot sign in, and their sessions and API tokens no longer work
	// (docs/domain.md rule 24).
	Disabled bool `json:"disabled,omitempty"`
	// MustChangePassword is set on a user whose password was printed or handed to them
	// (the first admin): until they change it, they may only read who they are and
	// change it (Require answers 403 must_change_password).
	MustChangePassword bool `json:"must_change_password,omitempty"`
	// Epoch is the generation of the user's sessions: a session made at another epoch
	// is void. Disabling the user and changing their password move it on, which ends
	// every session of theirs at once, on every node, since sessions are checked against
	// the stored user on each request.
	Epoch int `json:"epoch,omitempty"`
	// PassHash is the bcrypt hash of the password; the Service never returns it.
	PassHash string `json:"pass_hash,omitempty"`
}

// Session is a signed-in user's session, stored under the hash of its token.
type Session struct {
	User    string    `json:"user"`
	Expires time.Time `json:"expires"`
	// Epoch is the user's Epoch when the session began.
	Epoch int `json:"epoch,omitempty"`
}

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 8

// maxPasswordBytes is the longest password bcrypt hashes whole.
const maxPasswordBytes = 72

// MaxChatsLimit is the highest chat limit a user may be given.
const MaxChatsLimit = 1000

// namePattern is what a user's or an API token's name may be; it has no ':', so the
// user "token:NAME" of an API token is never a person.
var namePattern = regexp.MustCompile(`^[\p{L}\p{N}_.-]{1,32}$`)

// newUser checks the fields of a new user, one of groups, and hashes the password at
// bcrypt cost cost.
func newUser(name, password string, role Role, group string, groups []string, cost int) (User, error) {
	switch {
	case !namePattern.MatchString(name):
		return User{}, refuse(ErrBadUser, "用户名须为 1-32 个字母、数字或 _ . -")
	case checkPassword(name, password) != nil:
		return User{}, checkPassword(name, password)
	case !role.Valid():
		return User{}, refuse(ErrBadUser, "未知角色 %q", role)
	case !slices.Contains(groups, group):
		return User{}, refuse(ErrBadUser, "未知技能组 %q", group)
	}
	hash, err := hashPassword(password, cost)
	if err != nil {
		return User{}, err
	}
	return User{Name: name, Role: role, Group: group, PassHash: hash}, nil
}

// hashPassword hashes a checked password at bcrypt cost cost.
func hashPassword(password string, cost int) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return string(hash), nil
}
