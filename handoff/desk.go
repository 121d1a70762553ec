package handoff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/internal/metrics"
	"github.com/kefu-im/kefu/internal/secret"
	"github.com/rs/zerolog"
)

// Phrases are one language's standard phrases (话术) the desk sends to shoppers. Each
// field's tag names its key in knowledge/phrases.yaml, by which it is filled, stored and
// edited (PhrasesOf, Phrases.Texts): a field added with a tag flows through the
// phrasebook, the console and the defaults without more code.
type Phrases struct {
	// TransferPresale is sent when a chat goes to a queue other than after-sales.
	TransferPresale string `phrase:"transfer_presale"`
	// TransferAftersale is sent when a chat goes to the after-sale queue.
	TransferAftersale string `phrase:"transfer_aftersale"`
	// AgentJoined is sent when an agent takes the chat; {agent} is the agent's shown
	// name (Desk.Person), never their login.
	AgentJoined string `phrase:"agent_joined"`
	// Resolved is sent when the agent resolves the chat.
	Resolved string `phrase:"closing"`
	// Fallback replaces the transfer phrase when the bot could not answer (low
	// confidence, out of scope, repeated misses): it apologises before transferring.
	Fallback string `phrase:"fallback_handoff"`
	// AgentOffline is sent when the chat's agent went offline and the chat goes back to
	// the front of the queue.
	AgentOffline string `phrase:"agent_offline"`
	// BackToBot is sent when the agent hands the chat back to the bot.
	BackToBot string `phrase:"back_to_bot"`
	// ReopenedAgent is sent when the shopper writes again soon after the chat was
	// resolved and its agent takes it again; {agent} is the agent's shown name.
	ReopenedAgent string `phrase:"reopened_agent"`
	// ReopenedQueue is sent when such a chat goes to the front of its group's queue
	// because its agent is offline or full.
	ReopenedQueue string `phrase:"reopened_queue"`
	// LeftMessage is sent when the shopper left a message instead of waiting; {ticket}
	// is the ticket's id.
	LeftMessage string `phrase:"left_message"`
	// PhotoReceived is the bot's answer to a photo sent without words while the chat is
	// the bot's (docs/domain.md rule 8).
	PhotoReceived string `phrase:"photo_received"`
	// Greeting is what the widget shows a shopper who starts a conversation.
	Greeting string `phrase:"greeting"`
	// Clarify is the bot's prompt above the articles it suggests when unsure.
	Clarify string `phrase:"clarify"`
	// NoAgent offers a waiting shopper to leave a message while no agent is online;
	// {hours} is the desk's opening hours (OpeningHours.Text).
	NoAgent string `phrase:"no_agent"`
	// SmallTalkGreeting, SmallTalkThanks, SmallTalkGoodbye, SmallTalkPresence and
	// SmallTalkAck are the bot's replies to small talk while the chat is the bot's
	// (docs/domain.md rule 16); SmallTalkThanksMore replaces SmallTalkThanks right after
	// an answer of the bot, closing the loop.
	SmallTalkGreeting   string `phrase:"smalltalk_greeting"`
	SmallTalkThanks     string `phrase:"smalltalk_thanks"`
	SmallTalkThanksMore string `phrase:"smalltalk_thanks_more"`
	SmallTalkGoodbye    string `phrase:"smalltalk_goodbye"`
	SmallTalkPresence   string `phrase:"smalltalk_presence"`
	SmallTalkAck        string `phrase:"smalltalk_ack"`
	// SmallTalkPresenceQueued answers a presence check (在吗) while the chat waits in a
	// queue, SmallTalkQueued the other small talk there.
	SmallTalkPresenceQueued string `phrase:"smalltalk_presence_queued"`
	SmallTalkQueued         string `phrase:"smalltalk_queued"`
	// Unhelpful is sent when the shopper said a bot answer did not help (没帮助): it
	// offers a person, whom the widget's 转人工 button calls.
	Unhelpful string `phrase:"unhelpful"`
}

