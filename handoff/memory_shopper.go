package handoff

import (
	"context"
	"slices"
)

// AddShopperConversation implements Store.
func (s *MemoryStore) AddShopperConversation(_ context.Context, shopper, conv string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.DeleteFunc(slices.Clone(s.shoppers[shopper]), func(id string) bool { return id == conv })
	ids = append([]string{conv}, ids...)
	if len(ids) > maxShopperHistory {
		ids = ids[:maxShopperHistory]
	}
	s.shoppers[shopper] = ids
	return nil
}

// ShopperConversations implements Store.
func (s *MemoryStore) ShopperConversations(_ context.Context, shopper string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.shoppers[shopper]), nil
}

// AddDecision implements Store.
func (s *MemoryStore) AddDecision(_ context.Context, conv string, d Decision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.convs[conv]
	if !ok {
		return ErrNotFound
	}
	for _, k := range mc.decisions {
		if k.Key == d.Key {
			return nil
		}
	}
	d.Hits = slices.Clone(d.Hits)
	mc.decisions = append(mc.decisions, d)
	if len(mc.decisions) > maxDecisions {
		mc.decisions = slices.Clone(mc.decisions[len(mc.decisions)-maxDecisions:])
	}
	return nil
}

// Decisions implements Store.
func (s *MemoryStore) Decisions(_ context.Context, conv string) ([]Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mc, ok := s.convs[conv]
	if !ok {
		return nil, ErrNotFound
	}
	return slices.Clone(mc.decisions), nil
}
