package widget

import (
	"context"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/kefu-im/kefu/internal/web"
)

// The names of the widget's limits (docs/security.md "Limits"), as KEFU_RATE_LIMITS
// names them. Every one but LimitMessage counts per client: per client IP, and per
// verified shopper besides.
const (
	// LimitConversation counts the conversations a client gets stored: at its first
	// message, hand-off or photo, not when the widget opens.
	LimitConversation = "conversation"
	// LimitHandoff counts a client's hand-offs to people, asked for or decided by the
	// bot.
	LimitHandoff = "handoff"
	// LimitMessage counts a conversation's shopper messages over all its sockets.
	LimitMessage = "message"
	// LimitClientMessage counts a client's shopper messages over all its conversations.
	LimitClientMessage = "client_message"
	// LimitUpload counts a client's photo uploads.
	LimitUpload = "upload"
	// LimitLeave counts a client's leave-a-message forms.
	LimitLeave = "leave"
	// LimitAsk counts a client's questions to the public bot API.
	LimitAsk = "ask"
)

// DefaultLimits are the widget's limits unless KEFU_RATE_LIMITS says otherwise: room
// for a shopper in a hurry, for an office behind one address, and none for a script.
func DefaultLimits() []ratelimit.Rule {
	return []ratelimit.Rule{
		ratelimit.Per(LimitConversation, 20, 10*time.Minute),
		ratelimit.Per(LimitHandoff, 10, 10*time.Minute),
		ratelimit.Per(LimitMessage, 10, 30*time.Second),
		ratelimit.Per(LimitClientMessage, 60, time.Minute),
		ratelimit.Per(LimitUpload, 20, 10*time.Minute),
		ratelimit.Per(LimitLeave, 5, 10*time.Minute),
		ratelimit.Per(LimitAsk, 30, time.Minute),
	}
}

// client is whom a limit per client counts: the client's address and, for a verified
// shopper, their id.
type client struct {
	ip      netip.Addr
	shopper string
}

// clientOf is the client of r, with sh the verified shopper or nil.
func (g *Gateway) clientOf(r *http.Request, sh *handoff.Shopper) client {
	c := client{ip: ratelimit.ClientIP(r, g.cfg.TrustedProxies)}
	if sh != nil && sh.Verified {
		c.shopper = sh.ID
	}
	return c
}

// subjects are the limiter's subjects of c. An IPv6 client counts by its /64, the
// block one subscriber is given, so that new addresses buy no new requests.
func (c client) subjects() []string {
	ip := c.ip
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	out := []string{"ip:" + ip.String()}
	if c.shopper != "" {
		out = append(out, "shopper:"+c.shopper)
	}
	return out
}

// allow takes one request of c under the limit named name, and on refusal says how
// long until the next one is allowed. Without a limiter every request is allowed.
func (g *Gateway) allow(ctx context.Context, name string, c client) (bool, time.Duration) {
	return g.take(ctx, name, c.subjects()...)
}

// take takes one request of each subject under the limit named name.
func (g *Gateway) take(ctx context.Context, name string, subjects ...string) (bool, time.Duration) {
	rule := ratelimit.Find(g.cfg.Limits, name)
	for _, s := range subjects {
		// A failing limiter lets the request through and has logged why.
		if ok, wait, _ := g.cfg.Limiter.Allow(ctx, rule, s); !ok {
			g.metrics.RateLimited.WithLabelValues(name).Inc()
			return false, wait
		}
	}
	return true, 0
}

// retrySeconds is a wait in whole seconds, rounded up, at least 1.
func retrySeconds(wait time.Duration) int64 {
	return max(1, int64(math.Ceil(wait.Seconds())))
}

// limitedFrame tells the shopper a frame was refused by a limit, and when to try
// again.
func limitedFrame(l handoff.Lang, id string, wait time.Duration) errorFrame {
	f := errFrame(l, codeRateLimited, id)
	f.RetryAfter = retrySeconds(wait)
	return f
}

// writeLimited answers 429 rate_limited with Retry-After.
func writeLimited(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(retrySeconds(wait), 10))
	web.WriteError(w, http.StatusTooManyRequests, web.CodeRateLimited, "请求过于频繁，请稍后再试")
}