// DefaultPhrases are the Chinese phrases used where neither DeskConfig.Phrasebook nor
// DeskConfig.Phrases has one.
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
	PhotoReceived:     "收到您的图片啦。智能助手暂时看不懂图片，请用文字简单描述一下您的问题；如需人工客服查看图片，请点击「转人工」。",
	Greeting:          "您好！很高兴为您服务，请问有什么可以帮到您？",
	Clarify:           "您想问的是以下哪个问题呢？",
	NoAgent:           "现在是人工客服休息时间（人工客服{hours}在线），您可以先留言，人工客服上线后会尽快回复您。",

	SmallTalkGreeting:       "您好！我是智能助手，请问有什么可以帮到您？",
	SmallTalkThanks:         "不客气，很高兴能帮到您，还有问题随时问我哦。",
	SmallTalkThanksMore:     "不客气，还有其他可以帮您的吗？",
	SmallTalkGoodbye:        "感谢您的咨询，祝您购物愉快，再见！",
	SmallTalkPresence:       "在的，我是智能助手，请问有什么可以帮到您？",
	SmallTalkAck:            "好的，还有其他问题随时告诉我哦。",
	SmallTalkPresenceQueued: "在的，您正在排队等待人工客服，客服接入后会马上回复您，请稍候。",
	SmallTalkQueued:         "收到，您正在排队等待人工客服，客服接入后会马上为您服务，请稍候。",
	Unhelpful:               "抱歉没能帮到您。您可以换个说法再问一次，或点击「转人工」由人工客服为您解答。",
}

// DefaultPhrasesEN are the English phrases used where DeskConfig.Phrasebook has none.
var DefaultPhrasesEN = Phrases{
	TransferPresale:   "Connecting you to a customer service agent, please wait a moment.",
	TransferAftersale: "Connecting you to our after-sales team, please wait a moment.",
	AgentJoined:       "Hello, this is {agent} from customer service. How can I help you today?",
	Resolved:          "Thank you for contacting us. If you have any other questions, just message us again.",
	Fallback:          "Sorry, I can't answer that one reliably. Connecting you to a customer service agent, please wait a moment.",
	AgentOffline:      "The agent has gone offline; we are finding you another one.",
	BackToBot:         "You are back with our assistant. Ask for a person whenever you need one.",
	ReopenedAgent:     "Hello again, {agent} is back to help you. What else can I do for you?",
	ReopenedQueue:     "Connecting you to a customer service agent again, please wait a moment.",
	LeftMessage:       "We have your message (ticket {ticket}); an agent will contact you as soon as possible.",
	PhotoReceived:     "Thanks for the photo! Our assistant can't read pictures yet, so please describe your question in a few words, or ask for a person.",
	Greeting:          "Hello! Thanks for contacting us. How can I help you today?",
	Clarify:           "Which of these questions did you mean?",
	NoAgent:           "Our agents are offline right now (they are online {hours}). You can leave a message, and an agent will reply as soon as they are back.",

	SmallTalkGreeting:       "Hello! I'm the shop's assistant. How can I help you today?",
	SmallTalkThanks:         "You're welcome, glad I could help! Ask me any time if you have another question.",
	SmallTalkThanksMore:     "You're welcome! Is there anything else I can help you with?",
	SmallTalkGoodbye:        "Thank you for contacting us. Enjoy your shopping, and goodbye!",
	SmallTalkPresence:       "Yes, I'm here! I'm the shop's assistant. How can I help you today?",
	SmallTalkAck:            "All right! Just let me know if you have any other questions.",
	SmallTalkPresenceQueued: "Yes, we're here! You are in the queue for an agent, who will reply as soon as they join. Thank you for waiting.",
	SmallTalkQueued:         "Got it. You are in the queue for an agent, who will help you as soon as they join. Thank you for waiting.",
	Unhelpful:               "Sorry that didn't help. You can ask again in other words, or ask for a person and an agent will answer you.",
}

