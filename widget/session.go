package widget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/rs/zerolog"
)

// session is one shopper connection's view of its conversation.
type session struct {
	g   *Gateway
	c   *conn
	log zerolog.Logger
	id  string

	// poke wakes the pump after this session appended something itself, without
	// waiting for the round trip of the event.
	poke chan struct{}

	// order makes a shopper's ack go out before the message it acknowledges: onMessage
	// holds it from storing the message to queueing the ack, flush while it reads and
	// queues records, so flush cannot queue a stored message whose ack is not queued.
	// Taken before mu.
	order sync.Mutex

	// shopper is the conversation's shopper (nil for a conversation from before
	// identities); set before the read and pump loops start, read-only after.
	shopper *handoff.Shopper

	mu       sync.Mutex // guards status
	status   string
	lastSent int64 // owned by the pump goroutine
	// handedOff is set by flush when it sent a hand-off record, so that the pump tells
	// the new queue position even if it equals the one of an earlier hand-off. Owned
	// by the pump goroutine.
	handedOff bool
}

// run serves the connection until it ends.
func (s *session) run(ctx context.Context, q url.Values) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.c.writeLoop()
	defer s.c.stop()

	sh, refused, ok := s.identify(q)
	if !ok {
		return // the socket broke before its hello frame
	}
	conv, token, isNew, err := s.open(ctx, q, sh)
	if err != nil {
		if errors.Is(err, handoff.ErrBadToken) {
			s.c.enqueue(errFrame(codeBadToken, ""))
			s.c.shutdown(closeMsg{websocket.ClosePolicyViolation, codeBadToken})
		} else {
			s.log.Error().Err(err).Msg("opening conversation")
			s.c.enqueue(errFrame(codeUnavailable, ""))
			s.c.shutdown(closeMsg{websocket.CloseTryAgainLater, codeUnavailable})
		}
		s.drain()
		return
	}
	s.id = conv.ID
	s.log = s.log.With().Str("conv", conv.ID).Logger()
	s.status = conv.Status
	s.shopper = conv.Shopper

	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	reset := false
	if after < 0 || after > conv.Seq || (q.Get("epoch") != "" && q.Get("epoch") != conv.Epoch) {
		// The client knows of records the log no longer has: history was lost. Tell it
		// to rebuild from the whole log instead of silently skipping.
		after, reset = 0, true
	}
	s.lastSent = after
	w := welcomeFrame{Type: "welcome", Conversation: conv.ID, Token: token, Seq: conv.Seq,
		Epoch: conv.Epoch, Status: conv.Status, Agent: conv.Agent, Reset: reset}
	if isNew {
		w.Greeting = s.g.cfg.Greeting
	}
	w.Verified = conv.Shopper != nil && conv.Shopper.Verified
	s.c.enqueue(w)
	if refused {
		s.c.enqueue(errFrame(codeBadIdentity, ""))
	}

	// Subscribe before reading the backlog, so nothing appended in between is missed.
	sub := s.g.desk.Subscribe(conv.ID)
	defer sub.Close()
	s.poke = make(chan struct{}, 1)
	pumpDone := make(chan struct{})
	go func() {
		defer close(pumpDone)
		defer cancel()
		s.pump(ctx, sub)
	}()
	s.readLoop(ctx)
	cancel()
	<-pumpDone
}

// drain waits for the write loop to flush a final frame and close, bounded in time.
func (s *session) drain() {
	select {
	case <-s.c.done:
	case <-time.After(s.g.cfg.WriteWait):
	}
}

// open resumes the conversation the query names or starts one. sh is the verified
// shopper, nil for an anonymous visitor: a verified shopper's conversation opens only for
// that shopper, and a new conversation belongs to sh or to a new random visitor id.
func (s *session) open(ctx context.Context, q url.Values, sh *handoff.Shopper) (handoff.Conversation, string, bool, error) {
	if id := q.Get("conversation"); id != "" || q.Get("token") != "" {
		verified := ""
		if sh != nil {
			verified = sh.ID
		}
		c, err := s.g.desk.OpenAs(ctx, id, q.Get("token"), verified)
		return c, q.Get("token"), false, err
	}
	if sh == nil {
		sh = &handoff.Shopper{ID: visitorID()}
	}
	c, token, err := s.g.desk.StartAs(ctx, sh)
	if err == nil {
		s.g.stats.conversations.Add(1)
		s.log.Info().Str("conv", c.ID).Msg("conversation started")
	}
	return c, token, true, err
}

