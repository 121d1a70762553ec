//go:build legacyconsole

package handoff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestShopperIndex(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s := e.new(t)
			sh := &Shopper{ID: "buyer-1", Name: "王小明", VIP: 2, Verified: true,
				Orders: []Order{{ID: "2024052012345678901", Items: []string{"围巾"}, Status: "已发货"}}}
			c := Conversation{ID: "c1", TokenHash: hashToken("t"), Epoch: "e", Status: StatusBot, CreatedAt: time.UnixMilli(1_700_000_000_000), Shopper: sh}
			if err := s.Create(ctx, c); err != nil {
				t.Fatal(err)
			}
			got, err := s.Conversation(ctx, "c1")
			if err != nil || !reflect.DeepEqual(got.Shopper, sh) {
				t.Fatalf("Conversation().Shopper = %+v, %v; want %+v", got.Shopper, err, sh)
			}

			for i := range maxShopperHistory + 5 {
				if err := s.AddShopperConversation(ctx, "buyer-1", fmt.Sprintf("c%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			// Adding one again moves it to the front instead of listing it twice.
			if err := s.AddShopperConversation(ctx, "buyer-1", "c10"); err != nil {
				t.Fatal(err)
			}
			ids, err := s.ShopperConversations(ctx, "buyer-1")
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"c10"}
			for i := maxShopperHistory + 4; len(want) < maxShopperHistory; i-- {
				if i != 10 {
					want = append(want, fmt.Sprintf("c%d", i))
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("ShopperConversations = %v\nwant %v", ids, want)
			}
			if ids, err := s.ShopperConversations(ctx, "buyer-2"); err != nil || len(ids) != 0 {
				t.Errorf("another shopper's index = %v, %v; want empty", ids, err)
			}
		})
	}
}

