package account

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/audit"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/rs/zerolog"
)

// Failed sign-ins are limited per account and per client address (docs/domain.md rule
// 31): a few may fail at once, then one more every while; past that every sign-in of
// the account, or from the address, is refused with 429 and Retry-After, the right
// password too, before any password is hashed. The limits are kept by
// internal/ratelimit, in Redis when nodes share one, so that they hold on every node.

// The rules of failed sign-ins.
const (
	// RuleLoginAccount limits the failed sign-ins of one account (the name typed, known
	// or not, so that the answer tells nothing of which names exist).
	RuleLoginAccount = "login_account"
	// RuleLoginIP limits the failed sign-ins from one client address, whatever name.
	RuleLoginIP = "login_ip"
)

// DefaultLoginRules: 10 failures of an account at once, then one every 90 s (40 an
// hour); 30 from one address, then one every 30 s. An office behind one address with
// a few people mistyping stays well under them; a guesser gets a few dozen tries an
// hour per account.
var DefaultLoginRules = []ratelimit.Rule{
	ratelimit.Per(RuleLoginAccount, 10, 15*time.Minute),
	ratelimit.Per(RuleLoginIP, 30, 15*time.Minute),
}

// loginGate keeps the limits of failed sign-ins.
type loginGate struct {
	lim              *ratelimit.Limiter // nil: no limits
	account, address ratelimit.Rule
	proxies          []netip.Prefix
}

// subjects are the limited names of a sign-in of name from r: the account (lowercased,
// as names are compared by people) and the client address.
func (g *loginGate) subjects(r *http.Request, name string) (account, address string) {
	return strings.ToLower(typedName(strings.TrimSpace(name))), g.clientIP(r)
}

// clientIP is the address r came from, X-Forwarded-For believed from trusted proxies
// alone.
func (g *loginGate) clientIP(r *http.Request) string { return audit.ClientIP(r, g.proxies) }

// blocked returns how long until a sign-in of account from address may be tried, 0 when
// it may now. It takes nothing.
func (g *loginGate) blocked(ctx context.Context, account, address string) time.Duration {
	if g.lim == nil {
		return 0
	}
	var wait time.Duration
	if ok, d, _ := g.lim.Check(ctx, g.account, account); !ok {
		wait = d
	}
	if ok, d, _ := g.lim.Check(ctx, g.address, address); !ok {
		wait = max(wait, d)
	}
	return wait
}

// failed counts a failed sign-in of account from address; it returns how long the
// account or address is now locked, when this failure locked it.
func (g *loginGate) failed(ctx context.Context, account, address string) time.Duration {
	if g.lim == nil {
		return 0
	}
	g.lim.Allow(ctx, g.account, account)
	g.lim.Allow(ctx, g.address, address)
	return g.blocked(ctx, account, address)
}

// succeeded forgets the account's failures (not the address's: a guesser who knows one
// password does not get more tries at others).
func (g *loginGate) succeeded(ctx context.Context, account string) {
	if g.lim != nil {
		g.lim.Reset(ctx, g.account, account)
	}
}

// writeLocked answers 429 too_many_attempts with Retry-After.
func writeLocked(w http.ResponseWriter, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	web.WriteError(w, http.StatusTooManyRequests, web.CodeTooManyAttempts,
		"登录失败次数过多，请 "+waitText(secs)+"后再试")
}

// waitText says a wait of secs seconds for people: 「90 秒」「3 分钟」.
func waitText(secs int) string {
	if secs < 120 {
		return strconv.Itoa(max(secs, 1)) + " 秒"
	}
	return strconv.Itoa((secs+59)/60) + " 分钟"
}

// lockedOut logs and audits that a failure of account from address locked them for
// wait.
func (a *API) lockedOut(r *http.Request, account, address string, wait time.Duration) {
	zerolog.Ctx(r.Context()).Warn().Str("user", account).Str("ip", address).Dur("retry_after", wait).
		Msg("sign-in locked after repeated failures")
	a.s.audit.Add(r, account, audit.ActionLoginLocked, account, "locked for "+wait.Round(time.Second).String())
}

// ResetLoginFailures forgets the failed sign-ins of the user name, as when an admin
// resets their password.
func (s *Service) ResetLoginFailures(ctx context.Context, name string) {
	s.gate.succeeded(ctx, strings.ToLower(name))
}
