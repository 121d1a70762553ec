package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/handoff"
)

// config is everything Kefu can be told. Each field has a flag and a KEFU_* variable;
// a flag given on the command line wins over the variable.
type config struct {
	Addr               string
	RedisURL           string
	RedisPrefix        string
	DataDir            string
	Knowledge          string
	AllowedOrigins     string
	LogLevel           string
	LogFormat          string
	AnswerThreshold    float64
	ClarifyThreshold   float64
	InsecureCookie     bool
	CategoryThresholds string
	LLMBaseURL         string
	LLMModel           string
	LLMAPIKey          string
	LLMTimeout         time.Duration
	MaxChats           int
	AgentGrace         time.Duration
	Assign             string
	// Timezone is the shop's time zone, whose days and hours the reports count.
	Timezone string
	// ReopenWindow is how long after a resolve the shopper's next message goes back to
	// the agent (or the queue) instead of the bot; 0 turns it off.
	ReopenWindow time.Duration
	// QueueTimeout is how long a chat waits before the shopper is offered to leave a
	// message; 0 turns the timeout off (the offer when nobody is online stays).
	QueueTimeout time.Duration
	// ShopSecret signs shopper identities (KEFU_SHOP_SECRET only: a flag would show
	// in the process list).
	ShopSecret string
	// AllowedLinkHosts are the hosts agents may link to (comma-separated).
	AllowedLinkHosts string
	// Retention is KEFU_RETENTION as given: days ("180"), a duration ("720h"), or
	// "0" / "off" to keep conversations forever (retention()).
	Retention string
	// Groups are the skill groups, comma-separated; aftersale must be one of them.
	Groups string
	// Files is where the photos of chats are kept: empty for the data directory's
	// files/, a directory, or s3://BUCKET/PREFIX with the S3 settings.
	Files      string
	S3Endpoint string
	S3Region   string
	// S3AccessKey and S3SecretKey come from KEFU_S3_ACCESS_KEY and KEFU_S3_SECRET_KEY
	// only: a flag would show in the process list.
	S3AccessKey string
	S3SecretKey string
	// WebhookAllowPrivate lets webhooks go to private, loopback and link-local
	// addresses (KEFU_WEBHOOK_ALLOW_PRIVATE=1), for receivers inside the shop's network.
	WebhookAllowPrivate bool
	// WebhookRetry is the wait before a failed webhook delivery's first retry; it
	// doubles with each attempt, up to an hour.
	WebhookRetry time.Duration
	// Unattended is KEFU_UNATTENDED_RETENTION as given, like Retention: how long the
	// anonymous conversations that never went to people are kept (unattended()).
	Unattended string
	// RateLimits is KEFU_RATE_LIMITS: "off", or changes to the default limits such as
	// "conversation=30/10m,handoff=off" (rateLimits()).
	RateLimits string
	// TrustedProxies is KEFU_TRUSTED_PROXIES: the CIDR prefixes of the proxies whose
	// X-Forwarded-For names the client (trustedProxies()).
	TrustedProxies string
	// BotAPILLM lets the public bot API word answers with the language model
	// (KEFU_BOT_API_LLM=on); off, anonymous callers cost no model call.
	BotAPILLM bool

	// badEnv lists the variables that could not be parsed, for validate.
	badEnv []string
}

