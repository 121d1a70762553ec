package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/timetest"
	"github.com/redis/go-redis/v9"
)

// TestShopperErasureRedis: on Redis, an anonymous shopper (named by their conversation
// id) asks the bot something it cannot answer (the editors' unanswered inbox gets it),
// gives a phone number and an address, is served by an agent who writes a note and
// opens a ticket; the admin exports everything kept about them, then erases it. After
// that no key of the store, and no value of any key, holds the conversation id, the
// phone number or any text of theirs — checked key by key — and the ticket stays,
// stripped of personal data. The audit log names the shopper by a digest only.
func TestShopperErasureRedis(t *testing.T) {
	t.Parallel() // waits mostly on servers and timers: it overlaps the rest
	rs, env := redisEnv(t)
	k := startKefu(t, "", env...)
	admin := adminAdding(t, k)

	const (
		question = "明天上海下雨吗"
		personal = "我的手机 13912345678，地址杭州市西湖区文三路 88 号"
		reply    = "好的，已记下您的地址"
		note     = "顾客住文三路，优先处理"
	)
	s, _ := dialShopper(t, k, "")
	conv := s.conv
	s.send(map[string]any{"type": "message", "id": "m1", "text": question})
	s.until("handoff", isType("handoff"))
	s.send(map[string]any{"type": "message", "id": "m2", "text": personal})
	s.until("the personal message stored", func(f map[string]any) bool { return f["type"] == "ack" || isFrom("shopper")(f) })
	var inbox struct{ Total int }
	timetest.Poll(t, 10*time.Second, "the question reaches the unanswered inbox", func() bool {
		return admin.do("GET", "/api/unanswered", nil, &inbox) == 200 && inbox.Total > 0
	})

	admin.waitQueued(conv)
	if code := admin.do("POST", "/api/conversations/"+conv+"/claim", nil, nil); code != 200 {
		t.Fatalf("claim: %d", code)
	}
	if code := admin.do("POST", "/api/conversations/"+conv+"/messages", map[string]any{"text": reply, "id": "r1"}, nil); code != 201 {
		t.Fatalf("reply: %d", code)
	}
	if code := admin.do("POST", "/api/conversations/"+conv+"/notes", map[string]any{"text": note, "id": "n1"}, nil); code != 201 {
		t.Fatalf("note: %d", code)
	}
	var tk struct{ Ticket struct{ ID string } }
	if code := admin.do("POST", "/api/tickets", map[string]any{
		"conversation": conv, "order": "20261207001", "type": "refund", "reason": "顾客说杯子碎了，电话 13912345678",
		"evidence": []string{"defect_photo"}, "remedy": map[string]any{"text": "退款", "amount_fen": 1990},
	}, &tk); code != 201 || tk.Ticket.ID == "" {
		t.Fatalf("opening a ticket: %d %+v", code, tk)
	}

	var export map[string]any
	if code := admin.do("GET", "/api/shoppers/"+conv+"/export", nil, &export); code != 200 {
		t.Fatalf("export: %d", code)
	}
	dump, _ := json.Marshal(export)
	for _, want := range []string{question, personal, reply, note, tk.Ticket.ID, "20261207001"} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("the export lacks %q", want)
		}
	}

	var erased map[string]int
	if code := admin.do("DELETE", "/api/shoppers/"+conv, nil, &erased); code != 200 {
		t.Fatalf("erase: %d", code)
	}
	// The bot stays while the shopper waits: both messages may reach the inbox.
	if erased["conversations"] != 1 || erased["tickets"] != 1 || erased["unanswered"] < 1 {
		t.Errorf("erase answered %v, want 1 conversation, 1 ticket, the unanswered questions", erased)
	}
	if code := admin.do("GET", "/api/shoppers/"+conv+"/export", nil, nil); code != 404 {
		t.Errorf("export after the erasure: %d, want 404", code)
	}
	var ticket map[string]any
	if code := admin.do("GET", "/api/tickets/"+tk.Ticket.ID, nil, &ticket); code != 200 {
		t.Errorf("the ticket after the erasure: %d, want it kept", code)
	}

	// Key by key: nothing of the shopper is left anywhere in the store.
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	defer rdb.Close()
	prefix := strings.TrimPrefix(env[1], "KEFU_REDIS_PREFIX=")
	leftovers := scanFor(t, rdb, prefix, conv, "13912345678", question, personal, reply, note, "20261207001", "文三路")
	for _, l := range leftovers {
		t.Errorf("left after the erasure: %s", l)
	}
}

// scanFor reads every key under prefix and returns, for each needle found in a key's
// name or value, where.
func scanFor(t *testing.T, rdb *redis.Client, prefix string, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	keys := 0
	it := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for it.Next(ctx) {
		key := it.Val()
		keys++
		var val string
		switch typ := rdb.Type(ctx, key).Val(); typ {
		case "string":
			val = rdb.Get(ctx, key).Val()
		case "hash":
			val = fmt.Sprint(rdb.HGetAll(ctx, key).Val())
		case "list":
			val = fmt.Sprint(rdb.LRange(ctx, key, 0, -1).Val())
		case "set":
			val = fmt.Sprint(rdb.SMembers(ctx, key).Val())
		case "zset":
			val = fmt.Sprint(rdb.ZRangeWithScores(ctx, key, 0, -1).Val())
		case "stream":
			val = fmt.Sprint(rdb.XRange(ctx, key, "-", "+").Val())
		default:
			t.Fatalf("key %s of type %s: not read", key, typ)
		}
		for _, n := range needles {
			if strings.Contains(key, n) || strings.Contains(val, n) {
				out = append(out, fmt.Sprintf("%q in key %s", n, key))
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if keys == 0 {
		t.Fatal("no key under the prefix: the scan read nothing")
	}
	return out
}
