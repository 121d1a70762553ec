// Package console serves the agents: the console's HTTP API (the queue, conversations,
// replies past the reply guard, internal notes, canned replies, presence, transfers and
// limits, and after-sales tickets), the event stream that wakes the console up
// (Server-Sent Events), and the web console itself, a page with plain scripts under
// content-hashed URLs.
//
// The desk (package handoff) decides; the console checks the request, asks the desk and
// answers in JSON. Every route runs behind account.Service.Require: agents (and so
// after-sales leads) and admins, and admins alone for agents' limits.
package console
