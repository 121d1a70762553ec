package handoff

import "strings"

// Lang is the language a conversation is held in: every system message, phrase and
// notice the desk sends its shopper is in it.
type Lang string

// The languages of the desk. A conversation of no known language is LangZH.
const (
	LangZH Lang = "zh"
	LangEN Lang = "en"
)

// Langs are the desk's languages, the default first.
var Langs = []Lang{LangZH, LangEN}

// ParseLang maps a language tag (zh-CN, en-US, en, fr…) to a language of the desk:
// zh* is Chinese, any other tag English, and an empty tag Chinese, the default
// (docs/domain.md rule 17).
func ParseLang(tag string) Lang {
	tag = strings.ToLower(strings.TrimSpace(tag))
	switch {
	case tag == "":
		return LangZH
	case strings.HasPrefix(tag, "zh"):
		return LangZH
	}
	return LangEN
}

// Of returns l, or LangZH for a conversation stored before it had a language.
func (l Lang) Of() Lang {
	if l == LangEN {
		return LangEN
	}
	return LangZH
}
