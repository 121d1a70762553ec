package handoff

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kefu-im/kefu/internal/account"
)

// Shoppers never see a login (docs/domain.md rule 18): every name of a person that
// reaches them, in a phrase or a frame, is the person's shown name
// (account.User.ShownName).

// Person is what shoppers see of an agent: the shown name and the avatar's file id.
type Person struct {
	Name   string
	Avatar string
}

// peopleTTL is how long a person read for shoppers is remembered: a changed display name
// reaches the frames of open chats within it.
const peopleTTL = 10 * time.Second

// people remembers the Persons of logins for peopleTTL.
type people struct {
	mu sync.Mutex
	m  map[string]personAt
}

type personAt struct {
	p  Person
	at time.Time
}

// Person returns what shoppers see of login: the display name or the neutral label
// (account.NeutralLabel, also when the user is unknown or cannot be read) and the avatar.
func (d *Desk) Person(ctx context.Context, login string) Person {
	if login == "" {
		return Person{}
	}
	now := time.Now()
	d.people.mu.Lock()
	if e, ok := d.people.m[login]; ok && now.Sub(e.at) < peopleTTL {
		d.people.mu.Unlock()
		return e.p
	}
	d.people.mu.Unlock()
	p := Person{Name: account.NeutralLabel(login)}
	u, err := d.staff.User(ctx, login)
	if err != nil {
		d.log.Debug().Err(err).Str("agent", login).Msg("reading the agent's display name")
		return p
	}
	p = Person{Name: u.ShownName(), Avatar: u.Avatar}
	d.people.mu.Lock()
	if d.people.m == nil || len(d.people.m) > 10_000 {
		d.people.m = make(map[string]personAt)
	}
	d.people.m[login] = personAt{p, now}
	d.people.mu.Unlock()
	return p
}

// ForgetPerson drops what is remembered of login, after their profile changed.
func (d *Desk) ForgetPerson(login string) {
	d.people.mu.Lock()
	delete(d.people.m, login)
	d.people.mu.Unlock()
}

// withAgent fills {agent} of phrase with agent's shown name.
func (d *Desk) withAgent(ctx context.Context, phrase, agent string) string {
	return strings.ReplaceAll(phrase, "{agent}", d.Person(ctx, agent).Name)
}
