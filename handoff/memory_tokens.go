package handoff

import (
	"context"
	"sort"
)

// PutToken implements Store.
func (s *MemoryStore) PutToken(_ context.Context, t APIToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[t.ID] = t
	return nil
}

// Token implements Store.
func (s *MemoryStore) Token(_ context.Context, id string) (APIToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		return APIToken{}, ErrNotFound
	}
	return t, nil
}

// Tokens implements Store.
func (s *MemoryStore) Tokens(_ context.Context) ([]APIToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]APIToken, 0, len(s.tokens))
	for _, t := range s.tokens {
		out = append(out, t)
	}
	sortTokens(out)
	return out, nil
}

// DeleteToken implements Store.
func (s *MemoryStore) DeleteToken(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tokens[id]; !ok {
		return ErrNotFound
	}
	delete(s.tokens, id)
	return nil
}

// sortTokens orders tokens oldest first, by ID among tokens of the same time.
func sortTokens(ts []APIToken) {
	sort.Slice(ts, func(i, j int) bool {
		if !ts[i].CreatedAt.Equal(ts[j].CreatedAt) {
			return ts[i].CreatedAt.Before(ts[j].CreatedAt)
		}
		return ts[i].ID < ts[j].ID
	})
}