// newFlagSet returns the flags of serve-like commands, with defaults from env.
func newFlagSet(name string, c *config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	str := func(p *string, flagName, env, def, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			def = v
		}
		fs.StringVar(p, flagName, def, usage+" ($"+env+")")
	}
	// dur reads a duration; an unparsable variable is refused by validate rather than
	// silently replaced by the default, and an empty one is unset.
	dur := func(p *time.Duration, flagName, env string, def time.Duration, usage string) {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				c.badEnv = append(c.badEnv, fmt.Sprintf("%s=%q is not a duration (e.g. 10m, 90s)", env, v))
			} else {
				def = d
			}
		}
		fs.DurationVar(p, flagName, def, usage+" ($"+env+")")
	}
	num := func(p *float64, flagName, env string, def float64, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				def = f
			}
		}
		fs.Float64Var(p, flagName, def, usage+" ($"+env+")")
	}
	str(&c.Addr, "addr", "KEFU_ADDR", ":8080", "address to listen on")
	str(&c.RedisURL, "redis", "KEFU_REDIS_URL", "", "Redis URL, e.g. redis://localhost:6379/0, for several nodes; empty keeps everything in the embedded database of the data directory")
	str(&c.RedisPrefix, "redis-prefix", "KEFU_REDIS_PREFIX", "kefu:", "prefix of every Redis key")
	str(&c.DataDir, "data", "KEFU_DATA_DIR", "./kefu-data", "data directory: the embedded database (without Redis) and the search index")
	str(&c.Knowledge, "knowledge", "KEFU_KNOWLEDGE", "", "directory of Markdown articles, or a .jsonl file, to serve instead of the bundled ones")
	str(&c.AllowedOrigins, "allowed-origins", "KEFU_ALLOWED_ORIGINS", "", "comma-separated origins of shop pages that may embed the widget (* for any); the server's own origin is always allowed")
	str(&c.LogLevel, "log-level", "KEFU_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	str(&c.LogFormat, "log-format", "KEFU_LOG_FORMAT", "", "log format: json or console; empty means console on a terminal, json otherwise")
	num(&c.AnswerThreshold, "answer-threshold", "KEFU_BOT_ANSWER_THRESHOLD", 0.5, "confidence from which the bot answers")
	str(&c.CategoryThresholds, "category-thresholds", "KEFU_BOT_CATEGORY_THRESHOLDS", "", "answer thresholds per article category, e.g. policy=0.6,presale=0.45")
	num(&c.ClarifyThreshold, "clarify-threshold", "KEFU_BOT_CLARIFY_THRESHOLD", 0.33, "confidence from which the bot offers suggestions instead of handing off")
	str(&c.LLMBaseURL, "llm-base-url", "KEFU_LLM_BASE_URL", "", "OpenAI-compatible API base URL; when set with a model, a language model words the bot's answers from the articles")
	str(&c.LLMModel, "llm-model", "KEFU_LLM_MODEL", "", "model name for the LLM")
	str(&c.LLMAPIKey, "llm-api-key", "KEFU_LLM_API_KEY", "", "API key for the LLM (prefer the variable to the flag)")
	llmTimeout := 8 * time.Second
	if v, err := time.ParseDuration(os.Getenv("KEFU_LLM_TIMEOUT")); err == nil {
		llmTimeout = v
	}
	fs.DurationVar(&c.LLMTimeout, "llm-timeout", llmTimeout, "timeout of one LLM call; on timeout the article's own answer is given ($KEFU_LLM_TIMEOUT)")
	maxChats := 20
	if v, err := strconv.Atoi(os.Getenv("KEFU_MAX_CHATS")); err == nil {
		maxChats = v
	}
	fs.IntVar(&c.MaxChats, "max-chats", maxChats, "chats an agent may have at once, unless set for the agent ($KEFU_MAX_CHATS)")
	grace := 60 * time.Second
	if v, err := time.ParseDuration(os.Getenv("KEFU_AGENT_GRACE")); err == nil {
		grace = v
	}
	fs.DurationVar(&c.AgentGrace, "agent-grace", grace, "how long an agent's console may go silent before their chats go back to the queue ($KEFU_AGENT_GRACE)")
	str(&c.Groups, "groups", "KEFU_GROUPS", "presale,aftersale", "comma-separated skill groups, each with its own queue (lowercase letters, digits, _ and -); after-sales hand-offs go to aftersale, which must be listed, the others to presale, or to the first group when presale is not listed")
	str(&c.Timezone, "timezone", "KEFU_TIMEZONE", "Asia/Shanghai", "the shop's time zone (IANA name): the reports' days and hours are its own")
	str(&c.Assign, "assign", "KEFU_ASSIGN", "auto", "auto: waiting chats go to the least-loaded online agent of the group; manual: agents claim from the queue")
	dur(&c.QueueTimeout, "queue-timeout", "KEFU_QUEUE_TIMEOUT", 10*time.Minute, "how long a chat waits before the shopper is offered to leave a message instead (offered at once when nobody of the group is online); 0 turns the timeout off")
	dur(&c.ReopenWindow, "reopen-window", "KEFU_REOPEN_WINDOW", 30*time.Minute, "how long after an agent resolved a chat the shopper's next message goes back to that agent (or the front of the queue) instead of the bot; 0 turns it off")
	str(&c.Retention, "retention", "KEFU_RETENTION", strconv.Itoa(defaultRetentionDays), "days after their last activity conversations are deleted, with their photos, decisions and notes (tickets and the audit log stay); 0 or off keeps them forever")
	str(&c.Unattended, "unattended-retention", "KEFU_UNATTENDED_RETENTION", strconv.Itoa(defaultUnattendedDays), "days after their last activity anonymous conversations that never went to people are deleted; 0 or off leaves them to the retention")
	str(&c.RateLimits, "rate-limits", "KEFU_RATE_LIMITS", "", "changes to the default limits per client and per conversation, e.g. conversation=30/10m,handoff=off; off turns every limit off (load tests only)")
	str(&c.TrustedProxies, "trusted-proxies", "KEFU_TRUSTED_PROXIES", "", "comma-separated CIDR prefixes or addresses of the reverse proxies whose X-Forwarded-For names the client; empty trusts none")
	apiLLM := strings.EqualFold(os.Getenv("KEFU_BOT_API_LLM"), "on") || os.Getenv("KEFU_BOT_API_LLM") == "1" || strings.EqualFold(os.Getenv("KEFU_BOT_API_LLM"), "true")
	fs.BoolVar(&c.BotAPILLM, "bot-api-llm", apiLLM, "let the public bot API (/api/bot/ask) word answers with the language model; off, it answers from the articles ($KEFU_BOT_API_LLM=on)")
	c.ShopSecret = os.Getenv("KEFU_SHOP_SECRET")
	str(&c.Files, "files", "KEFU_FILES", "", "where the photos of chats are kept: empty for files/ in the data directory, another directory, or s3://BUCKET/PREFIX on an S3-compatible store (for several nodes)")
	str(&c.S3Endpoint, "s3-endpoint", "KEFU_S3_ENDPOINT", "", "the S3-compatible store's URL for KEFU_FILES=s3://…, e.g. https://oss-cn-hangzhou.aliyuncs.com or http://minio:9000")
	str(&c.S3Region, "s3-region", "KEFU_S3_REGION", "", "the S3 store's region, if it needs one")
	c.S3AccessKey, c.S3SecretKey = os.Getenv("KEFU_S3_ACCESS_KEY"), os.Getenv("KEFU_S3_SECRET_KEY")
	str(&c.AllowedLinkHosts, "allowed-link-hosts", "KEFU_ALLOWED_LINK_HOSTS", "", "comma-separated hosts (and their subdomains) agents may send links to; other links need an override")
	dur(&c.WebhookRetry, "webhook-retry", "KEFU_WEBHOOK_RETRY", 10*time.Second, "the wait before a failed webhook delivery is tried again; it doubles with each attempt up to an hour, for 24 hours")
	private := os.Getenv("KEFU_WEBHOOK_ALLOW_PRIVATE") == "true" || os.Getenv("KEFU_WEBHOOK_ALLOW_PRIVATE") == "1"
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", private, "let webhooks go to private, loopback and link-local addresses ($KEFU_WEBHOOK_ALLOW_PRIVATE)")
	insecure := os.Getenv("KEFU_INSECURE_COOKIE") == "true" || os.Getenv("KEFU_INSECURE_COOKIE") == "1"
	fs.BoolVar(&c.InsecureCookie, "insecure-cookie", insecure, "send the console cookie without the Secure flag, for plain HTTP off localhost ($KEFU_INSECURE_COOKIE)")
	return fs
}

