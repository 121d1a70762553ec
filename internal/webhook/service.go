package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/metrics"
	"github.com/kefu-im/kefu/internal/secret"
	"github.com/rs/zerolog"
)

// Backoff says when a failed delivery is tried again: after Base, doubling with each
// attempt up to Max, each wait drawn between half and all of it (jitter), until GiveUp
// after the event was queued, when it is marked failed.
type Backoff struct {
	// Base is the first wait; 0 means 10 seconds.
	Base time.Duration
	// Max caps a wait; 0 means an hour.
	Max time.Duration
	// GiveUp is how long deliveries are tried; 0 means 24 hours.
	GiveUp time.Duration
}

// wait is the wait after attempt n (1 for the first).
func (b Backoff) wait(n int) time.Duration {
	d := b.Base << min(n-1, 30)
	if d <= 0 || d > b.Max {
		d = b.Max
	}
	return d/2 + rand.N(d/2+1)
}

// Config configures a Service.
type Config struct {
	// Store keeps the endpoints and the queue; required.
	Store Store
	// AllowPrivate lets endpoints be on private, loopback and link-local addresses
	// (KEFU_WEBHOOK_ALLOW_PRIVATE=1); off, such URLs are refused at registration and
	// at every delivery.
	AllowPrivate bool
	// Backoff spaces the retries.
	Backoff Backoff
	// Poll is how often the queue is read for deliveries due (besides right after this
	// node queued some); 0 means a second.
	Poll time.Duration
	// Lease is how long a node may take over a delivery before another node takes it
	// over (Store.Due); 0 means a minute. It exceeds Timeout.
	Lease time.Duration
	// Timeout bounds one attempt; 0 means 10 seconds.
	Timeout time.Duration
	// Metrics counts the attempts; nil means metrics of its own.
	Metrics *metrics.Metrics
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Service registers endpoints, queues events and delivers them.
type Service struct {
	cfg    Config
	store  Store
	client *http.Client
	wake   chan struct{}
	log    zerolog.Logger
}

// New returns a Service; Run delivers.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("webhook: Config.Store is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Backoff.Base, 10*time.Second)
	def(&cfg.Backoff.Max, time.Hour)
	def(&cfg.Backoff.GiveUp, 24*time.Hour)
	def(&cfg.Poll, time.Second)
	def(&cfg.Timeout, 10*time.Second)
	def(&cfg.Lease, max(time.Minute, 2*cfg.Timeout))
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivate {
		dialer.Control = dialControl
	}
	client := &http.Client{
		Timeout: cfg.Timeout,
		// No proxy: the address dialled is the receiver's, which dialControl checks.
		Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute},
		// A redirect is an answer, not followed: it could lead anywhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Service{cfg: cfg, store: cfg.Store, client: client, wake: make(chan struct{}, 1), log: cfg.Logger}, nil
}

// ErrBadEndpoint wraps what is wrong with an endpoint being registered.
var ErrBadEndpoint = errors.New("bad webhook endpoint")

// Add registers an endpoint for events with secret; an empty secret gets a random one.
// It returns the endpoint with its id and secret. A bad URL, an unknown event or a
// private address gives an error wrapping ErrBadEndpoint.
func (s *Service) Add(ctx context.Context, rawURL string, events []string, sec, by string) (Endpoint, error) {
	rawURL = strings.TrimSpace(rawURL)
	if len(events) == 0 {
		return Endpoint{}, fmt.Errorf("%w: name at least one event (%s)", ErrBadEndpoint, strings.Join(Events, ", "))
	}
	for _, e := range events {
		if !slices.Contains(Events, e) {
			return Endpoint{}, fmt.Errorf("%w: unknown event %q (known: %s)", ErrBadEndpoint, e, strings.Join(Events, ", "))
		}
	}
	if len(rawURL) > 2000 {
		return Endpoint{}, fmt.Errorf("%w: %w", ErrBadEndpoint, ErrBadURL)
	}
	if err := checkURL(ctx, rawURL, s.cfg.AllowPrivate); err != nil {
		return Endpoint{}, fmt.Errorf("%w: %w", ErrBadEndpoint, err)
	}
	switch {
	case sec == "":
		sec = secret.New("whsec_")
	case len(sec) < 8 || len(sec) > 200:
		return Endpoint{}, fmt.Errorf("%w: the secret needs 8 to 200 characters", ErrBadEndpoint)
	}
	slices.Sort(events)
	e := Endpoint{ID: secret.New("wh_"), URL: rawURL, Events: slices.Compact(events), Secret: sec, CreatedBy: by, CreatedAt: s.cfg.Now().UTC()}
	if err := s.store.AddEndpoint(ctx, e); err != nil {
		return Endpoint{}, fmt.Errorf("storing a webhook endpoint: %w", err)
	}
	return e, nil
}

// Endpoints returns the endpoints, oldest first.
func (s *Service) Endpoints(ctx context.Context) ([]Endpoint, error) { return s.store.Endpoints(ctx) }

// Delete removes an endpoint; ErrNotFound for an unknown one.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.store.DeleteEndpoint(ctx, id)
}

// Attempts returns an endpoint's delivery log, newest first; ErrNotFound for an
// unknown endpoint.
func (s *Service) Attempts(ctx context.Context, id string) ([]Attempt, error) {
	if _, err := s.endpoint(ctx, id); err != nil {
		return nil, err
	}
	return s.store.Attempts(ctx, id)
}

