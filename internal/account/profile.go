package account

import (
	"context"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What shoppers see of the people who serve them: a display name and a photo, never a
// login (docs/domain.md rule 18), and whether a user takes chats by assignment.

// MaxDisplayNameRunes bounds a display name, in characters.
const MaxDisplayNameRunes = 16

// AvatarConv is the name under which avatars are kept in the file store (internal/files):
// a name no conversation id takes.
const AvatarConv = "_avatars"

// avatarPattern is what an avatar's file id looks like (files.Service.Receive).
var avatarPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// DefaultServing is whether a user of role takes chats by assignment until they say
// otherwise: agents and leads do, admins and editors, who sign in to manage, do not.
func DefaultServing(role Role) bool { return role == RoleAgent || role == RoleLead }

// IsServing reports whether u takes chats by automatic assignment now.
func (u User) IsServing() bool {
	if u.Serving != nil {
		return *u.Serving
	}
	return DefaultServing(u.Role)
}

// ShownName is the name shoppers see for u: the display name, or, when none is set, a
// neutral four-digit label made from the login (the same for the same login, e.g.
// "0427"), so that shoppers never see a login.
func (u User) ShownName() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return NeutralLabel(u.Name)
}

// NeutralLabel is the four-digit label shown for a login without a display name.
func NeutralLabel(login string) string {
	h := fnv.New32a()
	h.Write([]byte(login))
	return fmt.Sprintf("%04d", h.Sum32()%10000)
}

// Profile is a change of a user's display name and avatar; a nil field is kept.
type Profile struct {
	DisplayName *string `json:"display_name"`
	Avatar      *string `json:"avatar"`
}

// checkDisplayName trims a display name and checks it: at most MaxDisplayNameRunes
// characters, no control characters; "" clears it.
func checkDisplayName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxDisplayNameRunes {
		return "", refuse(ErrBadUser, "显示名最多 %d 个字", MaxDisplayNameRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '<' || r == '>' {
			return "", refuse(ErrBadUser, "显示名不能含控制字符或 < >")
		}
	}
	return s, nil
}

// SetProfile changes the user's display name and avatar (the id of a photo stored under
// AvatarConv, or "" for none; the caller checked that it is stored). A field that is not
// right gives a Refusal (ErrBadUser), an unknown user ErrNotFound.
func (s *Service) SetProfile(ctx context.Context, name string, p Profile) (User, error) {
	var display string
	if p.DisplayName != nil {
		d, err := checkDisplayName(*p.DisplayName)
		if err != nil {
			return User{}, err
		}
		display = d
	}
	if p.Avatar != nil && *p.Avatar != "" && !avatarPattern.MatchString(*p.Avatar) {
		return User{}, refuse(ErrBadUser, "头像无效，请重新上传")
	}
	u, err := s.store.User(ctx, name)
	if err != nil {
		return User{}, fmt.Errorf("reading user %q: %w", name, err)
	}
	if p.DisplayName != nil {
		u.DisplayName = display
	}
	if p.Avatar != nil {
		u.Avatar = *p.Avatar
	}
	if err := s.store.PutUser(ctx, u, false); err != nil {
		return User{}, fmt.Errorf("storing the profile of %q: %w", name, err)
	}
	u.PassHash = ""
	return u, nil
}

// SetServing turns the user's automatic assignment on (接待中) or off (暂停接待), kept
// until they change it again. handoff.Desk.RenewServing applies it to their presence.
func (s *Service) SetServing(ctx context.Context, name string, on bool) (User, error) {
	u, err := s.store.User(ctx, name)
	if err != nil {
		return User{}, fmt.Errorf("reading user %q: %w", name, err)
	}
	u.Serving = &on
	if err := s.store.PutUser(ctx, u, false); err != nil {
		return User{}, fmt.Errorf("storing whether %q serves: %w", name, err)
	}
	u.PassHash = ""
	return u, nil
}
