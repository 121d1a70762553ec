package console

import (
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestConsolePacket: GET /api/conversations/{id} carries the context packet: the
// verified shopper with their orders, every bot decision, the numbers in the shopper's
// text, the waiting time and earlier conversations; an anonymous visitor's packet shows
// no attributes and marks detected order numbers unverified.
func TestConsolePacket(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := ctNewConsole(t, engine)
		ctx := context.Background()
		d := f.desk
		buyer := &handoff.Shopper{ID: "buyer-7", Name: "李四", VIP: 4, Verified: true,
			Orders: []handoff.Order{{ID: "2024052012345678901", Items: []string{"羊毛围巾"}, Status: "已发货"}}}

		old, _, err := d.StartAs(ctx, buyer)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.Append(ctx, old.ID, handoff.Message{ID: "o1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "可以开发票吗"}); err != nil {
			t.Fatal(err)
		}
		other, _, _ := d.StartAs(ctx, &handoff.Shopper{ID: "buyer-8", Verified: true})

		c, _, err := d.StartAs(ctx, buyer)
		if err != nil {
			t.Fatal(err)
		}
		m1, _, _ := d.Append(ctx, c.ID, handoff.Message{ID: "m1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "多久发货"})
		m2, _, _ := d.Append(ctx, c.ID, handoff.Message{ID: "m2", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "订单2024052012345678901还没到，电话13812345678"})
		decs := []handoff.Decision{
			{Key: "m1", Seq: m1.Seq, Action: "answer", Intent: "insale", Category: "insale", Confidence: 0.91, Article: "shipping-time",
				Hits: []handoff.Candidate{{ID: "shipping-time", Title: "多久发货", Category: "insale", Score: 4.2}}},
			{Key: "m2", Seq: m2.Seq, Action: "handoff", Reason: "low_confidence", Intent: "aftersale", Confidence: 0.2},
		}
		for _, dec := range decs {
			if err := d.RecordDecision(ctx, c.ID, dec); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Handoff(ctx, c.ID, handoff.HandoffRequest{Key: "m2", Reason: "low_confidence", Group: handoff.GroupPresale, Intent: "aftersale"}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(90 * time.Second)

		status, body := f.api.Call(t, "GET", "/api/conversations/"+c.ID, f.token["pete"], nil)
		webtest.WantStatus(t, "GET conversation", status, body, http.StatusOK)
		var got struct{ Packet handoff.Packet }
		webtest.Decode(t, body, &got)
		p := got.Packet
		if !reflect.DeepEqual(p.Shopper, buyer) {
			t.Errorf("packet shopper = %+v, want %+v", p.Shopper, buyer)
		}
		if len(p.Decisions) != 2 || p.Decisions[0].Key != "m1" || p.Decisions[0].Hits[0].Score != 4.2 ||
			p.Decisions[1].Reason != "low_confidence" || p.Decisions[1].Confidence != 0.2 || p.Decisions[0].TS == 0 {
			t.Errorf("packet decisions = %+v, want both, oldest first, with reasons, scores and times", p.Decisions)
		}
		if p.Intent != "aftersale" || p.Category != "insale" {
			t.Errorf("packet intent, category = %q, %q; want aftersale, insale", p.Intent, p.Category)
		}
		wantDet := []handoff.Detected{
			{Kind: handoff.DetectedOrder, Value: "2024052012345678901", Masked: "2024***********8901", Seq: m2.Seq, Verified: true},
			{Kind: handoff.DetectedPhone, Value: "13812345678", Masked: "138****5678", Seq: m2.Seq, Verified: true},
		}
		if !reflect.DeepEqual(p.Detected, wantDet) {
			t.Errorf("packet detected = %+v\nwant %+v", p.Detected, wantDet)
		}
		if p.WaitingS < 90 || p.WaitingS > 91 {
			t.Errorf("packet waiting_s = %d, want 90", p.WaitingS)
		}
		if len(p.Previous) != 1 || p.Previous[0].ID != old.ID || p.Previous[0].First != "可以开发票吗" || p.Previous[0].Status != handoff.StatusBot {
			t.Errorf("packet previous = %+v, want only %s (not %s, another buyer's, nor this one)", p.Previous, old.ID, other.ID)
		}

		// An anonymous visitor: nothing unsigned is shown, typed order numbers are
		// marked unverified, and there is no history.
		anon, _, _ := d.StartAs(ctx, &handoff.Shopper{ID: "v_abc"})
		d.Append(ctx, anon.ID, handoff.Message{ID: "a1", Kind: handoff.KindMessage, From: handoff.FromShopper, Text: "我的订单JD1234567890123"})
		// Only the bot served it: no agent reads it, an admin does.
		status, body = f.api.Call(t, "GET", "/api/conversations/"+anon.ID, f.token["pete"], nil)
		webtest.WantError(t, "GET a chat only the bot served as an agent", status, body, http.StatusForbidden, "forbidden")
		status, body = f.api.Call(t, "GET", "/api/conversations/"+anon.ID, f.token["admin"], nil)
		webtest.WantStatus(t, "GET anonymous conversation", status, body, http.StatusOK)
		got.Packet = handoff.Packet{}
		webtest.Decode(t, body, &got)
		p = got.Packet
		if p.Shopper == nil || p.Shopper.Verified || p.Shopper.ID != "v_abc" || p.Shopper.Name != "" || len(p.Shopper.Orders) != 0 {
			t.Errorf("anonymous packet shopper = %+v", p.Shopper)
		}
		if len(p.Detected) != 1 || p.Detected[0].Verified || p.Detected[0].Kind != handoff.DetectedOrder {
			t.Errorf("anonymous packet detected = %+v, want one unverified order number", p.Detected)
		}
		if len(p.Previous) != 0 || len(p.Decisions) != 0 || p.WaitingS != 0 {
			t.Errorf("anonymous packet previous, decisions, waiting = %+v, %+v, %d; want none", p.Previous, p.Decisions, p.WaitingS)
		}
	})
}
