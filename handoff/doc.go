// Package handoff owns conversations and the live-agent side of Kefu: the transcript of
// every conversation, the queues of conversations waiting for a person, the agents who
// claim and answer them, their presence and limits, and after-sales tickets. The console
// agents do it in, its HTTP API and event stream, is the sub-package console.
//
// Storage has two engines behind the Store interface: the memory engine, the zero-setup
// default for one process, and the Redis engine for production and for several nodes
// sharing one Redis. Both pass the same test suite. In Redis each conversation's
// transcript is a Stream whose entry ids are the conversation's sequence numbers, every
// change of a conversation is one Lua script on that conversation's keys (one cluster
// slot), and a pub/sub channel carries wake-up signals to the other nodes after the
// write. The stream, not the signal, is the truth: a reader that missed a signal reads
// what is new from the stream.
//
// Routing (who waits, who owns which chat, agents' loads and presence) is kept apart, in
// one slot of its own, so that one script decides each claim, assignment or transfer
// against the queue, the owner and the agent's limit at once. Each such change is then
// written to the conversation, keyed so that writing it again stores nothing; a change
// left half-made by a stopped node is finished by any node's sweep (routing.go,
// docs/handoff.md).
package handoff
