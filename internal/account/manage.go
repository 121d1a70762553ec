package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"golang.org/x/crypto/bcrypt"
)

// Running the desk's people: an admin changes a user's role, group, chat limit and
// display name, disables and enables them, and resets their password; every user
// changes their own password (docs/domain.md rules 24–26).

// Change is an admin's change of a user; a nil field is kept.
type Change struct {
	DisplayName *string `json:"display_name"`
	Avatar      *string `json:"avatar"`
	Role        *Role   `json:"role"`
	Group       *string `json:"group"`
	MaxChats    *int    `json:"max_chats"`
	Disabled    *bool   `json:"disabled"`
}

// UpdateUser applies an admin's change to the user name and returns the user and the
// names of the fields that changed (JSON names, in the order of Change). A field that
// is not right gives a Refusal (ErrBadUser); a change that would leave no enabled
// admin, ErrLastAdmin; an unknown user, ErrNotFound. Disabling a user moves their epoch
// on, which ends their sessions, and revokes the API tokens they issued.
func (s *Service) UpdateUser(ctx context.Context, name string, c Change) (User, []string, error) {
	if c.DisplayName != nil {
		d, err := checkDisplayName(*c.DisplayName)
		if err != nil {
			return User{}, nil, err
		}
		c.DisplayName = &d
	}
	switch {
	case c.Avatar != nil && *c.Avatar != "" && !avatarPattern.MatchString(*c.Avatar):
		return User{}, nil, refuse(ErrBadUser, "头像无效，请重新上传")
	case c.Role != nil && !c.Role.Valid():
		return User{}, nil, refuse(ErrBadUser, "未知角色 %q", *c.Role)
	case c.Group != nil && !slices.Contains(s.groups, *c.Group):
		return User{}, nil, refuse(ErrBadUser, "未知技能组 %q", *c.Group)
	case c.MaxChats != nil && (*c.MaxChats < 0 || *c.MaxChats > MaxChatsLimit):
		return User{}, nil, refuse(ErrBadUser, "同时接待上限须为 0-%d", MaxChatsLimit)
	}
	u, err := s.store.User(ctx, name)
	if err != nil {
		return User{}, nil, fmt.Errorf("reading user %q: %w", name, err)
	}
	before := u
	var changed []string
	set := func(field string, differs bool, apply func()) {
		if differs {
			apply()
			changed = append(changed, field)
		}
	}
	if c.DisplayName != nil {
		set("display_name", *c.DisplayName != u.DisplayName, func() { u.DisplayName = *c.DisplayName })
	}
	if c.Avatar != nil {
		set("avatar", *c.Avatar != u.Avatar, func() { u.Avatar = *c.Avatar })
	}
	if c.Role != nil {
		set("role", *c.Role != u.Role, func() { u.Role = *c.Role })
	}
	if c.Group != nil {
		set("group", *c.Group != u.Group, func() { u.Group = *c.Group })
	}
	if c.MaxChats != nil {
		set("max_chats", *c.MaxChats != u.MaxChats, func() { u.MaxChats = *c.MaxChats })
	}
	if c.Disabled != nil {
		set("disabled", *c.Disabled != u.Disabled, func() { u.Disabled = *c.Disabled })
	}
	if isActiveAdmin(before) && !isActiveAdmin(u) {
		if err := s.keepAnAdmin(ctx, name); err != nil {
			return User{}, nil, err
		}
	}
	if u.Disabled && !before.Disabled {
		u.Epoch++
	}
	if len(changed) > 0 {
		if err := s.store.PutUser(ctx, u, false); err != nil {
			return User{}, nil, fmt.Errorf("storing user %q: %w", name, err)
		}
	}
	if isActiveAdmin(before) && !isActiveAdmin(u) {
		// Two admins demoting each other at once, on two nodes, both pass the check
		// above: read again now that this change is stored, and undo it if no enabled
		// admin is left. Both then undo theirs, and one admin at least remains.
		if err := s.keepAnAdmin(ctx, name); err != nil {
			if errors.Is(err, ErrLastAdmin) {
				if uerr := s.store.PutUser(ctx, before, false); uerr != nil {
					return User{}, nil, fmt.Errorf("undoing the change of %q: %w", name, uerr)
				}
			}
			return User{}, nil, err
		}
	}
	if u.Disabled && !before.Disabled {
		if err := s.revokeTokensOf(ctx, name); err != nil {
			return User{}, nil, err
		}
	}
	u.PassHash = ""
	return u, changed, nil
}

