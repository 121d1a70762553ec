package redisstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/redis/go-redis/v9"
)

// tripKey marks the context of the calls whose round trips to Redis are counted.
type tripKey struct{}

// tripCounter counts the round trips made with a context marked by tripKey: a command,
// or a pipeline or transaction of several, each one trip.
type tripCounter struct{}

func (tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n, ok := ctx.Value(tripKey{}).(*atomic.Int64); ok {
			n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if n, ok := ctx.Value(tripKey{}).(*atomic.Int64); ok {
			n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestReplyRoundTrips: an agent's reply is two round trips to Redis: the conversation
// read, and the script that appends the reply and publishes it. The first reply of a
// chat takes one more, to count its first-response time in the reports, whose counters
// live in another slot of a Redis Cluster than the conversation. (The console's request
// adds none while its session is remembered: internal/account's TestSessionCache.)
func TestReplyRoundTrips(t *testing.T) {
	n := openNode(t, desktest.Options{
		Desk: manual,
		Client: func(addr string) *redis.Client {
			c := redis.NewClient(&redis.Options{Addr: addr})
			c.AddHook(tripCounter{})
			return c
		},
	})
	c := n.queued(t)
	ctx := context.Background()
	if _, err := n.Desk.Claim(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"您好，我是客服小美，很高兴为您服务。", "订单已经发出，预计明天送达。", "还有其他可以帮您的吗？"} {
		var trips atomic.Int64
		if _, err := n.Desk.Reply(context.WithValue(ctx, tripKey{}, &trips), c.ID, "alice", "", text); err != nil {
			t.Fatal(err)
		}
		want := int64(2)
		if i == 0 {
			want = 3
		}
		if got := trips.Load(); got != want {
			t.Errorf("reply %d took %d round trips to Redis, want %d", i+1, got, want)
		}
	}
}
