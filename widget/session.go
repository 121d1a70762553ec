package widget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/contactguard"
	"github.com/rs/zerolog"
)

// session is one shopper connection's view of its conversation. It only speaks the
// protocol: what a frame means is the desk's to decide.
type session struct {
	g   *Gateway
	c   *conn
	log zerolog.Logger
	id  string
	ip  netip.Addr // the client's address, for the limits per client

	// draft is the conversation as opened, and kept whether it is stored: a new
	// conversation is a draft until the shopper's first message, hand-off or photo
	// (keep). Set before the read and pump loops start.
	draft handoff.Conversation
	kept  atomic.Bool

	// order makes a shopper's ack go out before the record it acknowledges: a frame's
	// handler holds it from storing the record to queueing the ack, and the pump while
	// it queues records, so the pump cannot send a stored record whose ack is not
	// queued. Taken before mu.
	order sync.Mutex

	// shopper is the conversation's shopper and lang its language; set before the read
	// and pump loops start, read-only after.
	shopper *handoff.Shopper
	lang    handoff.Lang

	// The worker: a goroutine started when there is work (events heard, frames to
	// write, a timer due) and gone when there is none, so that an idle socket keeps
	// only its reading goroutine. kick starts it, or makes a running one go round again.
	wmu     sync.Mutex // guards running, again and closed
	running bool
	again   bool
	closed  bool
	working sync.WaitGroup
	ctx     context.Context // the worker's, ended when the socket is
	sub     atomic.Pointer[handoff.Subscription]
	// What is due besides the events on sub: a read of everything (at the start and
	// from the poll), and the queue's leave-a-message offer.
	catchUpDue, offerDue atomic.Bool
	poll, offer          *time.Timer

	// Owned by the worker: the last record sent, the conversation as last heard of,
	// and its place while it waits.
	lastSent int64
	conv     handoff.Conversation
	place    *handoff.Place
	shown    queueShown
}

// queueShown is what the shopper was last told about the queue.
type queueShown struct {
	pos   int
	eta   int64
	offer string
}

// start opens the conversation the connection asks for, sends the welcome and
// subscribes to the conversation's events; it returns the subscription, or nil when the
// connection ended (the client was told why).
func (s *session) start(ctx context.Context, q url.Values) *handoff.Subscription {
	s.ctx = ctx
	s.offer = time.AfterFunc(time.Hour, func() { s.offerDue.Store(true); s.kick() })
	s.offer.Stop()

	s.lang = handoff.ParseLang(q.Get("lang"))
	sh, refused, ok := s.identify(q)
	if !ok {
		return nil // the socket broke before its hello frame
	}
	conv, token, isNew, err := s.open(ctx, q, sh)
	if err != nil {
		if errors.Is(err, handoff.ErrBadToken) {
			s.c.enqueue(errFrame(s.lang, codeBadToken, ""))
			s.c.shutdown(closeMsg{websocket.ClosePolicyViolation, codeBadToken})
		} else {
			s.log.Error().Err(err).Msg("opening conversation")
			s.c.enqueue(errFrame(s.lang, codeUnavailable, ""))
			s.c.shutdown(closeMsg{websocket.CloseTryAgainLater, codeUnavailable})
		}
		s.drain()
		return nil
	}
	s.id, s.draft = conv.ID, conv
	s.kept.Store(conv.Stored())
	s.log = s.log.With().Str("conv", conv.ID).Logger()
	s.shopper, s.lang = conv.Shopper, conv.Lang.Of()

	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	reset := false
	if after < 0 || after > conv.Seq || (q.Get("epoch") != "" && q.Get("epoch") != conv.Epoch) {
		// The client knows of records the log no longer has: history was lost. Tell it
		// to rebuild from the whole log instead of silently skipping.
		after, reset = 0, true
	}
	s.lastSent = after
	w := welcomeFrame{Type: "welcome", Conversation: conv.ID, Token: token, Seq: conv.Seq,
		Epoch: conv.Epoch, Status: string(conv.Status), Reset: reset,
		Lang: string(s.lang), Hours: s.g.desk.Hours().Text(s.lang)}
	if conv.Agent != "" {
		p := s.g.desk.Person(ctx, conv.Agent)
		w.Agent, w.AgentAvatar = p.Name, account.AvatarURL(p.Avatar)
	}
	if isNew {
		w.Greeting = s.g.cfg.Greeting
		if w.Greeting == "" {
			w.Greeting = s.g.desk.PhrasesFor(s.lang).Greeting
		}
	}
	w.Verified = conv.Shopper != nil && conv.Shopper.Verified
	s.c.enqueue(w)
	if refused {
		s.c.enqueue(errFrame(s.lang, codeBadIdentity, ""))
	}

	// Subscribe before reading the backlog, so nothing appended in between is missed.
	s.conv = conv
	sub := s.g.desk.Subscribe(conv.ID)
	s.poll = time.AfterFunc(jitter(s.g.cfg.PollInterval), func() { s.catchUpDue.Store(true); s.kick() })
	sub.OnEvent(s.kick)
	s.catchUpDue.Store(true)
	s.sub.Store(sub)
	s.kick()
	return sub
}

