// Package handoff is the desk's domain core: conversations and what a shopper says in
// them, the bot's decisions, the queues of conversations waiting for a person, the agents
// who claim and answer them, their presence and limits, notes, the context packet and
// after-sales tickets.
//
// Every rule is decided here, in Go, by Desk: which status a change may start from and
// what it sets, which queue a hand-off joins and in what order, which agent gets a chat,
// the limits, reopening, expiry. A storage engine only stores and commits atomically: a
// change (Change) is decided against the record and the agent's load as read, and the
// engine commits it only if neither moved (ErrConflict otherwise, and the desk decides
// again). The engines are handoff/boltstore (embedded, the default) and
// handoff/redisstore (several nodes); both pass the contract suite of handoff/enginetest.
//
// Every commit is announced with what it changed (Event), so that a reader does constant
// work per event: a waiting shopper moves their place by the queue's events (Place.Apply)
// instead of reading the queue. The agents' console is the sub-package console.
// docs/handoff.md has the rules, the layouts and the guarantees.
package handoff
