package handoff

import (
	"context"
	"fmt"
	"sync"

	"github.com/kefu-im/kefu/internal/account"
)

// testStaff is the Staff of the desk tests: agents put by hand, without passwords.
type testStaff struct {
	mu    sync.Mutex // guards users
	users map[string]account.User
}

func newTestStaff() *testStaff { return &testStaff{users: make(map[string]account.User)} }

// User implements Staff.
func (s *testStaff) User(_ context.Context, name string) (account.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return account.User{}, fmt.Errorf("user %q: %w", name, account.ErrNotFound)
	}
	return u, nil
}

// put adds or replaces u.
func (s *testStaff) put(u account.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Name] = u
}

// staffOf returns the testStaff of a desk made by the desk tests.
func staffOf(d *Desk) *testStaff { return d.staff.(*testStaff) }