// DeskConfig configures a Desk.
type DeskConfig struct {
	// Engine is where the desk stores, every part required; Staff, also required, looks
	// up users.
	Engine
	Staff Staff
	// Bot answers shoppers' messages while a conversation is the bot's; nil leaves them
	// for people (a shopper then asks for one).
	Bot Bot
	// Unhelpful hears of the bot answers shoppers said did not help (没帮助); nil
	// records them nowhere but the log.
	Unhelpful Unhelpful
	// Files tells which photos were uploaded to a conversation; nil refuses every
	// message with attachments.
	Files Files
	// Phrases are the Chinese phrases; one left empty is taken from Phrasebook, then
	// from DefaultPhrases. Kept for callers that only speak Chinese.
	Phrases Phrases
	// Phrasebook are the bundled phrases of every language by key (knowledge/phrases.yaml
	// and phrases.en.yaml): the defaults an admin's edits (SavePhrasebook) go over. A key
	// missing in a language falls back to DefaultPhrasesEN for English, then to Chinese.
	Phrasebook Phrasebook
	// CannedByLang are the canned replies of languages other than Chinese, matched by
	// key to CannedReplies (the Chinese ones, which give the list and its order); a
	// reply missing in a language falls back to the Chinese one.
	CannedByLang map[Lang][]CannedReply
	// Hours are the opening hours the shopper is told while no agent is online; zero
	// means DefaultHours.
	Hours OpeningHours
	// DefaultWait is the expected wait before any chat was claimed; 0 means one minute.
	DefaultWait time.Duration

	// Groups are the skill groups, each with its own queue; empty means presale and
	// aftersale. A name is 1-32 lowercase letters, digits, _ or -. After-sales hand-offs
	// go to aftersale when it is one of them, the others to presale, or to the first
	// group.
	Groups []Group
	// MaxChats is how many chats an agent owns at once unless their User.MaxChats says
	// otherwise; 0 means 20.
	MaxChats int
	// Grace is how old an agent's last heartbeat may be before the agent counts as
	// offline and their chats go back to the queue; 0 means 60 s.
	Grace time.Duration
	// SweepInterval is how often Run looks for offline agents and chats to assign; 0
	// means 5 s.
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
	// MaxLog bounds a conversation's log: once it holds MaxLog records, a shopper's
	// message is refused with ErrLogFull; 0 means DefaultMaxLog.
	MaxLog int

	// CannedReplies are the standard replies (话术) agents insert from the console's
	// composer by typing "/", in the order listed. Each needs a unique Key and a Text;
	// {agent} in a Text is replaced with the agent's name. A Text that the reply guard
	// would refuse (a one-word reply or an outside contact) is an error.
	CannedReplies []CannedReply
	// AllowedLinkHosts are the hosts, with their subdomains, that agents may link to in a
	// reply; a link to any other host is refused as outside contact unless the agent
	// overrides it with a reason. Empty means no host is allowed.
	AllowedLinkHosts []string
	// TicketLocation is the time zone of the day in ticket ids; nil means China Standard
	// Time (UTC+8).
	TicketLocation *time.Location

	// Metrics are the process's metrics the desk counts in; nil means metrics of its
	// own, which nobody scrapes.
	Metrics *metrics.Metrics
	// Notifier hears of hand-offs, assignments, resolutions, ratings, tickets and left
	// messages, once per change (webhooks); nil means nobody.
	Notifier Notifier

	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Desk is the hand-off service, the domain core of the live-agent side: it starts
// conversations, hears what shoppers say, asks the bot, queues conversations for people,
// lets agents claim, answer and resolve them, and keeps after-sales tickets. Every rule
// is decided here, in Go; the engines only store and commit atomically.
type Desk struct {
	convs     Conversations
	roster    Roster
	annals    Annals
	bus       Bus
	staff     Staff
	bot       Bot
	files     Files
	purger    Purger
	unhelpful Unhelpful
	tickets   *Tickets
	hub       *hub
	docs      Documents
	stats     Stats
	defWait   time.Duration
	now       func() time.Time
	log       zerolog.Logger
	metrics   *metrics.Metrics
	notifier  Notifier

	groups     []Group
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
	maxLog     int64

	guard *ReplyGuard
	// bundle is the phrasebook before edits, and book the phrasebook in use.
	bundle bundle
	book   atomic.Pointer[book]
	bookMu sync.Mutex // serialises reloads of book

	waitMu    sync.Mutex // guards waitEst and waitAt
	waitEst   time.Duration
	waitAt    time.Time
	presMu    sync.Mutex // guards presences and presAt
	presences []Presence
	presAt    time.Time
	people    people
}

// NewDesk returns a Desk.
func NewDesk(cfg DeskConfig) (*Desk, error) {
	switch {
	case cfg.Conversations == nil, cfg.Roster == nil, cfg.Annals == nil, cfg.Bus == nil, cfg.Tickets == nil:
		return nil, errors.New("handoff: DeskConfig needs Conversations, Roster, Annals, Bus and Tickets")
	case cfg.Staff == nil:
		return nil, errors.New("handoff: DeskConfig.Staff is required")
	}
	if cfg.DefaultWait == 0 {
		cfg.DefaultWait = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	tk, err := NewTickets(TicketsConfig{Store: cfg.Tickets, Now: cfg.Now, Location: cfg.TicketLocation})
	if err != nil {
		return nil, err
	}
	tk.notifier = cfg.Notifier
	d := &Desk{
		convs: cfg.Conversations, roster: cfg.Roster, annals: cfg.Annals, bus: cfg.Bus, staff: cfg.Staff, bot: cfg.Bot,
		files: cfg.Files, purger: cfg.Purger, unhelpful: cfg.Unhelpful, tickets: tk, hub: newHub(), docs: cfg.Documents, stats: cfg.Stats, defWait: cfg.DefaultWait, now: cfg.Now, log: cfg.Logger, metrics: cfg.Metrics, notifier: cfg.Notifier,
		groups: cfg.Groups, maxChats: cfg.MaxChats, grace: cfg.Grace, sweepEvery: cfg.SweepInterval,
		auto: !cfg.ManualOnly, maxVIP: cfg.MaxVIP, reopen: orDefault(cfg.ReopenWindow, 30*time.Minute),
		timeout:   orDefault(cfg.QueueTimeout, 10*time.Minute),
		complaint: orDefault(cfg.ComplaintBoost, 10*time.Minute), aftersale: orDefault(cfg.AftersaleBoost, 5*time.Minute),
		vipBoost: orDefault(cfg.VIPBoost, 2*time.Minute), maxLog: int64(cfg.MaxLog),
	}
	if d.maxLog <= 0 {
		d.maxLog = DefaultMaxLog
	}
	if len(d.groups) == 0 {
		d.groups = DefaultGroups
	}
	for _, g := range d.groups {
		if !groupPattern.MatchString(string(g)) {
			return nil, fmt.Errorf("handoff: DeskConfig.Groups: bad group name %q", g)
		}
	}
	d.guard = NewReplyGuard(cfg.AllowedLinkHosts)
	if err := d.initBook(cfg); err != nil {
		return nil, err
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
var DefaultGroups = []Group{GroupPresale, GroupAftersale}

var groupPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// orDefault returns v, def for 0, and 0 for a negative v.
func orDefault(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Groups returns the desk's skill groups.
func (d *Desk) Groups() []Group { return slices.Clone(d.groups) }

// hasGroup reports whether g is one of the desk's groups.
func (d *Desk) hasGroup(g Group) bool { return slices.Contains(d.groups, g) }

// Tickets returns the desk's after-sales tickets.
func (d *Desk) Tickets() *Tickets { return d.tickets }

// nowMS is the clock at the millisecond, the precision the engines keep.
func (d *Desk) nowMS() time.Time { return time.UnixMilli(d.now().UnixMilli()) }

// Open returns the conversation if token is its token. An unknown conversation and a
// wrong token give the same ErrBadToken, so guessing ids tells nothing.
func (d *Desk) Open(ctx context.Context, id, token string) (Conversation, error) {
	if id == "" || token == "" {
		return Conversation{}, ErrBadToken
	}
	c, err := d.convs.Conversation(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Conversation{}, ErrBadToken
	}
	if err != nil {
		return Conversation{}, err
	}
	if !secret.Matches(c.TokenHash, token) {
		return Conversation{}, ErrBadToken
	}
	return c, nil
}

// Conversation returns the conversation or ErrNotFound.
func (d *Desk) Conversation(ctx context.Context, id string) (Conversation, error) {
	return d.convs.Conversation(ctx, id)
}

// Messages returns up to limit (0: all) records after seq.
func (d *Desk) Messages(ctx context.Context, id string, after int64, limit int) ([]Message, error) {
	return d.convs.Messages(ctx, id, after, limit)
}

// Subscribe subscribes to the events of one conversation, or of all when conv is empty.
// The desk's Run must be running for events to arrive.
func (d *Desk) Subscribe(conv string) *Subscription { return d.hub.subscribe(conv) }

// Ping reports whether the storage answers.
func (d *Desk) Ping(ctx context.Context) error { return d.bus.Ping(ctx) }

// maxAttempts bounds how often a change is decided again because the conversation
// moved under it.
const maxAttempts = 50

// errDone says that the change asked for was made before: the call is a retry.
var errDone = errors.New("already done")

// change reads conversation id, asks decide for the change to make of it, and commits
// the change against what was read; when the conversation moved meanwhile it reads and
// decides again. decide returns errDone when there is nothing left to do, or an error
// saying why the change does not fit. Every record of the change gets the desk's time.
func (d *Desk) change(ctx context.Context, id string, decide func(c Conversation) (Change, error)) (Committed, error) {
	for range maxAttempts {
		c, err := d.convs.Conversation(ctx, id)
		if err != nil {
			return Committed{}, err
		}
		ch, err := decide(c)
		if err != nil {
			return Committed{}, err
		}
		ch.Conv, ch.Rev = id, c.Rev
		if ch.Next != nil {
			ch.Prev = &c
		}
		res, err := d.commit(ctx, ch)
		if errors.Is(err, ErrConflict) {
			continue
		}
		return res, err
	}
	return Committed{}, ErrBusy
}

// commit stamps ch's records with the time, adds the reports' tallies of what it does
// (facts) and commits it.
func (d *Desk) commit(ctx context.Context, ch Change) (Committed, error) {
	now := d.now()
	ts := now.UnixMilli()
	for i := range ch.Append {
		ch.Append[i].TS = ts
	}
	if ch.Prev != nil {
		ch.Tallies = append(ch.Tallies, facts(*ch.Prev, ch.Next, ch.Append, now)...)
	}
	res, err := d.convs.Commit(ctx, ch)
	if err == nil {
		d.observe(ch, res)
		d.notifyChange(ctx, ch, res)
	}
	return res, err
}

// Append stores a record in the conversation's log, whatever its status. A record whose
// ID is stored already is returned with dup true.
func (d *Desk) Append(ctx context.Context, id string, m Message) (Message, bool, error) {
	if m.ID == "" {
		return Message{}, false, fmt.Errorf("appending to %q: a record needs an id", id)
	}
	res, err := d.commit(ctx, Change{Conv: id, Append: []Message{m}})
	if err != nil {
		return Message{}, false, err
	}
	return res.Messages[0], res.Dup, nil
}

// publish sends an event; a failure is logged and not returned, since the engine already
// holds the change and readers catch up from it.
func (d *Desk) publish(ctx context.Context, e Event) {
	if err := d.bus.Publish(ctx, e); err != nil {
		d.log.Warn().Err(err).Str("conv", e.Conv).Str("event", string(e.Type)).Msg("publishing event")
	}
}

// system is a record of the desk's own words to the shopper.
func system(id, text string) Message {
	return Message{ID: id, Kind: KindMessage, From: FromSystem, Text: text}
}