func (s *Service) endpoint(ctx context.Context, id string) (Endpoint, error) {
	all, err := s.store.Endpoints(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	for _, e := range all {
		if e.ID == id {
			return e, nil
		}
	}
	return Endpoint{}, ErrNotFound
}

// Test queues a ping event for endpoint id and returns its delivery id.
func (s *Service) Test(ctx context.Context, id, by string) (string, error) {
	e, err := s.endpoint(ctx, id)
	if err != nil {
		return "", err
	}
	ds, err := s.deliveries([]Endpoint{e}, EventPing, map[string]string{"by": by})
	if err != nil {
		return "", err
	}
	if err := s.enqueue(ctx, ds); err != nil {
		return "", err
	}
	return ds[0].ID, nil
}

// Notify queues event with data for every endpoint subscribed to it. It is what the
// desk calls on the node that committed a change; a failure is logged, since the change
// is made.
func (s *Service) Notify(ctx context.Context, event string, data any) {
	// The change is made: its notice is queued even when the caller gives up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.notify(ctx, event, data); err != nil {
		s.log.Error().Err(err).Str("event", event).Msg("queueing a webhook event")
	}
}

func (s *Service) notify(ctx context.Context, event string, data any) error {
	all, err := s.store.Endpoints(ctx)
	if err != nil {
		return fmt.Errorf("reading the webhook endpoints: %w", err)
	}
	var to []Endpoint
	for _, e := range all {
		if e.Wants(event) {
			to = append(to, e)
		}
	}
	if len(to) == 0 {
		return nil
	}
	ds, err := s.deliveries(to, event, data)
	if err != nil {
		return err
	}
	return s.enqueue(ctx, ds)
}

// deliveries makes one delivery of event per endpoint, with one body.
func (s *Service) deliveries(to []Endpoint, event string, data any) ([]Delivery, error) {
	now := s.cfg.Now().UTC()
	body, err := json.Marshal(Payload{ID: secret.New("evt_"), Event: event, At: now, Data: data})
	if err != nil {
		return nil, fmt.Errorf("encoding a %s event: %w", event, err)
	}
	ds := make([]Delivery, len(to))
	for i, e := range to {
		ds[i] = Delivery{ID: secret.New("dlv_"), Endpoint: e.ID, Event: event, Body: body, Queued: now, NextAt: now}
	}
	return ds, nil
}

func (s *Service) enqueue(ctx context.Context, ds []Delivery) error {
	if err := s.store.Enqueue(ctx, ds); err != nil {
		return fmt.Errorf("queueing webhook deliveries: %w", err)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// batch is how many deliveries Run takes at a time.
const batch = 20

// Run delivers what is due until ctx ends: right after this node queued events, and
// every Config.Poll. One Run per Service.
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	for {
		for {
			n, err := s.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("reading the webhook queue")
			}
			if n < batch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-s.wake:
		}
	}
}

// DeliverDue sends the deliveries due now (up to a batch) and returns how many.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	ds, err := s.store.Due(ctx, s.cfg.Now(), s.cfg.Lease, batch)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	all, err := s.store.Endpoints(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range ds {
		i := slices.IndexFunc(all, func(e Endpoint) bool { return e.ID == d.Endpoint })
		if i < 0 { // the endpoint was deleted
			if err := s.store.Done(ctx, d); err != nil {
				return 0, err
			}
			continue
		}
		if err := s.attempt(ctx, all[i], d); err != nil {
			return 0, err
		}
	}
	return len(ds), nil
}

// attempt sends d to e once and records the outcome: done, retried later or given up.
func (s *Service) attempt(ctx context.Context, e Endpoint, d Delivery) error {
	d.Attempts++
	status, sendErr := s.send(ctx, e, d)
	// What was sent is recorded even while the node shuts down.
	ctx = context.WithoutCancel(ctx)
	now := s.cfg.Now()
	a := Attempt{Delivery: d.ID, Event: d.Event, Attempt: d.Attempts, Status: status, At: now.UTC(), Result: "ok"}
	if sendErr != nil {
		a.Error = sendErr.Error()
	}
	var err error
	switch {
	case sendErr == nil:
		err = s.store.Done(ctx, d)
	case now.Sub(d.Queued) >= s.cfg.Backoff.GiveUp:
		a.Result = "failed"
		s.cfg.Metrics.WebhookFailures.WithLabelValues(d.Event).Inc()
		s.log.Warn().Str("endpoint", e.ID).Str("delivery", d.ID).Str("event", d.Event).Int("attempts", d.Attempts).
			Msg("webhook delivery given up")
		err = s.store.Done(ctx, d)
	default:
		a.Result = "retry"
		d.NextAt = now.Add(s.cfg.Backoff.wait(d.Attempts))
		err = s.store.Retry(ctx, d)
	}
	s.cfg.Metrics.WebhookDeliveries.WithLabelValues(d.Event, a.Result).Inc()
	if err != nil {
		return fmt.Errorf("recording webhook delivery %s: %w", d.ID, err)
	}
	if err := s.store.Record(ctx, e.ID, a); err != nil {
		s.log.Warn().Err(err).Str("delivery", d.ID).Msg("writing the webhook delivery log")
	}
	return nil
}

// Sign is the X-Kefu-Signature of body with secret: sha256= and the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// send POSTs d to e: a 2xx status is success, anything else an error.
func (s *Service) send(ctx context.Context, e Endpoint, d Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kefu-Webhook/1")
	req.Header.Set("X-Kefu-Event", d.Event)
	req.Header.Set("X-Kefu-Delivery", d.ID)
	req.Header.Set("X-Kefu-Signature", Sign(e.Secret, d.Body))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}
