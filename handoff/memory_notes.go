package handoff

import (
	"context"
	"slices"
)

// AddNote implements Store.
func (s *MemoryStore) AddNote(_ context.Context, conv string, n Note) (Note, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.convs[conv]
	if !ok {
		return Note{}, false, ErrNotFound
	}
	for _, k := range mc.notes {
		if k.ID == n.ID {
			return cloneNote(k), true, nil
		}
	}
	if len(mc.notes) >= maxNotes {
		return Note{}, false, ErrNoteLimit
	}
	n = cloneNote(n)
	mc.notes = append(mc.notes, n)
	return cloneNote(n), false, nil
}

// Notes implements Store.
func (s *MemoryStore) Notes(_ context.Context, conv string) ([]Note, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.convs[conv]
	if !ok {
		return nil, ErrNotFound
	}
	out := make([]Note, len(mc.notes))
	for i, n := range mc.notes {
		out[i] = cloneNote(n)
	}
	return out, nil
}

func cloneNote(n Note) Note {
	n.Found = slices.Clone(n.Found)
	return n
}
