// Package ratelimit holds the limits that keep the parts anyone on the internet can
// reach (the widget's sockets, uploads, leave-a-message, the public bot API, sign-in)
// from being flooded by one client.
//
// A Rule names a limit: Burst requests at once, then one more every Every (the generic
// cell rate algorithm, GCRA: one timestamp per subject, no counters to reset). A
// subject is whatever the caller limits: a client IP, a signed shopper, a conversation,
// an account. The Limiter keeps the timestamps in Redis when nodes share one (one
// atomic script per decision, keys under a prefix with a time to live), or in memory
// for a single node (bounded: past MaxKeys, expired entries go first, then any).
//
// A limit that cannot be checked does not refuse: when Redis fails, Allow logs the
// error and lets the request through, so an outage of the limiter's store never takes
// the shop's front door down with it.
//
// ClientIP names the client of a request, honouring X-Forwarded-For only from trusted
// proxies.
package ratelimit
