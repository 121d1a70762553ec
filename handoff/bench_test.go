package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff/redistest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/redis/go-redis/v9"
)

// benchClients are the numbers of goroutines that call the desk at once in the routing
// benchmarks: one alone, for the latency without contention, and as many as the console
// requests, widget hand-offs and sweeping nodes of a busy shop.
var benchClients = []int{1, 16}

// benchAgents is how many agents share the chats of the claim and assignment benchmarks.
const benchAgents = 20

// BenchmarkRedisRouting measures the three routing changes of a busy desk on a real
// redis-server (AOF on, fsync always, as in production), each op on its own
// conversation, with 1 and 16 callers at once:
//
//   - enqueue: Desk.Handoff of a conversation with the bot (routing write, hand-off
//     record and transfer phrase, finish, events);
//   - claim: Desk.Claim of a waiting conversation by one of benchAgents agents;
//   - assign: one turn of Desk.AutoAssign's loop, the assign script giving the head of
//     the queue to the least loaded of benchAgents online agents, then the
//     conversation side.
//
// Besides ns/op (wall time over all callers, so 1e9/ns/op is the throughput, also given
// as ops/s), it reports the median and 99th percentile of one call's latency. Making
// the conversations an op needs is not timed.
func BenchmarkRedisRouting(b *testing.B) {
	for _, clients := range benchClients {
		b.Run(fmt.Sprintf("enqueue/clients=%d", clients), func(b *testing.B) {
			d := benchDesk(b, 0)
			ids := benchConversations(b, d, b.N, false)
			benchParallel(b, clients, func(ctx context.Context, i int) error {
				return d.Handoff(ctx, ids[i], HandoffRequest{Key: "m1", Reason: "requested", Group: GroupPresale})
			})
		})
		b.Run(fmt.Sprintf("claim/clients=%d", clients), func(b *testing.B) {
			d := benchDesk(b, b.N)
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
			d := benchDesk(b, b.N)
			benchConversations(b, d, b.N, true)
			ctx := context.Background()
			for i := range benchAgents {
				name := fmt.Sprintf("agent%02d", i)
				staffOf(d).put(account.User{Name: name, Role: account.RoleAgent, Group: GroupPresale})
				// Through the store: the desk's Heartbeat would assign at once.
				p := Presence{Agent: name, Group: GroupPresale, Status: PresenceOnline, Cap: b.N, Seen: d.nowMS()}
				if err := d.store.Heartbeat(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			ps, err := d.store.Presences(ctx)
			if err != nil {
				b.Fatal(err)
			}
			var candidates []string
			for _, p := range ps {
				candidates = append(candidates, p.Agent)
			}
			cutoff := d.nowMS().Add(-d.grace)
			benchParallel(b, clients, func(ctx context.Context, _ int) error {
				return benchAssignOne(ctx, d, candidates, cutoff)
			})
			if w, err := d.Waiting(ctx, GroupPresale); err != nil || len(w) != 0 {
				b.Fatalf("after %d assignments %d chats still wait (%v)", b.N, len(w), err)
			}
		})
	}
}

// benchAssignOne is one turn of AutoAssign's loop: one chat of the pre-sale queue to one
// of candidates.
func benchAssignOne(ctx context.Context, d *Desk, candidates []string, cutoff time.Time) error {
	for range maxRerouteAttempts {
		op, ok, err := d.store.Assign(ctx, GroupPresale, candidates, cutoff, d.nowMS())
		switch {
		case errors.Is(err, errConflict):
			continue
		case err != nil:
			return err
		case !ok:
			return errors.New("nothing assigned: queue empty or every agent full")
		}
		return d.complete(ctx, op)
	}
	return ErrBusy
}

// benchDesk returns a desk on a fresh redis-server, without automatic assignment (each
// benchmark makes its changes itself), with a limit of maxChats chats per agent (0: the
// default).
func benchDesk(b *testing.B, maxChats int) *Desk {
	b.Helper()
	srv := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 2 * slices.Max(benchClients)})
	b.Cleanup(func() { rdb.Close() })
	s, err := NewRedisStore(RedisConfig{Client: rdb, Prefix: srv.Prefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewDesk(DeskConfig{Store: s, Staff: newTestStaff(), ManualOnly: true, MaxChats: maxChats})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// benchConversations starts n conversations in which the shopper wrote once, each handed
// off to the pre-sale queue when queued is set.
func benchConversations(b *testing.B, d *Desk, n int, queued bool) []string {
	b.Helper()
	ids := make([]string, n)
	err := benchEach(n, func(ctx context.Context, i int) error {
		c, _, err := d.Start(ctx)
		if err != nil {
			return err
		}
		ids[i] = c.ID
		if _, _, err := d.Append(ctx, c.ID, Message{ID: "m1", Kind: KindMessage, From: FromShopper, Text: "转人工"}); err != nil {
			return err
		}
		if !queued {
			return nil
		}
		return d.Handoff(ctx, c.ID, HandoffRequest{Key: "m1", Reason: "requested", Group: GroupPresale})
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
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		samples = make([]time.Duration, b.N)
		failed  atomic.Bool
	)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			ctx := context.Background()
			for i := int(next.Add(1)) - 1; i < b.N && !failed.Load(); i = int(next.Add(1)) - 1 {
				t0 := time.Now()
				err := op(ctx, i)
				samples[i] = time.Since(t0)
				if err != nil {
					b.Errorf("op %d: %v", i, err)
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() {
		return
	}
	slices.Sort(samples)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(benchMicros(benchPercentile(samples, 50)), "p50-µs")
	b.ReportMetric(benchMicros(benchPercentile(samples, 99)), "p99-µs")
}

// benchPercentile returns the p-th percentile of sorted samples by the nearest-rank
// method.
func benchPercentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100 // ⌈n·p/100⌉
	return sorted[max(rank, 1)-1]
}

func benchMicros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