func (s *session) setStatus(st string) {
	s.mu.Lock()
	s.status = st
	s.mu.Unlock()
}

func (s *session) getStatus() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// pump sends the log's new records in order, and the queue position while queued. It
// wakes on events, on pokes from the read loop, and on a timer in case a wake-up
// signal was lost.
func (s *session) pump(ctx context.Context, sub *handoff.Subscription) {
	poll := time.NewTicker(s.g.cfg.PollInterval)
	defer poll.Stop()
	lastPos, lastETA := -1, int64(-1)
	queueDirty := true
	// lastOffer is the leave-a-message offer last sent; offer fires when the queue
	// timeout will make one.
	lastOffer := ""
	offer := time.NewTimer(time.Hour)
	offer.Stop()
	defer offer.Stop()
	for {
		if err := s.flush(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("reading the log")
			}
		}
		if s.handedOff {
			s.handedOff = false
			lastPos, lastETA, lastOffer = -1, -1, ""
			queueDirty = true
		}
		if s.getStatus() != handoff.StatusQueued {
			lastOffer = ""
		}
		if s.getStatus() == handoff.StatusQueued && queueDirty {
			qs, err := s.g.desk.QueueStatus(ctx, s.id)
			// QueueStatus reads the status and the queue one after the other: a hand-off
			// or claim in between leaves the conversation out of the queue it counts
			// (position 0). That is no place to show; the change's events wake us again.
			known := err == nil && qs.Position >= 1
			if known && (qs.Position != lastPos || int64(qs.Wait/time.Second) != lastETA) {
				lastPos, lastETA = qs.Position, int64(qs.Wait/time.Second)
				if !s.c.enqueue(queueFrame{Type: "queue", Position: qs.Position, ETA: lastETA}) {
					return
				}
			}
			if known && qs.Offer != "" && qs.Offer != lastOffer {
				lastOffer = qs.Offer
				if !s.c.enqueue(leaveOfferFrame{Type: "leave_message", Reason: qs.Offer}) {
					return
				}
			}
			if known && qs.OfferIn > 0 {
				offer.Reset(qs.OfferIn)
			}
			queueDirty = !known
		}
		select {
		case <-ctx.Done():
			return
		case <-s.c.done:
			return
		case <-s.poke:
		case <-poll.C:
			queueDirty = true
		case <-offer.C:
			queueDirty = true
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if e.Type == handoff.EventQueue || e.Type == handoff.EventResync || e.Type == handoff.EventStatus || sub.Missed() {
				queueDirty = true
			}
		}
	}
}

// flush sends every record after lastSent.
func (s *session) flush(ctx context.Context) error {
	s.order.Lock()
	defer s.order.Unlock()
	for {
		msgs, err := s.g.desk.Messages(ctx, s.id, s.lastSent, 100)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			switch {
			case m.Kind == handoff.KindHandoff:
				s.setStatus(handoff.StatusQueued)
				s.handedOff = true
			case m.Kind == handoff.KindStatus && m.Status != "":
				s.setStatus(m.Status)
			}
			if !s.c.enqueue(toFrame(m)) {
				return errors.New("connection closed")
			}
			s.lastSent = m.Seq
		}
		if len(msgs) < 100 {
			return nil
		}
	}
}

func (s *session) wake() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// readLoop reads the client's frames until the connection ends.
func (s *session) readLoop(ctx context.Context) {
	ws := s.c.ws
	ws.SetReadDeadline(time.Now().Add(s.g.cfg.PongWait))
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(s.g.cfg.PongWait))
	})
	lim := newLimiter(s.g.cfg.RateBurst, s.g.cfg.RateEvery)
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.log.Info().Msg("closed: frame too large")
			}
			return
		}
		ws.SetReadDeadline(time.Now().Add(s.g.cfg.PongWait))
		if kind != websocket.TextMessage {
			s.c.enqueue(errFrame(codeBadJSON, ""))
			continue
		}
		var f clientFrame
		// Unmarshal accepts null into a struct; only an object is a frame.
		if err := json.Unmarshal(data, &f); err != nil || !isObject(data) {
			s.c.enqueue(errFrame(codeBadJSON, ""))
			continue
		}
		switch f.Type {
		case "message":
			if !lim.allow(time.Now()) {
				s.c.enqueue(errFrame(codeRateLimited, f.ID))
				continue
			}
			s.onMessage(ctx, f)
		case "handoff":
			if !lim.allow(time.Now()) {
				s.c.enqueue(errFrame(codeRateLimited, f.ID))
				continue
			}
			s.onHandoff(ctx, f)
		case "leave_message":
			if !lim.allow(time.Now()) {
				s.c.enqueue(errFrame(codeRateLimited, f.ID))
				continue
			}
			s.onLeaveMessage(ctx, f)
		case "ticket_confirm", "ticket_decline":
			if !lim.allow(time.Now()) {
				s.c.enqueue(errFrame(codeRateLimited, f.ID))
				continue
			}
			s.onTicketAnswer(ctx, f, f.Type == "ticket_confirm")
		default:
			s.c.enqueue(errFrame(codeUnknownType, f.ID))
		}
	}
}

