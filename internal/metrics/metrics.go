// Package metrics holds one process's Prometheus metrics: a registry of its own (no
// global state, so that tests run several nodes in one process) and the collectors the
// parts of kefu update. cmd/kefu creates one Metrics and hands it to the parts; a part
// given none makes its own, which nobody scrapes.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the collectors of one process. Every field is safe for concurrent use.
type Metrics struct {
	// Registry holds every collector below, the Go runtime's and the process's.
	Registry *prometheus.Registry

	// ShopperConnections is the number of open shopper websockets.
	ShopperConnections prometheus.Gauge
	// ConversationsStarted counts conversations started.
	ConversationsStarted prometheus.Counter
	// ShopperMessages counts shopper messages stored by the gateway.
	ShopperMessages prometheus.Counter
	// RateLimited counts the shoppers' requests refused by a limit, by the limit's name.
	RateLimited *prometheus.CounterVec
	// BotDecisions counts the bot's decisions by action and hand-off reason.
	BotDecisions *prometheus.CounterVec
	// BotFeedback counts 有帮助 / 没帮助 on bot answers by article and helpful.
	BotFeedback *prometheus.CounterVec
	// BotDecisionSeconds is how long the bot took to decide on a shopper's message.
	BotDecisionSeconds prometheus.Histogram
	// QueueWaitSeconds is how long a handed-off chat waited until an agent took it, by
	// group.
	QueueWaitSeconds *prometheus.HistogramVec
	// FirstResponseSeconds is how long from the hand-off to the agent's first reply, by
	// group.
	FirstResponseSeconds *prometheus.HistogramVec
	// DeliverySeconds is how long from a record's commit to its frame being written to
	// a shopper's websocket.
	DeliverySeconds prometheus.Histogram
	// Handoffs counts hand-offs to a queue by reason and group.
	Handoffs *prometheus.CounterVec
	// Messages counts the records of kind message the desk stored, by author (shopper,
	// agent, bot, system).
	Messages *prometheus.CounterVec
	// Uploads counts photo uploads by result (stored, refused).
	Uploads *prometheus.CounterVec
	// WebhookDeliveries counts webhook delivery attempts by event and result (ok,
	// retry, failed).
	WebhookDeliveries *prometheus.CounterVec
	// WebhookFailures counts deliveries given up after the retry period, by event.
	WebhookFailures *prometheus.CounterVec
}

// Buckets for the latencies people feel: from 10 ms to an hour.
var (
	fastBuckets  = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	humanBuckets = []float64{1, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600}
)

// New returns a process's metrics on a registry of their own, with the Go runtime's and
// the process's collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	f := factory{r}
	m := &Metrics{
		Registry:             r,
		ShopperConnections:   f.gauge("kefu_shopper_connections", "Open shopper websockets on this node."),
		ConversationsStarted: f.counter("kefu_conversations_started_total", "Conversations started on this node."),
		ShopperMessages:      f.counter("kefu_shopper_messages_total", "Shopper messages stored by this node."),
		RateLimited:          f.counterVec("kefu_rate_limited_total", "Shoppers' requests refused by a limit on this node, by limit.", "limit"),
		BotDecisions: f.counterVec("kefu_bot_decisions_total",
			"Bot decisions on this node by action and hand-off reason.", "action", "reason"),
		BotFeedback: f.counterVec("kefu_bot_feedback_total",
			"Shoppers' feedback on bot answers on this node (有帮助: helpful true, 没帮助: false), by the article answered from.", "article", "helpful"),
		BotDecisionSeconds: f.histogram("kefu_bot_decision_seconds", "Time the bot took to decide on a shopper's message.", fastBuckets),
		QueueWaitSeconds: f.histogramVec("kefu_queue_wait_seconds",
			"Time a handed-off chat waited until an agent claimed or was assigned it, by group.", humanBuckets, "group"),
		FirstResponseSeconds: f.histogramVec("kefu_first_response_seconds",
			"Time from a hand-off to the agent's first reply, by group.", humanBuckets, "group"),
		DeliverySeconds: f.histogram("kefu_ws_delivery_seconds",
			"Time from a record's commit to its frame written to a shopper's websocket on this node.", fastBuckets),
		Handoffs:          f.counterVec("kefu_handoffs_total", "Hand-offs to a queue committed by this node, by reason and group.", "reason", "group"),
		Messages:          f.counterVec("kefu_messages_total", "Messages stored by this node, by author (shopper, agent, bot, system).", "from"),
		Uploads:           f.counterVec("kefu_uploads_total", "Photo uploads on this node by result (stored, refused).", "result"),
		WebhookDeliveries: f.counterVec("kefu_webhook_deliveries_total", "Webhook delivery attempts by this node, by event and result (ok, retry, failed).", "event", "result"),
		WebhookFailures:   f.counterVec("kefu_webhook_failures_total", "Webhook deliveries given up after the retry period, by event.", "event"),
	}
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Since is the seconds from t to now, for a histogram.
func Since(t time.Time) float64 { return time.Since(t).Seconds() }

// factory creates collectors and registers them.
type factory struct{ r *prometheus.Registry }

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.r.MustRegister(g)
	return g
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.r.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}
