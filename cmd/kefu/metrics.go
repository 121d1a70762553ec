package main

import (
	"context"
	"slices"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// scrapeGauges are the gauges read when /metrics is scraped: the queues (all nodes),
// the articles in this node's index and whether it follows the article feed.
type scrapeGauges struct {
	a   *app
	log zerolog.Logger
}

var (
	queueWaitingDesc = prometheus.NewDesc("kefu_queue_waiting",
		"Conversations waiting for a person, by skill group (all nodes).", []string{"group"}, nil)
	articlesDesc = prometheus.NewDesc("kefu_articles", "Articles in this node's index.", nil, nil)
	staleDesc    = prometheus.NewDesc("kefu_knowledge_index_stale",
		"1 while this node cannot follow the article change feed, so its index may lag behind.", nil, nil)
)

// Describe implements prometheus.Collector.
func (s *scrapeGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueWaitingDesc
	ch <- articlesDesc
	ch <- staleDesc
}

// Collect implements prometheus.Collector. A queue that cannot be read is left out and
// logged; the other gauges are still served.
func (s *scrapeGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waiting, err := s.a.desk.Waiting(ctx, "")
	if err != nil {
		s.log.Warn().Err(err).Msg("metrics: reading the queue")
	} else {
		groups := map[handoff.Group]int{}
		for _, c := range waiting {
			groups[c.Group]++
		}
		names := s.a.desk.Groups()
		slices.Sort(names)
		for _, g := range names {
			ch <- prometheus.MustNewConstMetric(queueWaitingDesc, prometheus.GaugeValue, float64(groups[g]), string(g))
		}
	}
	ch <- prometheus.MustNewConstMetric(articlesDesc, prometheus.GaugeValue, float64(s.a.index.Len()))
	ch <- prometheus.MustNewConstMetric(staleDesc, prometheus.GaugeValue, b2f(s.a.knowledge.Follower().Stale()))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
