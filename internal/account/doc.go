// Package account knows who may use Kefu's staff pages: the users (agents, after-sales
// leads, knowledge editors and admins) with their roles, the sessions they sign in
// with, the API tokens a shop's own systems use, and the one middleware that admits a
// request by role (Service.Require). The agent console and the knowledge editor share
// it, so one sign-in serves both.
//
// Users, sessions and tokens are kept by a Store: the embedded engine (BoltStore, in
// the data directory's bbolt file) for one process, or the Redis engine (RedisStore)
// for several nodes sharing one Redis. The rules (who may have which name, password
// and role, when a session has expired, how a token is checked) are the Service's; an
// engine only stores.
package account
