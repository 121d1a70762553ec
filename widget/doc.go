// Package widget serves shoppers: the embeddable chat widget (widget.js), the demo shop
// page, the shopper websocket gateway at /ws/shopper and the bot API.
//
// A shopper's message is stored in the conversation's log first (package handoff), then
// acknowledged, then given to the bot while the conversation belongs to the bot. Every
// frame a shopper sees that carries a seq is read back from the log, so a reconnecting
// widget resumes exactly where it left off. docs/protocol.md is the contract.
package widget
