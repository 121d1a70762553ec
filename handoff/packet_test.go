package handoff

import (
	"context"
	"errors"
	"fmt"
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

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"订单号2024052012345678901，手机13812345678", []string{"order 2024052012345678901 2024***********8901", "phone 13812345678 138****5678"}},
		{"单号 JD1234567890123 电话 138-1234-5678", []string{"order JD1234567890123 JD12*******0123", "phone 13812345678 138****5678"}},
		{"电话138 1234 5678和13812345678", []string{"phone 13812345678 138****5678"}},
		{"123456789012345（15 位）、12812345678、138123456789", nil},
		{"价格 199 元，SKU A12", nil},
	} {
		var got []string
		for _, d := range Detect(tc.text) {
			got = append(got, d.Kind+" "+d.Value+" "+d.Masked)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Detect(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
