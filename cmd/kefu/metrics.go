package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kefu-im/kefu/handoff"
	"github.com/rs/zerolog"
)

// metrics serves GET /metrics in the Prometheus text format: the gateway's counters and
// the queue read at scrape time.
func metrics(a *app) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		metric := func(name, typ, help string) {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		}
		st := a.gateway.Stats()
		metric("kefu_shopper_connections", "gauge", "Open shopper websockets on this node.")
		fmt.Fprintf(&b, "kefu_shopper_connections %d\n", st.Connections)
		metric("kefu_conversations_started_total", "counter", "Conversations started on this node.")
		fmt.Fprintf(&b, "kefu_conversations_started_total %d\n", st.Conversations)
		metric("kefu_shopper_messages_total", "counter", "Shopper messages stored by this node.")
		fmt.Fprintf(&b, "kefu_shopper_messages_total %d\n", st.Messages)
		metric("kefu_bot_decisions_total", "counter", "Bot decisions on this node by action and hand-off reason.")
		for _, d := range st.Decisions {
			fmt.Fprintf(&b, "kefu_bot_decisions_total{action=%q,reason=%q} %d\n", d.Action, d.Reason, d.Count)
		}
		metric("kefu_bot_feedback_total", "counter", "Shoppers' feedback on bot answers on this node (有帮助: helpful true, 没帮助: false), by the article answered from.")
		for _, f := range st.Feedback {
			fmt.Fprintf(&b, "kefu_bot_feedback_total{article=%q,helpful=\"%t\"} %d\n", f.Article, f.Helpful, f.Count)
		}
		waiting, err := a.desk.Waiting(r.Context(), "")
		if err != nil {
			zerolog.Ctx(r.Context()).Warn().Err(err).Msg("metrics: reading the queue")
		} else {
			groups := map[handoff.Group]int{}
			for _, c := range waiting {
				groups[c.Group]++
			}
			metric("kefu_queue_waiting", "gauge", "Conversations waiting for a person, by skill group (all nodes).")
			names := a.desk.Groups()
			slices.Sort(names)
			for _, g := range names {
				fmt.Fprintf(&b, "kefu_queue_waiting{group=%q} %d\n", g, groups[g])
			}
		}
		metric("kefu_articles", "gauge", "Articles in this node's index.")
		fmt.Fprintf(&b, "kefu_articles %d\n", a.index.Len())
		metric("kefu_knowledge_index_stale", "gauge", "1 while this node cannot follow the article change feed, so its index may lag behind.")
		fmt.Fprintf(&b, "kefu_knowledge_index_stale %d\n", b2i(a.knowledge.Follower().Stale()))
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write([]byte(b.String()))
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
