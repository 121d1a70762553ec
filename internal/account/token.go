package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/secret"
)

// APIToken is a long-lived bearer token an admin issues for a shop's own systems, such
// as a job that syncs articles into the knowledge base. The token is shown once, when
// it is issued; the store keeps its SHA-256 hash. A request that carries it acts as the
// user "token:NAME" with the token's role, wherever a session token is accepted.
type APIToken struct {
	// ID names the token in lists and in DELETE /api/tokens/{id}; it is also the
	// token's second part, which finds it without a scan.
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Hash is the hex SHA-256 of the whole token; the Service never returns it.
	Hash      string    `json:"hash,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// TokenRoles are the roles an API token may have. Only editor for now: syncing articles
// is what tokens are for. An agent token would have no presence or chat cap, and an
// admin token could issue tokens and add users if it leaked.
var TokenRoles = []Role{RoleEditor}

// TokenUserPrefix starts the user name of a request made with an API token. User names
// cannot hold ':', so "token:NAME" is never a person.
const TokenUserPrefix = "token:"

// An API token is tokenPrefix, tokenIDLen hex characters of ID, "_", and 32 random
// bytes in base64url.
const (
	tokenPrefix = "kt_"
	tokenIDLen  = 16
)

// AddToken issues an API token for role (RoleEditor when empty), named name, by the
// admin by, and returns it with the token itself, which is not stored and cannot be
// shown again. A name or role that is not right gives a Refusal (ErrBadAPIToken); a
// name in use, ErrAPITokenExists.
func (s *Service) AddToken(ctx context.Context, name string, role Role, by string) (APIToken, string, error) {
	if role == "" {
		role = RoleEditor
	}
	switch {
	case !namePattern.MatchString(name):
		return APIToken{}, "", refuse(ErrBadAPIToken, "名称须为 1-32 个字母、数字或 _ . -")
	case !slices.Contains(TokenRoles, role):
		return APIToken{}, "", refuse(ErrBadAPIToken, "角色须为 editor（API 令牌用于同步文章），不能是 %q", role)
	}
	tokens, err := s.store.Tokens(ctx)
	if err != nil {
		return APIToken{}, "", err
	}
	for _, t := range tokens {
		if t.Name == name {
			return APIToken{}, "", ErrAPITokenExists
		}
	}
	id := make([]byte, tokenIDLen/2)
	key := make([]byte, 32)
	rand.Read(id)
	rand.Read(key)
	t := APIToken{ID: hex.EncodeToString(id), Name: name, Role: role, CreatedBy: by, CreatedAt: s.now().UTC()}
	token := tokenPrefix + t.ID + "_" + base64.RawURLEncoding.EncodeToString(key)
	t.Hash = secret.Hash(token)
	if err := s.store.PutToken(ctx, t); err != nil {
		return APIToken{}, "", err
	}
	t.Hash = ""
	return t, token, nil
}

// Tokens returns the API tokens, oldest first (by ID among those of the same time),
// without their hashes.
func (s *Service) Tokens(ctx context.Context) ([]APIToken, error) {
	ts, err := s.store.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].Hash = ""
	}
	slices.SortFunc(ts, func(a, b APIToken) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return ts, nil
}

// RevokeToken deletes an API token: requests with it fail from now on. An unknown id
// gives ErrNotFound.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	return s.store.DeleteToken(ctx, id)
}

// isAPIToken reports whether token has the shape of an API token.
func isAPIToken(token string) bool { return strings.HasPrefix(token, tokenPrefix) }

// authenticateToken returns the user an API token acts as, or ErrBadCredentials.
func (s *Service) authenticateToken(ctx context.Context, token string) (User, error) {
	rest := token[len(tokenPrefix):]
	if len(rest) <= tokenIDLen || rest[tokenIDLen] != '_' {
		return User{}, ErrBadCredentials
	}
	t, err := s.store.Token(ctx, rest[:tokenIDLen])
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, err
	}
	if !secret.Matches(t.Hash, token) {
		return User{}, ErrBadCredentials
	}
	return User{Name: TokenUserPrefix + t.Name, Role: t.Role}, nil
}