// serve reads the client's frames until the socket ends, then ends the session.
func (s *session) serve(ctx context.Context, cancel context.CancelFunc, sub *handoff.Subscription) {
	defer s.g.metrics.ShopperConnections.Dec()
	s.readLoop(ctx)
	cancel()
	s.end()
	sub.Close()
}

// kick makes the worker run: it starts one, or makes the running one go round again.
// It never blocks, so the hub may call it (Subscription.OnEvent).
func (s *session) kick() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	switch {
	case s.closed:
	case s.running:
		s.again = true
	default:
		s.running = true
		s.working.Add(1)
		go s.work()
	}
}

// end stops the worker and the timers, waits for a running worker, and closes the
// socket.
func (s *session) end() {
	s.c.stop()
	s.wmu.Lock()
	s.closed = true
	s.wmu.Unlock()
	s.offer.Stop()
	if s.poll != nil {
		s.poll.Stop()
	}
	s.working.Wait()
}

// work does what is due until nothing is.
func (s *session) work() {
	defer s.working.Done()
	for {
		s.step(s.ctx)
		s.wmu.Lock()
		if !s.again || s.closed {
			s.running = false
			s.wmu.Unlock()
			return
		}
		s.again = false
		s.wmu.Unlock()
	}
}

// step sends the conversation's new records in order, and the queue position while
// queued, from the events heard since the last step; then writes the frames queued.
// Events carry what changed, so a wake-up reads nothing unless events were lost; a
// rare timer reads the log in case a wake-up never came.
func (s *session) step(ctx context.Context) {
	if sub := s.sub.Load(); sub != nil && ctx.Err() == nil {
		if s.catchUpDue.Swap(false) {
			s.catchUp(ctx, sub, s.offer)
			s.poll.Reset(jitter(s.g.cfg.PollInterval))
		}
	events:
		for {
			select {
			case e, ok := <-sub.C:
				if !ok {
					break events
				}
				if sub.Missed() || e.Type == handoff.EventResync {
					s.catchUp(ctx, sub, s.offer)
					continue
				}
				s.hear(ctx, sub, s.offer, e)
			default:
				break events
			}
		}
		if s.offerDue.Swap(false) {
			s.tellQueue(ctx, s.offer)
		}
	}
	s.c.writeQueued()
}

// drain waits for the write loop to flush a final frame and close, bounded in time.
func (s *session) drain() {
	select {
	case <-s.c.done:
	case <-time.After(s.g.cfg.WriteWait):
	}
}

// open resumes the conversation the query names or drafts one, stored only by keep.
// sh is the verified shopper, nil for an anonymous visitor: a verified shopper's
// conversation opens only for that shopper, and a new conversation belongs to sh or to
// a new random visitor id.
func (s *session) open(ctx context.Context, q url.Values, sh *handoff.Shopper) (handoff.Conversation, string, bool, error) {
	if sh == nil {
		sh = &handoff.Shopper{ID: visitorID()}
	}
	if id := q.Get("conversation"); id != "" || q.Get("token") != "" {
		c, err := s.g.desk.OpenAs(ctx, id, q.Get("token"), verifiedID(sh))
		if err == nil && !c.Stored() {
			// A draft never stored: it is whoever opens it now, in their language.
			c.Shopper, c.Lang = sh, s.lang.Of()
		}
		return c, q.Get("token"), false, err
	}
	c, token := s.g.desk.Draft(sh, s.lang)
	return c, token, true, nil
}