// onMessage stores a shopper's message, acknowledges it, and lets the bot answer while
// the conversation is the bot's.
func (s *session) onMessage(ctx context.Context, f clientFrame) {
	text := strings.TrimSpace(f.Text)
	if !clientIDPattern.MatchString(f.ID) || text == "" || utf8.RuneCountInString(text) > MaxTextRunes || len(f.Article) > 96 {
		s.c.enqueue(errFrame(codeBadMessage, f.ID))
		return
	}
	conv, err := s.g.desk.Conversation(ctx, s.id)
	if err != nil {
		s.fault(err, f.ID)
		return
	}
	if conv.Status == handoff.StatusResolved {
		// The shopper writes again after the chat was resolved: its agent, the queue or
		// the bot takes it back (Desk.Reopen), before the message is stored, so that
		// whoever has it sees the message.
		if conv.Status, err = s.g.desk.Reopen(ctx, s.id, f.ID); err != nil {
			s.fault(err, f.ID)
			return
		}
	}
	s.order.Lock()
	stored, dup, err := s.g.desk.Append(ctx, s.id, handoff.Message{ID: f.ID, Kind: handoff.KindMessage, From: handoff.FromShopper, Text: text})
	if err != nil {
		s.order.Unlock()
		s.fault(err, f.ID)
		return
	}
	s.c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: stored.Seq})
	s.order.Unlock()
	if !dup {
		s.g.stats.messages.Add(1)
		s.logDetected(text)
	}
	s.wake()
	if dup {
		// A resend. The bot answers it again only if its first answer never got stored
		// (the message is still the last record).
		if c, err := s.g.desk.Conversation(ctx, s.id); err != nil || c.Seq != stored.Seq || c.Status != handoff.StatusBot {
			return
		}
	} else if conv.Status != handoff.StatusBot {
		return // a person has the conversation
	}
	s.answer(ctx, f.ID, stored.Text, f.Article, stored.Seq)
	s.wake()
}

// fault reports a storage failure for the client message id: the message was not
// stored and may be resent with the same id.
func (s *session) fault(err error, id string) {
	s.log.Error().Err(err).Msg("storing a shopper message")
	s.c.enqueue(errFrame(codeUnavailable, id))
}

// onHandoff is the shopper's 「转人工」.
func (s *session) onHandoff(ctx context.Context, f clientFrame) {
	key := f.ID
	if key == "" || !clientIDPattern.MatchString(key) {
		key = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	conv, err := s.g.desk.Conversation(ctx, s.id)
	if err != nil {
		s.fault(err, f.ID)
		return
	}
	switch conv.Status {
	case handoff.StatusQueued, handoff.StatusActive:
		s.wake() // already with people; the queue frame is resent on the next wake-up
		return
	case handoff.StatusResolved:
		st, err := s.g.desk.Reopen(ctx, s.id, "h"+key)
		if err != nil {
			s.fault(err, f.ID)
			return
		}
		if st != handoff.StatusBot {
			s.wake() // back with people already
			return
		}
	}
	req := handoff.HandoffRequest{Key: key, Reason: "requested", Group: handoff.GroupPresale, Intent: conv.Intent, VIP: s.vip()}
	if conv.Intent == "aftersale" {
		req.Group = handoff.GroupAftersale
	}
	if err := s.g.desk.Handoff(ctx, s.id, req); err != nil && !errors.Is(err, handoff.ErrWrongStatus) {
		s.fault(err, f.ID)
		return
	}
	s.log.Info().Str("reason", req.Reason).Str("group", req.Group).Msg("handed off")
	s.wake()
}

// isObject reports whether the JSON text data is an object.
func isObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}
