package redisstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/enginetest"
	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/kefu-im/kefu/internal/triage"
)

// sameRecord compares the fields of two records that can be compared with ==.
func sameRecord(a, b handoff.Message) bool {
	return a.Seq == b.Seq && a.Kind == b.Kind && a.From == b.From && a.ID == b.ID && a.Text == b.Text &&
		a.Agent == b.Agent && a.Reason == b.Reason && a.Group == b.Group && a.Status == b.Status && a.TS == b.TS
}

// TestRedisRestart stops Redis under a queued conversation and starts it again: calls
// fail while it is down, within their deadline, and everything is back (from the AOF)
// after.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := openNode(t, desktest.Options{Desk: manual})
	c, _, err := n.Desk.StartAs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := handoff.HandoffRequest{Key: "m1", Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Group: handoff.GroupAftersale,
		Context: &handoff.Context{Reason: triage.ReasonAfterSales, Intent: triage.IntentAftersale, Confidence: 0.42, Question: "我要退货",
			Hits: []handoff.Candidate{{ID: "return-policy", Title: "七天无理由退货", Score: 3.25}, {ID: "refund-time", Title: "退款多久到账", Score: 1.5}}}}
	if err := n.Desk.Handoff(ctx, c.ID, h); err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Desk.Append(ctx, c.ID, handoff.Message{ID: "m2", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "订单号 20240101"}); err != nil {
		t.Fatal(err)
	}
	before, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	n.Server.Stop()
	for _, call := range []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"Waiting", func(ctx context.Context) error { _, err := n.Desk.Waiting(ctx, ""); return err }},
		{"Claim", func(ctx context.Context) error { _, err := n.Desk.Claim(ctx, c.ID, "alice"); return err }},
		{"Reply", func(ctx context.Context) error {
			_, err := n.Desk.Reply(ctx, c.ID, "alice", "r1", "您好")
			return err
		}},
		{"ShopperSays", func(ctx context.Context) error {
			_, err := n.Desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m3", Text: "在吗"}, nil)
			return err
		}},
	} {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		errc := make(chan error, 1)
		go func() { errc <- call.do(ctx) }()
		select {
		case err := <-errc:
			if err == nil {
				t.Errorf("%s with Redis down: no error", call.name)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s with Redis down still running after 10s", call.name)
		}
		cancel()
	}

	n.Server.Restart()
	timetest.Poll(t, 10*time.Second, "an answer from Redis after the restart", func() bool { return n.Desk.Ping(ctx) == nil })
	got := n.get(t, c.ID)
	if got.Status != handoff.StatusQueued || got.Group != handoff.GroupAftersale || got.Seq != int64(len(before)) || got.Context == nil || len(got.Context.Hits) != 2 {
		t.Errorf("after the restart the conversation is %+v", got)
	}
	after, err := n.Desk.Messages(ctx, c.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("log has %d records after the restart, %d before", len(after), len(before))
	}
	for i := range after {
		if !sameRecord(after[i], before[i]) {
			t.Errorf("record %d after the restart = %+v, before %+v", i+1, after[i], before[i])
		}
	}
	if w := n.waiting(t, handoff.GroupAftersale); !slices.Equal(w, []string{c.ID}) {
		t.Errorf("Waiting after the restart = %v, want [%s]", w, c.ID)
	}
	claimed, err := n.Desk.Claim(ctx, c.ID, "alice")
	if err != nil || claimed.Status != handoff.StatusActive || claimed.Agent != "alice" {
		t.Fatalf("Claim after the restart = %s with %q, %v", claimed.Status, claimed.Agent, err)
	}
	if k := enginetest.CountStatus(t, n.Desk, c.ID, handoff.StatusActive); k != 1 {
		t.Errorf("log has %d status-active records, want 1", k)
	}
}
