package handoff

import (
	"fmt"
	"github.com/kefu-im/kefu/internal/contactguard"
	"strings"
	"unicode/utf8"
)

// CannedReply is one of the standard replies (话术) agents insert from the console by
// typing "/" in the composer, filtered by what follows the slash.
type CannedReply struct {
	// Key is a short unique name (greeting, ask_order); "/key" finds it.
	Key string `json:"key"`
	// Title is what the list shows, such as 「问候」 or 「催发货安抚」.
	Title string `json:"title"`
	// Text is what is inserted; {agent} is replaced with the agent's name.
	Text string `json:"text"`
}

// checkCanned returns the canned replies with spaces trimmed, or an error naming the
// first one without a key or text, with a key used twice, or with a text the reply
// guard would refuse: a canned reply must never need an override.
func checkCanned(list []CannedReply, g *ReplyGuard) ([]CannedReply, error) {
	out := make([]CannedReply, 0, len(list))
	seen := make(map[string]bool)
	for i, c := range list {
		c.Key, c.Title, c.Text = strings.TrimSpace(c.Key), strings.TrimSpace(c.Title), strings.TrimSpace(c.Text)
		switch {
		case c.Key == "" || c.Text == "":
			return nil, fmt.Errorf("handoff: DeskConfig.CannedReplies[%d]: key and text are required", i)
		case seen[c.Key]:
			return nil, fmt.Errorf("handoff: DeskConfig.CannedReplies: key %q is used twice", c.Key)
		case utf8.RuneCountInString(c.Text) > MaxReplyRunes:
			return nil, fmt.Errorf("handoff: DeskConfig.CannedReplies %q: longer than %d characters", c.Key, MaxReplyRunes)
		case IsShortReply(c.Text):
			return nil, fmt.Errorf("handoff: DeskConfig.CannedReplies %q: a one-word reply", c.Key)
		case contactguard.Garbled(c.Text):
			return nil, fmt.Errorf("handoff: DeskConfig.CannedReplies %q: control characters, bidi overrides or invalid UTF-8", c.Key)
		case len(g.Check(c.Text)) > 0:
			return nil, fmt.Errorf("handoff: DeskConfig.CannedReplies %q: contains outside contact details (%v)", c.Key, g.Check(c.Text))
		}
		if c.Title == "" {
			c.Title = c.Key
		}
		seen[c.Key] = true
		out = append(out, c)
	}
	return out, nil
}

// CannedReplies returns the desk's Chinese canned replies with {agent} filled in with
// agent, the name shoppers see (Desk.Person), never a login.
func (d *Desk) CannedReplies(agent string) []CannedReply { return d.CannedRepliesIn(LangZH, agent) }

// CannedRepliesIn returns the desk's canned replies in language l, with the admin's
// edits, and {agent} filled in with agent, the name shoppers see.
func (d *Desk) CannedRepliesIn(l Lang, agent string) []CannedReply {
	list := d.book.Load().canned[l.Of()]
	out := make([]CannedReply, len(list))
	for i, c := range list {
		c.Text = strings.ReplaceAll(c.Text, "{agent}", agent)
		out[i] = c
	}
	return out
}
