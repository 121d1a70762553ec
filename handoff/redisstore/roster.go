package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

// SetPresence implements handoff.Roster.
func (s *Store) SetPresence(ctx context.Context, p handoff.Presence, old *handoff.Presence) (bool, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("encoding presence: %w", err)
	}
	cmp, was := "0", ""
	if old != nil {
		o, err := json.Marshal(*old)
		if err != nil {
			return false, err
		}
		cmp, was = "1", string(o)
	}
	n, err := swapScript.Run(ctx, s.rdb, []string{s.q("agents")}, p.Agent, b, cmp, was).Int()
	if err != nil {
		return false, fmt.Errorf("storing the presence of %q: %w", p.Agent, err)
	}
	return n == 1, nil
}

// Presences implements handoff.Roster.
func (s *Store) Presences(ctx context.Context) ([]handoff.Presence, error) {
	m, err := s.rdb.HGetAll(ctx, s.q("agents")).Result()
	if err != nil {
		return nil, fmt.Errorf("reading presences: %w", err)
	}
	out := make([]handoff.Presence, 0, len(m))
	for a, v := range m {
		var p handoff.Presence
		if err := json.Unmarshal([]byte(v), &p); err != nil {
			return nil, fmt.Errorf("decoding the presence of %q: %w", a, err)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b handoff.Presence) int { return strings.Compare(a.Agent, b.Agent) })
	return out, nil
}

// Waits implements handoff.Roster.
func (s *Store) Waits(ctx context.Context) ([]time.Duration, error) {
	vals, err := s.rdb.LRange(ctx, s.q("waits"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading waits: %w", err)
	}
	out := make([]time.Duration, 0, len(vals))
	for _, v := range vals {
		n, _ := strconv.ParseInt(v, 10, 64)
		out = append(out, time.Duration(n)*time.Millisecond)
	}
	return out, nil
}