// verifiedID is sh's id when sh is verified, else empty.
func verifiedID(sh *handoff.Shopper) string {
	if sh != nil && sh.Verified {
		return sh.ID
	}
	return ""
}

// client is whom the session's requests count for in the limits per client.
func (s *session) client() client {
	return client{ip: s.ip, shopper: verifiedID(s.shopper)}
}

// keep stores the session's conversation if it is still a draft, within the client's
// LimitConversation, and reports whether it is stored; when not, the shopper was told
// why, for the frame of client id id.
func (s *session) keep(ctx context.Context, id string) bool {
	if s.kept.Load() {
		return true
	}
	if ok, wait := s.g.allow(ctx, LimitConversation, s.client()); !ok {
		s.log.Info().Msg("new conversation refused: over the limit")
		s.c.enqueue(limitedFrame(s.lang, id, wait))
		return false
	}
	if _, err := s.g.desk.Keep(ctx, s.draft); err != nil {
		s.fault(err, id)
		return false
	}
	if !s.kept.Swap(true) {
		s.g.metrics.ConversationsStarted.Inc()
		s.log.Info().Msg("conversation started")
	}
	return true
}

// hear handles one event.
func (s *session) hear(ctx context.Context, sub *handoff.Subscription, offer *time.Timer, e *handoff.Event) {
	switch e.Type {
	case handoff.EventConversation:
		if e.Conv != s.id {
			return
		}
		if !s.send(ctx, e.Messages) {
			s.flush(ctx)
		}
		if c := e.Conversation; c != nil && c.Rev >= s.conv.Rev {
			s.follow(ctx, sub, offer, *c)
		}
	case handoff.EventQueue:
		if s.place == nil {
			if s.conv.Status == handoff.StatusQueued {
				s.findPlace(ctx, offer) // waiting for its own place to show
			}
			return
		}
		if e.Left != nil && e.Left.ID == s.id && e.Joined == nil {
			s.place = nil // it left the queue: its own event tells where to
			return
		}
		changed, ok := s.place.Apply(e)
		switch {
		case !ok:
			s.findPlace(ctx, offer)
		case changed:
			s.tellQueue(ctx, offer)
		}
	case handoff.EventPresence:
		if s.place != nil {
			s.tellQueue(ctx, offer)
		}
	}
}

// catchUp reads what may have been missed: the log, the conversation and its place.
func (s *session) catchUp(ctx context.Context, sub *handoff.Subscription, offer *time.Timer) {
	if !s.kept.Load() {
		// A draft has nothing stored to read, unless another socket of it stored it
		// since: one read tells.
		if _, err := s.g.desk.Conversation(ctx, s.id); err != nil {
			if ctx.Err() == nil && !errors.Is(err, handoff.ErrNotFound) {
				s.log.Warn().Err(err).Msg("reading the conversation")
			}
			return
		}
		s.kept.Store(true)
	}
	if err := s.flush(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn().Err(err).Msg("reading the log")
	}
	c, err := s.g.desk.Conversation(ctx, s.id)
	if err != nil {
		if ctx.Err() == nil && !(errors.Is(err, handoff.ErrNotFound) && !s.kept.Load()) {
			s.log.Warn().Err(err).Msg("reading the conversation")
		}
		return
	}
	s.place = nil // read again
	s.follow(ctx, sub, offer, c)
}

// follow takes in the conversation as it is now: while it waits, the session watches its
// queue and tells the shopper their place.
func (s *session) follow(ctx context.Context, sub *handoff.Subscription, offer *time.Timer, c handoff.Conversation) {
	was := s.conv
	s.conv = c
	if c.Status != handoff.StatusQueued {
		if s.place != nil || was.Status == handoff.StatusQueued {
			sub.WatchQueue("")
			offer.Stop()
		}
		s.place, s.shown = nil, queueShown{}
		return
	}
	if was.Status != handoff.StatusQueued || was.Group != c.Group || was.Key != c.Key || s.place == nil {
		// A new wait: tell the place even if it equals an earlier one.
		sub.WatchQueue(c.Group)
		s.shown = queueShown{}
		s.findPlace(ctx, offer)
	}
}

