package handoff

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kefu-im/kefu/internal/contactguard"
)

// The reply guard enforces two of the platform's rules before an agent's reply is stored:
// no one-word replies (一字真言) and no outside contact details. The contact guard itself
// lives in internal/contactguard, so that the bot can hold the text an LLM words to the
// same rule; these names keep the desk's API.

// MaxReplyRunes bounds an agent's message, and an internal note.
const MaxReplyRunes = 2000

// CheckContact returns the outside contact details the desk's reply guard finds in text
// (DeskConfig.AllowedLinkHosts): a reply that has any needs the agent's override.
func (d *Desk) CheckContact(text string) []ContactFinding { return d.guard.Check(text) }

// Finding kinds of ContactFinding.
const (
	FindPhone    = contactguard.FindPhone    // a mainland mobile number
	FindLandline = contactguard.FindLandline // a fixed-line or 400/800 service number
	FindQQ       = contactguard.FindQQ       // a QQ number
	FindWeChat   = contactguard.FindWeChat   // a WeChat id
	FindEmail    = contactguard.FindEmail    // an e-mail address
	FindLink     = contactguard.FindLink     // a link to a host not on the allowlist
)

// ContactFinding is an outside contact detail found in a reply (contactguard.Finding):
// its Masked form, never the value, is what logs and override notes carry.
type ContactFinding = contactguard.Finding

// ReplyGuard checks agents' replies for outside contact details (contactguard.Guard).
type ReplyGuard = contactguard.Guard

// NewReplyGuard returns a guard that lets links to allowedHosts (and their subdomains)
// through; every other link is reported.
func NewReplyGuard(allowedHosts []string) *ReplyGuard { return contactguard.New(allowedHosts) }

// shortWords are replies that say nothing on their own; shortChars and particles are the
// characters of the one-word replies built from them (嗯嗯, 好的, 行吧, 哦哦哦).
var (
	shortWords = map[string]bool{
		"ok": true, "okay": true, "okk": true, "okkk": true, "k": true, "kk": true, "o": true,
		"en": true, "enn": true, "em": true, "emm": true, "emmm": true, "hmm": true, "hm": true,
		"y": true, "yes": true, "yep": true, "ha": true, "haha": true, "hahaha": true, "1": true,
		"可以": true, "收到": true, "知道了": true, "明白": true, "了解": true, "没有": true, "不行": true,
		"不是": true, "没": true, "不": true, "ok的": true, "ok啦": true, "ok了": true,
	}
	shortChars = "嗯恩好哦噢喔行哈是对在啊呃额昂嗷唔嘿"
	particles  = "的了啦呢吧滴哒呀嘛"
)

// IsShortReply reports whether text is a one-word reply once spaces, punctuation and
// emoji are trimmed: 「嗯」「好的」「哦哦」「OK」「👍」. Such a reply needs the agent's
// confirmation.
func IsShortReply(text string) bool {
	if strings.TrimSpace(text) == "" {
		return false
	}
	var b strings.Builder
	for _, r := range text {
		switch {
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r), unicode.Is(unicode.Mn, r),
			unicode.Is(unicode.Cf, r), unicode.In(r, unicode.Sk), r == '\uFE0F', r >= 0x1F000:
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	s := b.String()
	if s == "" {
		return true // only emoji or punctuation: 「👍」「。。。」
	}
	if shortWords[s] {
		return true
	}
	n := utf8.RuneCountInString(s)
	if n > 4 {
		return false
	}
	base := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune(shortChars, r):
			base++
		case strings.ContainsRune(particles, r):
		default:
			return false
		}
	}
	return base > 0
}
