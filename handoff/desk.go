package handoff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Phrases are the standard phrases (话术) the desk sends to shoppers.
type Phrases struct {
	// TransferPresale is sent when a chat goes to the pre-sale queue.
	TransferPresale string
	// TransferAftersale is sent when a chat goes to the after-sale queue.
	TransferAftersale string
	// AgentJoined is sent when an agent claims the chat; {agent} is the agent's name.
	AgentJoined string
	// Resolved is sent when the agent resolves the chat.
	Resolved string
	// Fallback replaces the transfer phrase when the bot could not answer (low
	// confidence, out of scope, repeated misses): it apologises before transferring.
	Fallback string
	// AgentOffline is sent when the chat's agent went offline and the chat goes back to
	// the front of the queue.
	AgentOffline string
	// BackToBot is sent when the agent hands the chat back to the bot.
	BackToBot string
	// ReopenedAgent is sent when the shopper writes again soon after the chat was
	// resolved and its agent takes it again; {agent} is the agent's name.
	ReopenedAgent string
	// ReopenedQueue is sent when such a chat goes to the front of its group's queue
	// because its agent is offline or full.
	ReopenedQueue string
	// LeftMessage is sent when the shopper left a message instead of waiting; {ticket}
	// is the ticket's id.
	LeftMessage string
}