// defaultRetentionDays is how long conversations are kept unless KEFU_RETENTION says.
const defaultRetentionDays = 180

// defaultUnattendedDays is how long anonymous conversations that never went to people
// are kept unless KEFU_UNATTENDED_RETENTION says.
const defaultUnattendedDays = 7

// retention is how long after their last activity conversations are deleted; 0 keeps
// them forever.
func (c *config) retention() (time.Duration, error) {
	return parseKeep("retention", c.Retention, defaultRetentionDays)
}

// unattended is how long after their last activity anonymous conversations that never
// went to people are deleted; 0 leaves them to the retention.
func (c *config) unattended() (time.Duration, error) {
	return parseKeep("unattended retention", c.Unattended, defaultUnattendedDays)
}

// parseKeep reads a time to keep: days ("180", "30d"), a duration of at least an
// hour ("720h"), or "0" / "off" for forever; empty means def days.
func parseKeep(what, s string, def int) (time.Duration, error) {
	v := strings.TrimSpace(strings.ToLower(s))
	switch v {
	case "":
		return time.Duration(def) * 24 * time.Hour, nil
	case "0", "off", "forever", "never":
		return 0, nil
	}
	if days, err := strconv.Atoi(strings.TrimSuffix(v, "d")); err == nil && days > 0 {
		return time.Duration(days) * 24 * time.Hour, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= time.Hour {
		return d, nil
	}
	return 0, fmt.Errorf("%s %q: give days (%d), a duration of at least 1h (720h), or 0 / off to keep conversations forever", what, s, def)
}

func (c *config) validate() error {
	if len(c.badEnv) > 0 {
		return fmt.Errorf("%s", strings.Join(c.badEnv, "; "))
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return fmt.Errorf("the data directory must not be empty")
	}
	if c.WebhookRetry <= 0 {
		return fmt.Errorf("the webhook retry wait %v must be positive", c.WebhookRetry)
	}
	if _, err := c.retention(); err != nil {
		return err
	}
	if _, err := c.unattended(); err != nil {
		return err
	}
	if _, err := c.rateLimits(); err != nil {
		return err
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	if c.ReopenWindow < 0 || c.QueueTimeout < 0 {
		return fmt.Errorf("reopen window %v and queue timeout %v must not be negative (0 turns them off)", c.ReopenWindow, c.QueueTimeout)
	}
	if c.AnswerThreshold <= 0 || c.AnswerThreshold > 1 || c.ClarifyThreshold <= 0 || c.ClarifyThreshold > c.AnswerThreshold {
		return fmt.Errorf("thresholds must satisfy 0 < clarify (%.2f) <= answer (%.2f) <= 1", c.ClarifyThreshold, c.AnswerThreshold)
	}
	if _, err := c.categoryThresholds(); err != nil {
		return err
	}
	if (c.LLMBaseURL == "") != (c.LLMModel == "") {
		return fmt.Errorf("the LLM needs both a base URL and a model")
	}
	if c.MaxChats < 1 {
		return fmt.Errorf("max chats per agent must be at least 1, not %d", c.MaxChats)
	}
	if c.AgentGrace < 5*time.Second {
		return fmt.Errorf("agent grace %v is too short (at least 5s)", c.AgentGrace)
	}
	if _, err := c.groups(); err != nil {
		return err
	}
	if c.Assign != "auto" && c.Assign != "manual" {
		return fmt.Errorf("assign %q: want auto or manual", c.Assign)
	}
	if _, err := c.location(); err != nil {
		return err
	}
	switch c.LogFormat {
	case "", "json", "console":
	default:
		return fmt.Errorf("unknown log format %q", c.LogFormat)
	}
	return nil
}

// categoryThresholds parses "category=threshold,…".
func (c *config) categoryThresholds() (map[string]float64, error) {
	out := make(map[string]float64)
	for _, part := range strings.Split(c.CategoryThresholds, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		cat, v, ok := strings.Cut(part, "=")
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("category threshold %q: want category=number", part)
		}
		switch cat = strings.TrimSpace(cat); cat {
		case "presale", "insale", "aftersale", "policy":
		default:
			return nil, fmt.Errorf("category threshold %q: unknown category %q", part, cat)
		}
		out[cat] = f
	}
	return out, nil
}

// origins returns AllowedOrigins as a list.
func (c *config) origins() []string { return splitList(c.AllowedOrigins) }

// splitList splits a comma-separated setting into its items, trimmed, leaving out empty
// ones.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// groupPattern is the form of a skill group's name (handoff.DeskConfig.Groups).
var groupPattern = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// groups returns Groups as a list, checked.
func (c *config) groups() ([]string, error) {
	var out []string
	for _, g := range splitList(c.Groups) {
		switch {
		case !groupPattern.MatchString(g):
			return nil, fmt.Errorf("skill group %q: use 1-32 lowercase letters, digits, _ or -", g)
		case slices.Contains(out, g):
			return nil, fmt.Errorf("skill group %q is listed twice", g)
		}
		out = append(out, g)
	}
	if !slices.Contains(out, string(handoff.GroupAftersale)) {
		return nil, fmt.Errorf("skill groups %q: %q must be one of them, for after-sales hand-offs", c.Groups, handoff.GroupAftersale)
	}
	return out, nil
}

// indexDir is the directory of the search index: index/ in the data directory, or none
// (in memory) without one.
func (c *config) indexDir() string {
	if c.DataDir == "" {
		return ""
	}
	return filepath.Join(c.DataDir, "index")
}

// linkHosts returns AllowedLinkHosts as a list.
func (c *config) linkHosts() []string { return splitList(c.AllowedLinkHosts) }

// location returns the shop's time zone (Timezone).
func (c *config) location() (*time.Location, error) {
	loc, err := time.LoadLocation(strings.TrimSpace(c.Timezone))
	if err != nil || strings.TrimSpace(c.Timezone) == "" {
		return nil, fmt.Errorf("time zone %q: want an IANA name such as Asia/Shanghai", c.Timezone)
	}
	return loc, nil
}
