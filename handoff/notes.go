package handoff

import (
	"context"
	"errors"
	"fmt"

	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/secret"
)

// Note kinds.
const (
	NoteAgent    = "note"     // written by an agent
	NoteOverride = "override" // the record of a reply sent past the contact guard
)

// maxNotes is how many notes a conversation keeps; a note past it is refused, since
// notes are an audit trail and are never dropped.
const maxNotes = 200

// ErrNoteLimit is returned for a note of a conversation that has maxNotes already.
var ErrNoteLimit = errors.New("conversation has too many notes")

// Note is an internal note of a conversation: agents see it next to the transcript, the
// shopper never does. Notes are kept apart from the conversation's log, which is what
// the shopper's widget reads, so no path that sends the log can send a note.
type Note struct {
	// ID makes adding a note idempotent.
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Author string `json:"author"`
	Text   string `json:"text"`
	// AfterSeq is the conversation's last log record when the note was written: the
	// console shows the note after it.
	AfterSeq int64 `json:"after_seq"`
	// Found, Reason and Message are set for NoteOverride: what the guard found (masked),
	// why the agent sent it anyway, and the Seq of the reply.
	Found   []ContactFinding `json:"found,omitempty"`
	Reason  string           `json:"reason,omitempty"`
	Message int64            `json:"message,omitempty"`
	// TS is when it was written, in Unix milliseconds.
	TS int64 `json:"ts"`
}

// mayNote reports whether u may write a note in c: whoever may read it by its record
// (MayRead): its owner, an agent of the group it was handed off to, a lead or an admin.
func mayNote(u account.User, c Conversation) bool { return MayRead(u, c) }

// AddNote stores a note written by author in the conversation and announces it; noteID
// makes a retry idempotent, empty means a fresh id. It returns ErrNotFound, ErrNotOwner
// when the author is neither the owner nor an agent of the chat's group, and
// ErrNoteLimit.
func (d *Desk) AddNote(ctx context.Context, conv string, author account.User, noteID, text string) (Note, error) {
	c, err := d.convs.Conversation(ctx, conv)
	if err != nil {
		return Note{}, fmt.Errorf("adding a note to %q: %w", conv, err)
	}
	if !mayNote(author, c) {
		return Note{}, fmt.Errorf("adding a note to %q: %w", conv, ErrNotOwner)
	}
	if noteID == "" {
		noteID = secret.New("")
	}
	n := Note{ID: "note:" + author.Name + ":" + noteID, Kind: NoteAgent, Author: author.Name, Text: text, AfterSeq: c.Seq}
	return d.addNote(ctx, conv, n)
}

func (d *Desk) addNote(ctx context.Context, conv string, n Note) (Note, error) {
	if n.TS == 0 {
		n.TS = d.now().UnixMilli()
	}
	stored, _, err := d.annals.AddNote(ctx, conv, n, maxNotes)
	if err != nil {
		return Note{}, fmt.Errorf("adding a note to %q: %w", conv, err)
	}
	d.publish(ctx, Event{Type: EventNote, Conv: conv})
	return stored, nil
}

// Notes returns the conversation's notes, oldest first, if u may read the conversation
// (Desk.MayRead).
func (d *Desk) Notes(ctx context.Context, conv string, u account.User) ([]Note, error) {
	c, err := d.convs.Conversation(ctx, conv)
	if err != nil {
		return nil, err
	}
	ok, err := d.MayRead(ctx, u, c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotOwner
	}
	return d.annals.Notes(ctx, conv)
}