// isActiveAdmin reports whether u is an admin who is not disabled.
func isActiveAdmin(u User) bool { return u.Role == RoleAdmin && !u.Disabled }

// keepAnAdmin returns ErrLastAdmin unless an enabled admin other than name exists.
func (s *Service) keepAnAdmin(ctx context.Context, name string) error {
	us, err := s.store.Users(ctx)
	if err != nil {
		return fmt.Errorf("counting admins: %w", err)
	}
	for _, o := range us {
		if o.Name != name && isActiveAdmin(o) {
			return nil
		}
	}
	return ErrLastAdmin
}

// revokeTokensOf deletes the API tokens the user name issued.
func (s *Service) revokeTokensOf(ctx context.Context, name string) error {
	ts, err := s.store.Tokens(ctx)
	if err != nil {
		return fmt.Errorf("reading the API tokens of %q: %w", name, err)
	}
	for _, t := range ts {
		if t.CreatedBy != name {
			continue
		}
		if err := s.store.DeleteToken(ctx, t.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("revoking API token %s of %q: %w", t.ID, name, err)
		}
	}
	return nil
}

// SetPassword is an admin's reset of the password of the user name: the password must
// pass the rules (a Refusal, ErrBadUser, otherwise); every session of the user ends, and
// the user must change the password, which someone else now knows, at their next
// sign-in (MustChangePassword).
func (s *Service) SetPassword(ctx context.Context, name, password string) error {
	if err := checkPassword(name, password); err != nil {
		return err
	}
	u, err := s.store.User(ctx, name)
	if err != nil {
		return fmt.Errorf("reading user %q: %w", name, err)
	}
	if u.PassHash, err = hashPassword(password, s.cost); err != nil {
		return err
	}
	u.Epoch++
	u.MustChangePassword = true
	if err := s.store.PutUser(ctx, u, false); err != nil {
		return fmt.Errorf("storing the password of %q: %w", name, err)
	}
	return nil
}

// ChangePassword is the user name's change of their own password: current must be the
// password now (ErrWrongPassword otherwise), password must pass the rules and differ
// from it; a password they had to change (MustChangePassword) is changed now. Every
// session of the user ends; it returns the token of a new session, so that the one who
// changed it stays signed in.
func (s *Service) ChangePassword(ctx context.Context, name, current, password string) (string, error) {
	if err := checkPassword(name, password); err != nil {
		return "", err
	}
	if password == current {
		return "", refuse(ErrBadUser, "新密码不能与当前密码相同")
	}
	u, err := s.store.User(ctx, name)
	if err != nil {
		return "", fmt.Errorf("reading user %q: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PassHash), []byte(current)) != nil {
		return "", ErrWrongPassword
	}
	if u.PassHash, err = hashPassword(password, s.cost); err != nil {
		return "", err
	}
	u.Epoch++
	u.MustChangePassword = false
	if err := s.store.PutUser(ctx, u, false); err != nil {
		return "", fmt.Errorf("storing the password of %q: %w", name, err)
	}
	token, _, err := s.startSession(ctx, u)
	return token, err
}

// Recheck authenticates r again, as Require did when it admitted it: a long request
// such as an event stream calls it now and then, and ends when it fails (the user was
// disabled, signed out or changed their password).
func (s *Service) Recheck(r *http.Request) error {
	token := bearer(r)
	if token == "" {
		if ck, err := r.Cookie(SessionCookie); err == nil {
			token = ck.Value
		}
	}
	_, err := s.Authenticate(r.Context(), token)
	return err
}
