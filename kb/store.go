package kb

import (
	"context"
	"time"

	"github.com/kefu-im/kefu/internal/triage"
)

// Statuses of an article in a Store. Only published articles are searchable by the bot.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// Actions a Version records.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionRestore = "restore"
	ActionDelete  = "delete"
	ActionImport  = "import"
)

// Entry is an article as the store keeps it: the article, its editorial state and the
// version it is at.
type Entry struct {
	Article
	// Status is StatusDraft or StatusPublished.
	Status string `json:"status"`
	// Review marks a draft an agent proposed from a chat, waiting for an editor.
	Review bool `json:"review,omitempty"`
	// Conversation is the chat an agent proposed the article from, if any; it is kept
	// through later versions, so that an editor can read where the article came from.
	Conversation string `json:"conversation,omitempty"`
	// Version counts the saves of the article, from 1. An update names the version it
	// edits; the store refuses it with ErrConflict when that is no longer the latest.
	Version int `json:"version"`
	// CreatedAt is when version 1 was saved.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedBy and UpdatedAt say who saved the latest version, and when.
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Version is one save of an article: the whole entry as it was saved, and what the save
// did.
type Version struct {
	Entry
	// Action is one of the Action constants.
	Action string `json:"action"`
	// RestoredFrom is the version an ActionRestore copied.
	RestoredFrom int `json:"restored_from,omitempty"`
	// Deleted is true for the version that deleted the article.
	Deleted bool `json:"deleted,omitempty"`
}

// Change is one entry of a store's change feed: article ID was saved at Version, or
// deleted. Cursor is the feed position just after this change.
type Change struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Deleted bool   `json:"deleted,omitempty"`
	Cursor  string `json:"cursor"`
}

// Unanswered is a shopper's question the bot handed off because it had no good answer
// (reason low_confidence or out_of_scope).
type Unanswered struct {
	// ID is given by the store.
	ID   string `json:"id"`
	Text string `json:"text"`
	// Reason is the hand-off reason.
	Reason triage.Reason `json:"reason"`
	// Article is the best hit the bot saw, if any, and Confidence its confidence.
	Article    string    `json:"article,omitempty"`
	Confidence float64   `json:"confidence"`
	At         time.Time `json:"at"`
}

// MaxUnanswered is how many unanswered questions a store keeps; older ones are dropped.
const MaxUnanswered = 10_000

// Store keeps articles, every version of them, a change feed and the unanswered
// questions. BoltStore and RedisStore implement it and pass the same tests.
type Store interface {
	// Create saves a new article at version 1, or, for an id whose article was deleted,
	// at the version after the deletion. The entry's Version, CreatedAt, UpdatedBy and
	// UpdatedAt are set by the store. An id in use gives ErrExists.
	Create(ctx context.Context, e Entry, by, action string) (Entry, error)
	// Update saves e as the next version of its article, if base is the article's
	// latest version; otherwise it returns ErrConflict. An unknown id gives ErrNotFound.
	Update(ctx context.Context, e Entry, base int, by, action string, restoredFrom int) (Entry, error)
	// Delete removes the article, if base is its latest version (ErrConflict
	// otherwise). Its versions stay, the last one marked Deleted.
	Delete(ctx context.Context, id string, base int, by string) error
	// Get returns the article's latest version, or ErrNotFound.
	Get(ctx context.Context, id string) (Entry, error)
	// List returns every article that is not deleted, sorted by id.
	List(ctx context.Context) ([]Entry, error)
	// Versions returns the article's versions, newest first (ErrNotFound for an id
	// that never existed).
	Versions(ctx context.Context, id string) ([]Version, error)
	// Version returns version n of the article, or ErrNotFound.
	Version(ctx context.Context, id string, n int) (Version, error)

	// Changes returns the changes after cursor ("" is the start of the feed), waiting up
	// to wait for one when there is none yet, and the cursor to continue from. A cursor
	// older than the feed still holds gives ErrFeedGap: the caller must rebuild from
	// List.
	Changes(ctx context.Context, cursor string, wait time.Duration) ([]Change, string, error)
	// Head returns the cursor of the feed's latest change, "" when it is empty.
	Head(ctx context.Context) (string, error)

	// Seed creates, as ActionImport versions, the entries whose ids were never seeded
	// from source before, and returns their ids. An id seeded once is never seeded again,
	// so an editor's later change or deletion of a bundled article stands.
	Seed(ctx context.Context, source string, es []Entry, by string) ([]string, error)

	// AddUnanswered records a question; the store gives its ID and keeps the latest
	// MaxUnanswered.
	AddUnanswered(ctx context.Context, u Unanswered) error
	// Unanswered returns up to limit recorded questions that are not dismissed, newest
	// first.
	Unanswered(ctx context.Context, limit int) ([]Unanswered, error)
	// DismissUnanswered removes questions by ID; unknown ids are ignored.
	DismissUnanswered(ctx context.Context, ids []string) error

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}