// findPlace reads the conversation's place and tells it.
func (s *session) findPlace(ctx context.Context, offer *time.Timer) {
	p, err := s.g.desk.Place(ctx, s.conv)
	if errors.Is(err, handoff.ErrNotQueued) {
		// Its record says queued, the queue does not show it yet (a change between its
		// steps): its joining announces itself.
		s.place = nil
		return
	}
	if err != nil {
		s.log.Warn().Err(err).Msg("reading the queue")
		s.place = nil
		return
	}
	s.place = &p
	s.tellQueue(ctx, offer)
}

// tellQueue sends the shopper's place, expected wait and leave-a-message offer when
// they changed.
func (s *session) tellQueue(ctx context.Context, offer *time.Timer) {
	if s.place == nil {
		return
	}
	qs, err := s.g.desk.QueueStatus(ctx, s.conv, *s.place)
	if err != nil {
		s.log.Warn().Err(err).Msg("reading the queue status")
		return
	}
	eta := int64(qs.Wait / time.Second)
	if qs.Position != s.shown.pos || eta != s.shown.eta {
		s.shown.pos, s.shown.eta = qs.Position, eta
		s.c.enqueue(queueFrame{Type: "queue", Position: qs.Position, ETA: eta})
	}
	if qs.Offer != "" && qs.Offer != s.shown.offer {
		s.shown.offer = qs.Offer
		f := leaveOfferFrame{Type: "leave_message", Reason: qs.Offer}
		if qs.Offer == handoff.OfferOffline {
			f.Text = s.g.desk.NoAgentText(s.lang)
		}
		s.c.enqueue(f)
	}
	if qs.OfferIn > 0 {
		offer.Reset(qs.OfferIn)
	}
}

// send queues msgs if they follow the last record sent, and reports whether nothing is
// missing before them.
func (s *session) send(ctx context.Context, msgs []handoff.Message) bool {
	s.order.Lock()
	defer s.order.Unlock()
	for _, m := range msgs {
		switch {
		case m.Seq <= s.lastSent:
			continue // sent already
		case m.Seq != s.lastSent+1:
			return false
		}
		if !s.c.enqueueAt(s.g.toFrame(ctx, s.id, m), time.UnixMilli(m.TS)) {
			return true
		}
		s.lastSent = m.Seq
	}
	return true
}

// flush sends every record after lastSent, read from the log.
func (s *session) flush(ctx context.Context) error {
	s.order.Lock()
	defer s.order.Unlock()
	for {
		msgs, err := s.g.desk.Messages(ctx, s.id, s.lastSent, 100)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if !s.c.enqueue(s.g.toFrame(ctx, s.id, m)) {
				return errors.New("connection closed")
			}
			s.lastSent = m.Seq
		}
		if len(msgs) < 100 {
			return nil
		}
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
			s.c.enqueue(errFrame(s.lang, codeBadJSON, ""))
			continue
		}
		var f clientFrame
		// Unmarshal accepts null into a struct; only an object is a frame.
		if err := json.Unmarshal(data, &f); err != nil || !isObject(data) {
			s.c.enqueue(errFrame(s.lang, codeBadJSON, ""))
			continue
		}
		handle, known := map[string]func(context.Context, clientFrame){
			"message":        s.onMessage,
			"handoff":        s.onHandoff,
			"leave_message":  s.onLeaveMessage,
			"ticket_confirm": func(ctx context.Context, f clientFrame) { s.onTicketAnswer(ctx, f, true) },
			"ticket_decline": func(ctx context.Context, f clientFrame) { s.onTicketAnswer(ctx, f, false) },
			"rate":           s.onRate,
			"feedback":       s.onFeedback,
		}[f.Type]
		if !known {
			s.c.enqueue(errFrame(s.lang, codeUnknownType, f.ID))
			continue
		}
		if ok, wait := lim.allow(time.Now()); !ok {
			s.c.enqueue(limitedFrame(s.lang, f.ID, wait))
			continue
		}
		handle(ctx, f)
	}
}

