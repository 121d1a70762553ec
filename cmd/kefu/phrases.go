package main

import (
	"fmt"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/knowledge"
)

// cannedTitles are the titles of the canned replies made of standard phrases, by
// language.
var cannedTitles = map[handoff.Lang]map[string]string{
	handoff.LangZH: {"greeting": "问候", "waiting": "请稍等", "closing": "结束语"},
	handoff.LangEN: {"greeting": "Greeting", "waiting": "One moment", "closing": "Closing"},
}

// bundledPhrasebook returns the phrases of knowledge/phrases*.yaml for the desk: every
// language's phrases by key, and its canned replies (the greeting, waiting and closing
// phrases first, then the canned section), Chinese giving the list.
func bundledPhrasebook() (handoff.Phrasebook, map[handoff.Lang][]handoff.CannedReply, error) {
	book := handoff.Phrasebook{}
	canned := map[handoff.Lang][]handoff.CannedReply{}
	for _, l := range handoff.Langs {
		texts, err := knowledge.PhrasesIn(string(l))
		if err != nil {
			return nil, nil, fmt.Errorf("loading the %s phrases: %w", l, err)
		}
		book[l] = texts
		yml, err := knowledge.CannedIn(string(l))
		if err != nil {
			return nil, nil, fmt.Errorf("loading the %s canned replies: %w", l, err)
		}
		var list []handoff.CannedReply
		for _, k := range []string{"greeting", "waiting", "closing"} {
			if texts[k] != "" {
				list = append(list, handoff.CannedReply{Key: k, Title: cannedTitles[l][k], Text: texts[k]})
			}
		}
		for _, r := range yml {
			list = append(list, handoff.CannedReply{Key: r.Key, Title: r.Title, Text: r.Text})
		}
		canned[l] = list
	}
	return book, canned, nil
}
