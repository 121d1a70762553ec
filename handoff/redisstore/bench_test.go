package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/benchtest"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/redis/go-redis/v9"
)

// benchClients are the numbers of goroutines that call the desk at once in the routing
// benchmarks: one alone, for the latency without contention, and as many as the console
// requests, widget hand-offs and sweeping nodes of a busy shop.
var benchClients = []int{1, 16}

// benchAgents is how many agents share the chats of the claim and assignment benchmarks.
const benchAgents = 20

// BenchmarkRouting measures the routing changes of a busy desk on a real redis-server
// (AOF on, fsync always, as in production), each op on its own conversation, with 1 and
// 16 callers at once:
//
//   - enqueue: Desk.Handoff of a conversation with the bot, on a desk that does not
//     assign (reservation, hand-off record and transfer phrase, end, events);
//   - claim: Desk.Claim of a waiting conversation by one of benchAgents agents;
//   - assign: Desk.Handoff on a desk that assigns, with benchAgents agents online: the
//     hand-off, then AutoAssign giving the head of the queue to the least loaded agent;
//     less enqueue, it is the assignment's cost.
//
// Besides ns/op (wall time over all callers, so 1e9/ns/op is the throughput, also given
// as ops/s), it reports the median and 99th percentile of one call's latency. Making
// the conversations an op needs is not timed.
func BenchmarkRouting(b *testing.B) {
	for _, clients := range benchClients {
		b.Run(fmt.Sprintf("enqueue/clients=%d", clients), func(b *testing.B) {
			d := benchDesk(b, false)
			ids := benchConversations(b, d, b.N, false)
			benchParallel(b, clients, func(ctx context.Context, i int) error {
				return d.Handoff(ctx, ids[i], handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonRequested, Group: handoff.GroupPresale})
			})
		})
		b.Run(fmt.Sprintf("claim/clients=%d", clients), func(b *testing.B) {
			d := benchDesk(b, false)
			ids := benchConversations(b, d, b.N, true)
			benchParallel(b, clients, func(ctx context.Context, i int) error {
				agent := fmt.Sprintf("agent%02d", i%benchAgents)
				c, err := d.Claim(ctx, ids[i], agent)
				if err == nil && c.Agent != agent {
					err = fmt.Errorf("claim of %s by %s gave it to %q", ids[i], agent, c.Agent)
				}
				return err
			})
		})
		b.Run(fmt.Sprintf("assign/clients=%d", clients), func(b *testing.B) {
			d := benchDesk(b, true)
			ids := benchConversations(b, d, b.N, false)
			ctx := context.Background()
			for i := range benchAgents {
				if _, err := d.Heartbeat(ctx, fmt.Sprintf("agent%02d", i), handoff.PresenceOnline); err != nil {
					b.Fatal(err)
				}
			}
			benchParallel(b, clients, func(ctx context.Context, i int) error {
				return d.Handoff(ctx, ids[i], handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonRequested, Group: handoff.GroupPresale})
			})
			if w, err := d.Waiting(ctx, handoff.GroupPresale); err != nil || len(w) != 0 {
				b.Fatalf("after %d assigned hand-offs %d chats still wait (%v)", b.N, len(w), err)
			}
		})
	}
}

// benchDesk returns a desk on a fresh redis-server, that assigns chats when auto is set,
// with benchAgents pre-sale agents whose limit no benchmark reaches.
func benchDesk(b *testing.B, auto bool) *handoff.Desk {
	b.Helper()
	r := desktest.Open(b, desktest.Options{
		Engine: desktest.Redis,
		Now:    time.Now,
		Client: func(addr string) *redis.Client {
			return redis.NewClient(&redis.Options{Addr: addr, PoolSize: 2 * slices.Max(benchClients)})
		},
		Desk: func(c *handoff.DeskConfig) { c.ManualOnly, c.MaxChats = !auto, b.N },
	})
	for i := range benchAgents {
		r.Staff.Add(account.User{Name: fmt.Sprintf("agent%02d", i), Role: account.RoleAgent, Group: string(handoff.GroupPresale)})
	}
	return r.Desk
}

// benchConversations starts n conversations in which the shopper wrote once, each handed
// off to the pre-sale queue when queued is set.
func benchConversations(b *testing.B, d *handoff.Desk, n int, queued bool) []string {
	b.Helper()
	ids := make([]string, n)
	err := benchEach(n, func(ctx context.Context, i int) error {
		c, _, err := d.StartAs(ctx, nil)
		if err != nil {
			return err
		}
		ids[i] = c.ID
		if _, _, err := d.Append(ctx, c.ID, handoff.Message{ID: "m1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "转人工"}); err != nil {
			return err
		}
		if !queued {
			return nil
		}
		return d.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonRequested, Group: handoff.GroupPresale})
	})
	if err != nil {
		b.Fatalf("preparing %d conversations: %v", n, err)
	}
	return ids
}

// benchEach calls f for 0 … n-1 from 16 goroutines and returns the errors.
func benchEach(n int, f func(ctx context.Context, i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for w := range errs {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := f(context.Background(), i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// benchParallel runs op b.N times from clients goroutines, op i once for each i in
// 0 … b.N-1, and reports the throughput and the latency percentiles of one op.
func benchParallel(b *testing.B, clients int, op func(ctx context.Context, i int) error) {
	b.Helper()
	elapsed, ok := benchtest.Parallel(b, clients, func(_, i int) (time.Duration, error) {
		start := time.Now()
		err := op(context.Background(), i)
		return time.Since(start), err
	})
	if ok {
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	}
}