// onMessage hands a shopper's message to the desk (handoff.Desk.ShopperSays) and
// acknowledges it as soon as it is stored.
func (s *session) onMessage(ctx context.Context, f clientFrame) {
	text := strings.TrimSpace(f.Text)
	if !clientIDPattern.MatchString(f.ID) || text == "" && len(f.Attachments) == 0 || utf8.RuneCountInString(text) > MaxTextRunes || len(f.Article) > 96 ||
		contactguard.Garbled(text) {
		s.c.enqueue(errFrame(s.lang, codeBadMessage, f.ID))
		return
	}
	if len(f.Attachments) > handoff.MaxAttachments {
		s.c.enqueue(errFrame(s.lang, codeBadAttachment, f.ID))
		return
	}
	// The conversation's limit is shared by all its sockets, so that opening more of
	// them sends no more; the client's by all its conversations.
	if ok, wait := s.g.take(ctx, LimitMessage, "conv:"+s.id); !ok {
		s.c.enqueue(limitedFrame(s.lang, f.ID, wait))
		return
	}
	if ok, wait := s.g.allow(ctx, LimitClientMessage, s.client()); !ok {
		s.c.enqueue(limitedFrame(s.lang, f.ID, wait))
		return
	}
	if !s.keep(ctx, f.ID) {
		return
	}
	var handoffWait time.Duration // set when the bot's hand-off is over the limit
	mayHandOff := func(ctx context.Context) bool {
		ok, wait := s.g.allow(ctx, LimitHandoff, s.client())
		handoffWait = wait
		return ok
	}
	s.order.Lock()
	locked := true
	unlock := func() {
		if locked {
			locked = false
			s.order.Unlock()
		}
	}
	defer unlock()
	m := handoff.ShopperMessage{ID: f.ID, Text: text, Article: f.Article, Attachments: f.Attachments, MayHandOff: mayHandOff}
	said, err := s.g.desk.ShopperSays(ctx, s.id, m,
		func(m handoff.Message, dup bool) {
			s.c.enqueue(ackFrame{Type: "ack", ID: f.ID, Seq: m.Seq})
			unlock()
			if !dup {
				s.g.metrics.ShopperMessages.Inc()
				s.logDetected(text)
			}
		})
	if errors.Is(err, handoff.ErrLimited) {
		// Stored and acknowledged; the hand-off it called for is over the limit.
		s.log.Info().Msg("hand-off refused: over the limit")
		s.c.enqueue(limitedFrame(s.lang, "", handoffWait))
		return
	}
	if errors.Is(err, handoff.ErrLogFull) {
		s.c.enqueue(errFrame(s.lang, codeConversationFull, f.ID))
		return
	}
	if err != nil && !locked && said.Message.Seq > 0 {
		// Stored and acknowledged; what failed was the bot's part.
		s.log.Error().Err(err).Msg("answering a shopper message")
		s.c.enqueue(errFrame(s.lang, codeUnavailable, ""))
		return
	}
	if errors.Is(err, handoff.ErrBadAttachment) {
		s.c.enqueue(errFrame(s.lang, codeBadAttachment, f.ID))
		return
	}
	if err != nil {
		s.fault(err, f.ID)
		return
	}
	if d := said.Decision; d != nil {
		s.g.metrics.BotDecisions.WithLabelValues(string(d.Action), string(d.Reason)).Inc()
		article := ""
		if d.Article != nil {
			article = d.Article.ID
		}
		s.log.Info().Str("action", string(d.Action)).Str("reason", string(d.Reason)).Str("intent", string(d.Intent)).
			Float64("confidence", d.Confidence).Str("article", article).Msg("bot decided")
	}
}

// fault reports a storage failure for the client message id: the message was not
// stored and may be resent with the same id.
func (s *session) fault(err error, id string) {
	s.log.Error().Err(err).Msg("storing a shopper message")
	s.c.enqueue(errFrame(s.lang, codeUnavailable, id))
}

// onHandoff is the shopper's 「转人工」.
func (s *session) onHandoff(ctx context.Context, f clientFrame) {
	key := f.ID
	if key == "" || !clientIDPattern.MatchString(key) {
		key = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if ok, wait := s.g.allow(ctx, LimitHandoff, s.client()); !ok {
		s.log.Info().Msg("hand-off refused: over the limit")
		s.c.enqueue(limitedFrame(s.lang, f.ID, wait))
		return
	}
	if !s.keep(ctx, f.ID) {
		return
	}
	if err := s.g.desk.AskForPerson(ctx, s.id, key); err != nil {
		s.fault(err, f.ID)
		return
	}
	s.log.Info().Msg("shopper asked for a person")
}

// isObject reports whether the JSON text data is an object.
func isObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// jitter returns a duration between d/2 and 3d/2, so that the sockets opened together,
// after a node's restart, do not poll together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}