// DeskConfig configures a Desk.
type DeskConfig struct {
	// Store is required.
	Store Store
	// Staff tells the desk the group and chat limit of each agent; required.
	Staff Staff
	// Phrases left empty get the defaults of DefaultPhrases.
	Phrases Phrases
	// DefaultWait is the expected wait before any chat was claimed; 0 means one minute.
	DefaultWait time.Duration

	// Groups are the skill groups, each with its own queue; empty means presale and
	// aftersale. A name is 1-32 lowercase letters, digits, _ or -. A hand-off to a group
	// not listed goes to the first.
	Groups []string
	// MaxChats is how many chats an agent owns at once unless their account.User.MaxChats
	// says otherwise; 0 means 20.
	MaxChats int
	// Grace is how old an agent's last heartbeat may be before the agent counts as
	// offline and their chats go back to the queue; 0 means 60 s.
	Grace time.Duration
	// SweepInterval is how often Run looks for offline agents, unfinished routing changes
	// and chats to assign; 0 means 5 s.
	SweepInterval time.Duration
	// ManualOnly turns automatic assignment off: agents only claim.
	ManualOnly bool
	// ReopenWindow is how long after an agent resolved a chat the shopper's next message
	// takes it back to that agent (when online and below their limit, else to the front
	// of the chat's group's queue) instead of to the bot; 0 means 30 minutes, a negative
	// value means never.
	ReopenWindow time.Duration
	// QueueTimeout is how long a chat waits before the shopper is offered to leave a
	// message instead (Desk.QueueStatus); 0 means 10 minutes, a negative value never. The
	// offer is made at once when no agent of the chat's group is online.
	QueueTimeout time.Duration
	// ComplaintBoost, AftersaleBoost and VIPBoost (per VIP level) move a waiting chat
	// ahead as if it had waited that much longer (see Desk.score). 0 means 10 minutes,
	// 5 minutes and 2 minutes; a negative value means none.
	ComplaintBoost time.Duration
	AftersaleBoost time.Duration
	VIPBoost       time.Duration
	// MaxVIP is the highest VIP level that counts; 0 means 5.
	MaxVIP int

	// CannedReplies are the standard replies (话术) agents insert from the console's
	// composer by typing "/" (GET /api/canned), in the order listed. Each needs a unique
	// Key and a Text; {agent} in a Text is replaced with the agent's name. Empty means
	// none. A Text that the reply guard would refuse (a one-word reply or an outside
	// contact) is an error.
	CannedReplies []CannedReply
	// AllowedLinkHosts are the hosts, with their subdomains, that agents may link to in a
	// reply; a link to any other host is refused as outside contact unless the agent
	// overrides it with a reason. Empty means no host is allowed.
	AllowedLinkHosts []string

	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// DefaultPhrases are the phrases used where DeskConfig.Phrases leaves one empty.
var DefaultPhrases = Phrases{
	TransferPresale:   "正在为您转接人工客服，请稍候",
	TransferAftersale: "正在为您转接售后专员，请稍候",
	AgentJoined:       "您好，客服{agent}为您服务，请问有什么可以帮到您？",
	Resolved:          "感谢您的咨询，祝您购物愉快！如还有问题，欢迎随时联系我们。",
	Fallback:          "抱歉，这个问题我暂时无法准确回答，正在为您转接人工客服，请稍候。",
	AgentOffline:      "客服已离线，正在为您重新安排",
	BackToBot:         "已为您转回智能助手，如需人工服务，请随时告诉我。",
	ReopenedAgent:     "您好，客服{agent}继续为您服务，请问还有什么可以帮到您？",
	ReopenedQueue:     "正在为您重新接入人工客服，请稍候",
	LeftMessage:       "已收到您的留言（工单 {ticket}），客服会尽快与您联系。",
}

// Desk is the hand-off service: it starts conversations, queues them for people, and
// lets agents claim, answer and resolve them. Every change is written to the Store first
// and announced with an event after.
type Desk struct {
	store   Store
	staff   Staff
	phrases Phrases
	defWait time.Duration
	now     func() time.Time
	log     zerolog.Logger

	groups     []string
	maxChats   int
	grace      time.Duration
	sweepEvery time.Duration
	auto       bool
	reopen     time.Duration // 0: never
	timeout    time.Duration // queue timeout; 0: never
	complaint  time.Duration
	aftersale  time.Duration
	vipBoost   time.Duration
	maxVIP     int

	canned []CannedReply
	guard  *ReplyGuard
}

// NewDesk returns a Desk.
func NewDesk(cfg DeskConfig) (*Desk, error) {
	if cfg.Store == nil || cfg.Staff == nil {
		return nil, errors.New("handoff: DeskConfig.Store and Staff are required")
	}
	p := cfg.Phrases
	def := DefaultPhrases
	for _, f := range []struct {
		v *string
		d string
	}{
		{&p.TransferPresale, def.TransferPresale}, {&p.TransferAftersale, def.TransferAftersale},
		{&p.AgentJoined, def.AgentJoined}, {&p.Resolved, def.Resolved}, {&p.Fallback, def.Fallback},
		{&p.AgentOffline, def.AgentOffline}, {&p.BackToBot, def.BackToBot},
		{&p.ReopenedAgent, def.ReopenedAgent}, {&p.ReopenedQueue, def.ReopenedQueue}, {&p.LeftMessage, def.LeftMessage},
	} {
		if strings.TrimSpace(*f.v) == "" {
			*f.v = f.d
		}
	}
	if cfg.DefaultWait == 0 {
		cfg.DefaultWait = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Desk{
		store: cfg.Store, staff: cfg.Staff, phrases: p, defWait: cfg.DefaultWait, now: cfg.Now, log: cfg.Logger,
		groups: cfg.Groups, maxChats: cfg.MaxChats, grace: cfg.Grace, sweepEvery: cfg.SweepInterval,
		auto: !cfg.ManualOnly, maxVIP: cfg.MaxVIP, reopen: boost(cfg.ReopenWindow, 30*time.Minute),
		timeout:   boost(cfg.QueueTimeout, 10*time.Minute),
		complaint: boost(cfg.ComplaintBoost, 10*time.Minute), aftersale: boost(cfg.AftersaleBoost, 5*time.Minute),
		vipBoost: boost(cfg.VIPBoost, 2*time.Minute),
	}
	if len(d.groups) == 0 {
		d.groups = DefaultGroups
	}
	d.guard = NewReplyGuard(cfg.AllowedLinkHosts)
	canned, err := checkCanned(cfg.CannedReplies, d.guard)
	if err != nil {
		return nil, err
	}
	d.canned = canned
	for _, g := range d.groups {
		if !groupPattern.MatchString(g) {
			return nil, fmt.Errorf("handoff: DeskConfig.Groups: bad group name %q", g)
		}
	}
	if d.maxChats == 0 {
		d.maxChats = 20
	}
	if d.grace == 0 {
		d.grace = 60 * time.Second
	}
	if d.sweepEvery == 0 {
		d.sweepEvery = 5 * time.Second
	}
	if d.maxVIP == 0 {
		d.maxVIP = 5
	}
	if d.maxChats < 0 || d.grace < 0 || d.sweepEvery < 0 || d.maxVIP < 0 {
		return nil, errors.New("handoff: DeskConfig: MaxChats, Grace, SweepInterval and MaxVIP must not be negative")
	}
	return d, nil
}

// DefaultGroups are the skill groups of a desk whose DeskConfig.Groups is empty.
var DefaultGroups = []string{GroupPresale, GroupAftersale}

var groupPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// boost returns v, def for 0, and 0 for a negative v.
func boost(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Groups returns the desk's skill groups.
func (d *Desk) Groups() []string { return slices.Clone(d.groups) }

// hasGroup reports whether g is one of the desk's groups.
func (d *Desk) hasGroup(g string) bool { return slices.Contains(d.groups, g) }

// nowMS is the clock at the millisecond, the precision the stores keep.
func (d *Desk) nowMS() time.Time { return time.UnixMilli(d.now().UnixMilli()) }

// Store returns the desk's store.
func (d *Desk) Store() Store { return d.store }

// randomID returns a prefix and 16 random bytes in URL-safe base64.
func randomID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Start creates a conversation with the bot and returns it with the shopper's secret token.
func (d *Desk) Start(ctx context.Context) (Conversation, string, error) {
	return d.StartAs(ctx, nil)
}

// Open returns the conversation if token is its token. An unknown conversation and a
// wrong token give the same ErrBadToken, so guessing ids tells nothing.
func (d *Desk) Open(ctx context.Context, id, token string) (Conversation, error) {
	if id == "" || token == "" {
		return Conversation{}, ErrBadToken
	}
	c, err := d.store.Conversation(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Conversation{}, ErrBadToken
	}
	if err != nil {
		return Conversation{}, err
	}
	if subtle.ConstantTimeCompare([]byte(c.TokenHash), []byte(hashToken(token))) != 1 {
		return Conversation{}, ErrBadToken
	}
	return c, nil
}

// Conversation returns the conversation or ErrNotFound.
func (d *Desk) Conversation(ctx context.Context, id string) (Conversation, error) {
	return d.store.Conversation(ctx, id)
}

// Messages returns up to limit records after seq.
func (d *Desk) Messages(ctx context.Context, id string, after int64, limit int) ([]Message, error) {
	return d.store.Messages(ctx, id, after, limit)
}

// Subscribe subscribes to the events of one conversation, or of all when conv is empty.
func (d *Desk) Subscribe(conv string) *Subscription { return d.store.Subscribe(conv) }

// Append stores a record in the conversation's log and announces it. A record whose ID
// is already stored is returned with dup true and not announced again.
func (d *Desk) Append(ctx context.Context, id string, m Message) (Message, bool, error) {
	return d.apply(ctx, id, Transition{}, m)
}

// apply runs a transition with its record and announces the result.
func (d *Desk) apply(ctx context.Context, id string, t Transition, m Message) (Message, bool, error) {
	stored, dup, err := d.store.Apply(ctx, id, t, m)
	if err != nil {
		return stored, dup, err
	}
	// A duplicate is announced too: the first attempt may have been stored by a write
	// whose reply was lost, before it could announce anything. Events are only wake-ups,
	// so a second one is harmless.
	d.publish(ctx, Event{Type: EventMessage, Conv: id, Seq: stored.Seq})
	if t.To != "" {
		d.publish(ctx, Event{Type: EventStatus, Conv: id})
	}
	return stored, dup, nil
}

// publish sends an event; a failure is logged and not returned, since the store already
// holds the change and readers catch up from it.
func (d *Desk) publish(ctx context.Context, e Event) {
	if err := d.store.Publish(ctx, e); err != nil {
		d.log.Warn().Err(err).Str("conv", e.Conv).Str("event", e.Type).Msg("publishing event")
	}
}

// HandoffRequest says why and where a conversation goes to a person.
type HandoffRequest struct {
	// Key makes the hand-off idempotent: the id of the message or frame that caused it.
	Key     string
	Reason  string
	Group   string
	Intent  string
	Context *Context
	// VIP is the shopper's VIP level (0 for none, capped at DeskConfig.MaxVIP); it
	// raises the chat's priority.
	VIP int
}

// Reply stores an agent's message. The agent must own the conversation. msgID makes a
// retried request idempotent; empty means a fresh id.
func (d *Desk) Reply(ctx context.Context, id, agent, msgID, text string) (Message, error) {
	if msgID == "" {
		msgID = randomID("")
	}
	t := Transition{From: []string{StatusActive}, Owner: agent}
	m, _, err := d.apply(ctx, id, t, Message{ID: "agent:" + agent + ":" + msgID, Kind: KindMessage, From: FromAgent, Agent: agent, Text: text})
	if err != nil {
		return Message{}, fmt.Errorf("replying in %q: %w", id, err)
	}
	return m, nil
}

// Position returns the conversation's place in its group's queue (1 is next) and the
// expected wait, estimated from the waits of recently claimed chats.
func (d *Desk) Position(ctx context.Context, id string) (int, time.Duration, error) {
	c, err := d.store.Conversation(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	return d.position(ctx, c)
}

// position is Position of conversation c as read.
func (d *Desk) position(ctx context.Context, c Conversation) (int, time.Duration, error) {
	id := c.ID
	if c.Status != StatusQueued {
		return 0, 0, ErrNotQueued
	}
	waiting, err := d.store.Waiting(ctx)
	if err != nil {
		return 0, 0, err
	}
	pos, found := 0, false
	for _, w := range waiting {
		if w.Group != c.Group {
			continue
		}
		pos++
		if w.ID == id {
			found = true
			break
		}
	}
	if !found {
		// Claimed between the two reads: it is no longer waiting.
		return 0, 0, ErrNotQueued
	}
	waits, err := d.store.RecentWaits(ctx)
	if err != nil {
		return 0, 0, err
	}
	per := d.defWait
	if len(waits) > 0 {
		var sum time.Duration
		for _, w := range waits {
			sum += w
		}
		per = max(sum/time.Duration(len(waits)), 10*time.Second)
	}
	return pos, per * time.Duration(pos), nil
}

// Waiting returns the queued conversations of group (all groups when group is empty).
func (d *Desk) Waiting(ctx context.Context, group string) ([]Conversation, error) {
	all, err := d.store.Waiting(ctx)
	if err != nil || group == "" {
		return all, err
	}
	var out []Conversation
	for _, c := range all {
		if c.Group == group {
			out = append(out, c)
		}
	}
	return out, nil
}

// Owned returns the active conversations of agent.
func (d *Desk) Owned(ctx context.Context, agent string) ([]Conversation, error) {
	return d.store.Owned(ctx, agent)
}

// Ping reports whether the storage answers.
func (d *Desk) Ping(ctx context.Context) error { return d.store.Ping(ctx) }
