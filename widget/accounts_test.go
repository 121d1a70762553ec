package widget_test

import (
	"context"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/boltdb/bolttest"
	"golang.org/x/crypto/bcrypt"
)

// newAccounts returns the desk's staff in the widget tests: accounts on a fresh embedded
// database, with fast password hashing.
func newAccounts(tb testing.TB) *account.Service {
	tb.Helper()
	st, err := account.NewBoltStore(account.BoltConfig{DB: bolttest.Open(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	acc, err := account.New(account.Config{Store: st, Groups: handoff.DefaultGroups, PasswordCost: bcrypt.MinCost})
	if err != nil {
		tb.Fatal(err)
	}
	return acc
}

// addAgent adds an agent of group.
func (e *env) addAgent(t *testing.T, name, group string) {
	t.Helper()
	if _, err := e.staff.AddUser(context.Background(), name, "kefu-test-pass", account.RoleAgent, group); err != nil {
		t.Fatal(err)
	}
}
