package main

import (
	"net/netip"
	"strings"

	"github.com/kefu-im/kefu/internal/ratelimit"
	"github.com/kefu-im/kefu/widget"
	"github.com/rs/zerolog"
)

// defaultLimits are every part's limits, as KEFU_RATE_LIMITS names them
// (docs/security.md "Limits").
func defaultLimits() []ratelimit.Rule {
	return widget.DefaultLimits()
}

// rateLimits are the limits with KEFU_RATE_LIMITS applied; "off" turns each one off.
func (c *config) rateLimits() ([]ratelimit.Rule, error) {
	return ratelimit.ParseRules(c.RateLimits, defaultLimits())
}

// rateLimitsOff reports whether KEFU_RATE_LIMITS=off turned every limit off.
func (c *config) rateLimitsOff() bool {
	return strings.EqualFold(strings.TrimSpace(c.RateLimits), "off")
}

// trustedProxies are the proxies of KEFU_TRUSTED_PROXIES, whose X-Forwarded-For names
// the client.
func (c *config) trustedProxies() ([]netip.Prefix, error) {
	return ratelimit.ParsePrefixes(c.TrustedProxies)
}

// newLimiter returns the node's limiter: in Redis when the node shares one with
// others, in memory otherwise.
func (a *app) newLimiter(c config, log zerolog.Logger) *ratelimit.Limiter {
	rc := ratelimit.Config{Prefix: c.RedisPrefix, Off: c.rateLimitsOff(), Log: log.With().Str("part", "ratelimit").Logger()}
	if a.storage.rdb != nil {
		rc.Redis = a.storage.rdb
	}
	if rc.Off {
		log.Warn().Msg("KEFU_RATE_LIMITS=off: every limit is off (for load tests, never for a shop)")
	}
	return ratelimit.New(rc)
}