func TestDecisions(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			s := e.new(t)
			newConv(t, s, "c1")
			for i := range maxDecisions + 3 {
				d := Decision{Key: fmt.Sprintf("m%d", i), Seq: int64(i), Action: "answer", Confidence: 0.5,
					Hits: []Candidate{{ID: "a", Title: "A", Category: "presale", Score: 1.5}}}
				if err := s.AddDecision(ctx, "c1", d); err != nil {
					t.Fatal(err)
				}
			}
			// A retry of the newest is not kept twice.
			if err := s.AddDecision(ctx, "c1", Decision{Key: fmt.Sprintf("m%d", maxDecisions+2), Action: "handoff"}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Decisions(ctx, "c1")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != maxDecisions || got[0].Key != "m3" || got[len(got)-1].Key != fmt.Sprintf("m%d", maxDecisions+2) || got[len(got)-1].Action != "answer" {
				t.Errorf("Decisions = %d, first %+v, last %+v; want the last %d, oldest first, kept once", len(got), got[0], got[len(got)-1], maxDecisions)
			}
			if len(got[0].Hits) != 1 || got[0].Hits[0].Score != 1.5 {
				t.Errorf("decision hits = %+v", got[0].Hits)
			}
			if err := s.AddDecision(ctx, "c_unknown", Decision{Key: "m1"}); !errors.Is(err, ErrNotFound) {
				t.Errorf("AddDecision on an unknown conversation = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestConsolePacket: GET /api/conversations/{id} carries the context packet: the
// verified shopper with their orders, every bot decision, the numbers in the shopper's
// text, the waiting time and earlier conversations; an anonymous visitor's packet shows
// no attributes and marks detected order numbers unverified.
func TestConsolePacket(t *testing.T) {
	for _, e := range ctEngines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f := ctNewConsole(t, e.open)
			ctx := context.Background()
			d := f.desk
			buyer := &Shopper{ID: "buyer-7", Name: "李四", VIP: 4, Verified: true,
				Orders: []Order{{ID: "2024052012345678901", Items: []string{"羊毛围巾"}, Status: "已发货"}}}

			old, _, err := d.StartAs(ctx, buyer)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.Append(ctx, old.ID, Message{ID: "o1", Kind: KindMessage, From: FromShopper, Text: "可以开发票吗"}); err != nil {
				t.Fatal(err)
			}
			other, _, _ := d.StartAs(ctx, &Shopper{ID: "buyer-8", Verified: true})

			c, _, err := d.StartAs(ctx, buyer)
			if err != nil {
				t.Fatal(err)
			}
			m1, _, _ := d.Append(ctx, c.ID, Message{ID: "m1", Kind: KindMessage, From: FromShopper, Text: "多久发货"})
			m2, _, _ := d.Append(ctx, c.ID, Message{ID: "m2", Kind: KindMessage, From: FromShopper, Text: "订单2024052012345678901还没到，电话13812345678"})
			decs := []Decision{
				{Key: "m1", Seq: m1.Seq, Action: "answer", Intent: "insale", Category: "insale", Confidence: 0.91, Article: "shipping-time",
					Hits: []Candidate{{ID: "shipping-time", Title: "多久发货", Category: "insale", Score: 4.2}}},
				{Key: "m2", Seq: m2.Seq, Action: "handoff", Reason: "low_confidence", Intent: "aftersale", Confidence: 0.2},
			}
			for _, dec := range decs {
				if err := d.RecordDecision(ctx, c.ID, dec); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Handoff(ctx, c.ID, HandoffRequest{Key: "m2", Reason: "low_confidence", Group: GroupPresale, Intent: "aftersale", VIP: buyer.VIP}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(90 * time.Second)

			status, body := f.call(t, "GET", "/api/conversations/"+c.ID, f.token["pete"], nil)
			ctWant(t, "GET conversation", status, body, http.StatusOK)
			var got struct{ Packet Packet }
			ctDecode(t, body, &got)
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
			wantDet := []Detected{
				{Kind: DetectedOrder, Value: "2024052012345678901", Masked: "2024***********8901", Seq: m2.Seq, Verified: true},
				{Kind: DetectedPhone, Value: "13812345678", Masked: "138****5678", Seq: m2.Seq, Verified: true},
			}
			if !reflect.DeepEqual(p.Detected, wantDet) {
				t.Errorf("packet detected = %+v\nwant %+v", p.Detected, wantDet)
			}
			if p.WaitingS < 90 || p.WaitingS > 91 {
				t.Errorf("packet waiting_s = %d, want 90", p.WaitingS)
			}
			if len(p.Previous) != 1 || p.Previous[0].ID != old.ID || p.Previous[0].First != "可以开发票吗" || p.Previous[0].Status != StatusBot {
				t.Errorf("packet previous = %+v, want only %s (not %s, another buyer's, nor this one)", p.Previous, old.ID, other.ID)
			}

			// An anonymous visitor: nothing unsigned is shown, typed order numbers are
			// marked unverified, and there is no history.
			anon, _, _ := d.StartAs(ctx, &Shopper{ID: "v_abc"})
			d.Append(ctx, anon.ID, Message{ID: "a1", Kind: KindMessage, From: FromShopper, Text: "我的订单JD1234567890123"})
			status, body = f.call(t, "GET", "/api/conversations/"+anon.ID, f.token["pete"], nil)
			ctWant(t, "GET anonymous conversation", status, body, http.StatusOK)
			got.Packet = Packet{}
			ctDecode(t, body, &got)
			p = got.Packet
			if p.Shopper == nil || p.Shopper.Verified || p.Shopper.ID != "v_abc" || p.Shopper.Name != "" || len(p.Shopper.Orders) != 0 {
				t.Errorf("anonymous packet shopper = %+v", p.Shopper)
			}
			if len(p.Detected) != 1 || p.Detected[0].Verified || p.Detected[0].Kind != DetectedOrder {
				t.Errorf("anonymous packet detected = %+v, want one unverified order number", p.Detected)
			}
			if len(p.Previous) != 0 || len(p.Decisions) != 0 || p.WaitingS != 0 {
				t.Errorf("anonymous packet previous, decisions, waiting = %+v, %+v, %d; want none", p.Previous, p.Decisions, p.WaitingS)
			}
		})
	}
}
