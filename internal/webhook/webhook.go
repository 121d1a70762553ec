// Package webhook tells other systems (a CRM, an order system, a chat bot of the shop)
// what happened on the desk: an admin registers endpoints, each with the events it wants
// and a secret; each event is queued durably in the storage engine, one delivery per
// endpoint, and POSTed as JSON signed with the endpoint's secret, at least once: a
// delivery that fails is retried with exponential backoff for a day, from any node, and
// survives restarts.
//
// The desk calls Service.Notify on the node that committed a change, once per change
// (handoff.Notifier), so that an event is queued once whatever the number of nodes.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// The events an endpoint may subscribe to.
const (
	EventHandedOff = "conversation.handed_off"
	EventAssigned  = "conversation.assigned"
	EventResolved  = "conversation.resolved"
	EventRated     = "conversation.rated"
	EventTicketNew = "ticket.created"
	EventTicketUpd = "ticket.updated"
	EventLeft      = "message.left"
	// EventPing is sent only by Service.Test, to the endpoint tested.
	EventPing = "ping"
)

// Events lists the events an endpoint may subscribe to, in the console's order.
var Events = []string{EventHandedOff, EventAssigned, EventResolved, EventRated, EventTicketNew, EventTicketUpd, EventLeft}

// ErrNotFound is returned for an endpoint that does not exist.
var ErrNotFound = errors.New("webhook endpoint not found")

// Endpoint is a URL registered for events.
type Endpoint struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Secret signs the deliveries (X-Kefu-Signature); never shown back in full.
	Secret    string    `json:"secret"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Wants reports whether the endpoint subscribed to event.
func (e Endpoint) Wants(event string) bool { return slices.Contains(e.Events, event) }

// Delivery is one event to send to one endpoint, queued until it is delivered or given
// up.
type Delivery struct {
	// ID is the delivery's id, unique per event and endpoint and the same on every
	// attempt (X-Kefu-Delivery), so that a receiver can drop a repeat.
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Event    string `json:"event"`
	// Body is the JSON POSTed, fixed when the event was queued.
	Body json.RawMessage `json:"body"`
	// Attempts counts the attempts made so far.
	Attempts int `json:"attempts"`
	// Queued is when the event was queued; NextAt when the next attempt is due.
	Queued time.Time `json:"queued"`
	NextAt time.Time `json:"next_at"`
	// Ref is the store's handle of a delivery Store.Due returned.
	Ref string `json:"-"`
}

// Payload is the JSON body of a delivery.
type Payload struct {
	// ID is the event's id, the same for every endpoint that receives it.
	ID    string    `json:"id"`
	Event string    `json:"event"`
	At    time.Time `json:"at"`
	Data  any       `json:"data"`
}

// Attempt is one entry of an endpoint's delivery log.
type Attempt struct {
	Delivery string `json:"delivery"`
	Event    string `json:"event"`
	// Attempt is 1 for the first attempt.
	Attempt int `json:"attempt"`
	// Status is the receiver's HTTP status, 0 when the request failed (Error says why).
	Status int    `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// Result is ok, retry (tried again later) or failed (given up).
	Result string    `json:"result"`
	At     time.Time `json:"at"`
}

// Store keeps the endpoints, the queue of deliveries and the delivery logs in the
// storage engine.
type Store interface {
	// AddEndpoint stores a new endpoint.
	AddEndpoint(ctx context.Context, e Endpoint) error
	// Endpoints returns every endpoint, oldest first.
	Endpoints(ctx context.Context) ([]Endpoint, error)
	// DeleteEndpoint removes an endpoint and its log; ErrNotFound for an unknown one.
	// Its queued deliveries are dropped when they come due.
	DeleteEndpoint(ctx context.Context, id string) error
	// Enqueue queues deliveries durably: once it returns, they survive a restart.
	Enqueue(ctx context.Context, ds []Delivery) error
	// Due returns up to n deliveries due at now that this node is to send now,
	// including those another node took and left unfinished for longer than lease.
	Due(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Delivery, error)
	// Done takes a delivery Due returned off the queue (delivered or given up).
	Done(ctx context.Context, d Delivery) error
	// Retry queues a delivery Due returned again, due at d.NextAt.
	Retry(ctx context.Context, d Delivery) error
	// Record appends to an endpoint's delivery log, which keeps the latest LogSize
	// entries.
	Record(ctx context.Context, endpoint string, a Attempt) error
	// Attempts returns an endpoint's delivery log, newest first.
	Attempts(ctx context.Context, endpoint string) ([]Attempt, error)
}

// LogSize is how many attempts an endpoint's delivery log keeps.
const LogSize = 200

// SortEndpoints orders endpoints oldest first, as Store.Endpoints returns them.
func SortEndpoints(es []Endpoint) {
	slices.SortFunc(es, func(a, b Endpoint) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
