package handoff_test

import (
	"context"
	"testing"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/metrics"
	"github.com/kefu-im/kefu/internal/triage"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestMetricsOfAChat walks a chat through hand-off, claim and first reply and reads
// what the desk counted: the hand-off by reason and group, the wait, the first
// response and the messages by author; a retried hand-off is not counted again.
func TestMetricsOfAChat(t *testing.T) {
	m := metrics.New()
	r := desktest.Open(t, desktest.Options{Desk: func(c *handoff.DeskConfig) { c.Metrics, c.ManualOnly = m, true }})
	r.Staff.Add(account.User{Name: "carol", Role: account.RoleAgent, Group: string(handoff.GroupAftersale)})
	ctx := context.Background()
	c, _, err := r.Desk.StartAs(ctx, &handoff.Shopper{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Desk.ShopperSays(ctx, c.ID, handoff.ShopperMessage{ID: "m1", Text: "你好"}, nil); err != nil {
		t.Fatal(err)
	}
	h := handoff.HandoffRequest{Key: "h1", Reason: triage.ReasonAfterSales, Group: handoff.GroupAftersale}
	for range 2 { // the second is a retry
		if err := r.Desk.Handoff(ctx, c.ID, h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Desk.Claim(ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		if _, err := r.Desk.Reply(ctx, c.ID, "carol", id, "您好，请提供订单号"); err != nil {
			t.Fatal(err)
		}
	}
	for name, got := range map[string]float64{
		"handoffs aftersale": testutil.ToFloat64(m.Handoffs.WithLabelValues(string(triage.ReasonAfterSales), "aftersale")),
		"shopper messages":   testutil.ToFloat64(m.Messages.WithLabelValues("shopper")),
		"agent messages":     testutil.ToFloat64(m.Messages.WithLabelValues("agent")) / 2,
	} {
		if got != 1 {
			t.Errorf("%s = %v, want 1", name, got)
		}
	}
	for _, name := range []string{"kefu_queue_wait_seconds", "kefu_first_response_seconds"} {
		if n := testutil.CollectAndCount(m.Registry, name); n != 1 {
			t.Errorf("%s has %d series, want 1 (aftersale)", name, n)
		}
	}
	if n := sampleCount(t, m, "kefu_first_response_seconds"); n != 1 {
		t.Errorf("first responses observed %d, want 1 (the second reply is no first one)", n)
	}
	if n := sampleCount(t, m, "kefu_queue_wait_seconds"); n != 1 {
		t.Errorf("waits observed %d, want 1", n)
	}
}

// sampleCount is how many observations the histogram name holds over its series.
func sampleCount(t *testing.T, m *metrics.Metrics, name string) uint64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, s := range mf.GetMetric() {
				n += s.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}
