package kb

import (
	"fmt"
	"time"
)

// The rules of a save are decided here, once, for every engine: an engine reads the
// state of the articles a call touches, asks one of these functions what to write, and
// commits that only if the state is still the one it read (bbolt: in the same update
// transaction; Redis: a script that compares before it writes).

// articleState is what an engine knows of one article id before a save.
type articleState struct {
	// versions is how many versions the id has: the number of its latest version, live
	// or deleted; 0 for an id never saved.
	versions int
	// current is the live article; live is false when the id was never saved or its
	// latest version deleted it.
	current Entry
	live    bool
}

// stamp sets the store's fields of e for version n saved by by at now.
func stamp(e Entry, n int, by string, now time.Time) Entry {
	e.Version, e.UpdatedBy, e.UpdatedAt = n, by, now.UTC()
	return e
}

// decideCreate returns the version that creates e: version 1, or the version after
// the deletion of an id that was deleted. An id in use gives ErrExists.
func decideCreate(st articleState, e Entry, by, action string, now time.Time) (Version, error) {
	if st.live {
		return Version{}, fmt.Errorf("creating article %q: %w", e.ID, ErrExists)
	}
	e = stamp(e, st.versions+1, by, now)
	e.CreatedAt = e.UpdatedAt
	return Version{Entry: e, Action: action}, nil
}

// decideUpdate returns the version that saves e over version base of its article. A
// missing or deleted article gives ErrNotFound, a base that is not the latest version
// ErrConflict.
func decideUpdate(st articleState, e Entry, base int, by, action string, restoredFrom int, now time.Time) (Version, error) {
	if !st.live {
		return Version{}, fmt.Errorf("updating article %q: %w", e.ID, ErrNotFound)
	}
	if st.versions != base {
		return Version{}, fmt.Errorf("updating article %q at version %d (latest %d): %w", e.ID, base, st.versions, ErrConflict)
	}
	e.CreatedAt = st.current.CreatedAt
	e = stamp(e, base+1, by, now)
	return Version{Entry: e, Action: action, RestoredFrom: restoredFrom}, nil
}

// decideDelete returns the version that deletes article id at version base: its last
// content, marked deleted. Errors as decideUpdate.
func decideDelete(st articleState, id string, base int, by string, now time.Time) (Version, error) {
	if !st.live {
		return Version{}, fmt.Errorf("deleting article %q: %w", id, ErrNotFound)
	}
	if st.versions != base {
		return Version{}, fmt.Errorf("deleting article %q at version %d (latest %d): %w", id, base, st.versions, ErrConflict)
	}
	return Version{Entry: stamp(st.current, base+1, by, now), Action: ActionDelete, Deleted: true}, nil
}

// seedPlan is what a Seed writes: the ids to mark as seeded from the source, and the
// versions that create articles (each id among marks).
type seedPlan struct {
	marks   []string
	creates []Version
}

// seedIDs returns the first entry of each id of es, in order: the entries a Seed looks
// at.
func seedIDs(es []Entry) []Entry {
	seen := make(map[string]bool, len(es))
	var out []Entry
	for _, e := range es {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out
}

// decideSeed decides a Seed of es (as seedIDs returns them): every id never seeded from
// the source is marked, and created unless an editor made an article of that id first.
// An id seeded once is never seeded again, so an editor's later change or deletion of a
// bundled article stands. seeded and state answer for the ids of es.
func decideSeed(es []Entry, seeded func(id string) bool, state func(id string) articleState, by string, now time.Time) seedPlan {
	var p seedPlan
	for _, e := range es {
		if seeded(e.ID) {
			continue
		}
		p.marks = append(p.marks, e.ID)
		if v, err := decideCreate(state(e.ID), e, by, ActionImport, now); err == nil {
			p.creates = append(p.creates, v)
		}
	}
	return p
}

// newUnanswered returns u as a store records it: the store gives the id, and the time is
// now unless u has one.
func newUnanswered(u Unanswered, now time.Time) Unanswered {
	u.ID = ""
	if u.At.IsZero() {
		u.At = now.UTC()
	}
	return u
}
