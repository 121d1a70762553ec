package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kefu-im/kefu/internal/contactguard"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Phrasebook is a per-language set of phrases: language → phrase key (the keys of
// knowledge/phrases.yaml: greeting, transfer_presale, …) → text. PhrasesOf turns one
// language's texts into Phrases.
type Phrasebook map[Lang]map[string]string

// phraseKeys are the keys of the Phrases fields, in field order, and fieldOf the
// index of each key's field. A string field's key is its phrase tag, or its name in
// snake case (RatingPrompt: rating_prompt) when it has none.
var phraseKeys, fieldOf = func() ([]string, map[string]int) {
	t := reflect.TypeFor[Phrases]()
	keys, idx := []string{}, map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.String || !f.IsExported() {
			continue
		}
		k := f.Tag.Get("phrase")
		if k == "" {
			k = snakeCase(f.Name)
		}
		keys = append(keys, k)
		idx[k] = i
	}
	return keys, idx
}()

// snakeCase writes a Go name in snake case: NoAgent → no_agent.
func snakeCase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PhrasesOf fills Phrases from texts by each field's phrase key; keys without a field
// are left out.
func PhrasesOf(texts map[string]string) Phrases {
	var p Phrases
	v := reflect.ValueOf(&p).Elem()
	for k, i := range fieldOf {
		v.Field(i).SetString(texts[k])
	}
	return p
}

// Texts returns p's non-empty phrases by key.
func (p Phrases) Texts() map[string]string {
	out := make(map[string]string, len(phraseKeys))
	v := reflect.ValueOf(p)
	for k, i := range fieldOf {
		if s := v.Field(i).String(); strings.TrimSpace(s) != "" {
			out[k] = s
		}
	}
	return out
}

// PhrasebookDoc is the name of the phrasebook's document in the engine (Documents).
const PhrasebookDoc = "phrasebook"

// PhrasebookEdits are an admin's edits over the bundled phrasebook, the document the
// engine stores: a key without an edit has its default.
type PhrasebookEdits struct {
	// Phrases are edited phrases by language and key.
	Phrases map[Lang]map[string]string `json:"phrases,omitempty"`
	// Canned are edited canned reply texts by language and canned key.
	Canned map[Lang]map[string]string `json:"canned,omitempty"`
	// Hours are the edited opening hours; nil keeps the desk's.
	Hours *OpeningHours `json:"hours,omitempty"`
}

// bundle is the phrasebook before edits: every language's phrases and canned replies.
type bundle struct {
	texts  Phrasebook
	canned map[Lang][]CannedReply
	hours  OpeningHours
}

// book is the phrasebook in use: the bundle with the stored edits over it.
type book struct {
	rev     int64
	edits   PhrasebookEdits
	texts   Phrasebook
	phrases map[Lang]Phrases
	canned  map[Lang][]CannedReply
	hours   OpeningHours
}

// initBook builds the bundle from the desk's configuration and puts it in use.
func (d *Desk) initBook(cfg DeskConfig) error {
	zh := maps.Clone(DefaultPhrases.Texts())
	maps.Copy(zh, cfg.Phrasebook[LangZH])
	maps.Copy(zh, cfg.Phrases.Texts())
	en := maps.Clone(DefaultPhrasesEN.Texts())
	maps.Copy(en, cfg.Phrasebook[LangEN])
	b := bundle{texts: Phrasebook{LangZH: zh, LangEN: en}, canned: map[Lang][]CannedReply{}, hours: cfg.Hours}
	for k, v := range zh {
		if _, ok := en[k]; !ok {
			en[k] = v // a key of no English text falls back to Chinese
		}
	}
	if b.hours.IsZero() {
		b.hours = DefaultHours
	}
	if err := b.hours.check(); err != nil {
		return fmt.Errorf("handoff: DeskConfig.Hours: %w", err)
	}
	var err error
	if b.canned[LangZH], err = checkCanned(cfg.CannedReplies, d.guard); err != nil {
		return err
	}
	for _, l := range Langs[1:] {
		byKey := map[string]CannedReply{}
		for _, c := range cfg.CannedByLang[l] {
			byKey[strings.TrimSpace(c.Key)] = c
		}
		list := make([]CannedReply, 0, len(b.canned[LangZH]))
		for _, c := range b.canned[LangZH] {
			if t, ok := byKey[c.Key]; ok {
				t.Key = c.Key
				c = t
			}
			list = append(list, c)
		}
		if b.canned[l], err = checkCanned(list, d.guard); err != nil {
			return fmt.Errorf("%s: %w", l, err)
		}
	}
	d.bundle = b
	bk, err := d.apply(0, PhrasebookEdits{})
	if err != nil {
		return err
	}
	d.book.Store(bk)
	return nil
}

// apply returns the bundle with edits over it, or an error naming the first edit the
// reply guard refuses (ErrBadPhrase).
func (d *Desk) apply(rev int64, e PhrasebookEdits) (*book, error) {
	b := d.bundle
	bk := &book{rev: rev, edits: e, texts: Phrasebook{}, phrases: map[Lang]Phrases{}, canned: map[Lang][]CannedReply{}, hours: b.hours}
	for _, l := range Langs {
		texts := maps.Clone(b.texts[l])
		for k, v := range e.Phrases[l] {
			if _, ok := texts[k]; !ok {
				return nil, fmt.Errorf("%w: %s.%s: 没有这条话术", ErrBadPhrase, l, k)
			}
			if err := d.checkPhrase(v); err != nil {
				return nil, fmt.Errorf("%w: %s.%s: %s", ErrBadPhrase, l, k, err)
			}
			texts[k] = strings.TrimSpace(v)
		}
		bk.texts[l], bk.phrases[l] = texts, PhrasesOf(texts)
		list := slices.Clone(b.canned[l])
		for k, v := range e.Canned[l] {
			i := slices.IndexFunc(list, func(c CannedReply) bool { return c.Key == k })
			if i < 0 {
				return nil, fmt.Errorf("%w: %s.canned.%s: 没有这条快捷话术", ErrBadPhrase, l, k)
			}
			if err := d.checkPhrase(v); err != nil {
				return nil, fmt.Errorf("%w: %s.canned.%s: %s", ErrBadPhrase, l, k, err)
			}
			list[i].Text = strings.TrimSpace(v)
		}
		bk.canned[l] = list
	}
	if e.Hours != nil {
		if err := e.Hours.check(); err != nil {
			return nil, fmt.Errorf("%w: 在线时间: %s", ErrBadPhrase, err)
		}
		bk.hours = *e.Hours
	}
	return bk, nil
}

// checkPhrase says why the reply guard refuses an edited text, or nil.
func (d *Desk) checkPhrase(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return errors.New("不能为空")
	case utf8.RuneCountInString(s) > MaxReplyRunes:
		return fmt.Errorf("不能超过 %d 个字", MaxReplyRunes)
	case IsShortReply(s):
		return errors.New("回复过短（一个词的回复）")
	case contactguard.Garbled(s):
		return errors.New("含有无效字符（控制字符、双向文本控制符，或只有不可见字符）")
	}
	if found := d.guard.Check(s); len(found) > 0 {
		names := make([]string, len(found))
		for i, f := range found {
			names[i] = f.String()
		}
		return fmt.Errorf("含有站外联系方式（%s）", strings.Join(names, "、"))
	}
	return nil
}

// PhrasesFor returns the phrases of language l in use now.
func (d *Desk) PhrasesFor(l Lang) Phrases { return d.book.Load().phrases[l.Of()] }

// Hours returns the opening hours in use now.
func (d *Desk) Hours() OpeningHours { return d.book.Load().hours }

// NoAgentText is the offer to leave a message while no agent is online, in l, with the
// opening hours filled in.
func (d *Desk) NoAgentText(l Lang) string {
	bk := d.book.Load()
	return strings.ReplaceAll(bk.phrases[l.Of()].NoAgent, "{hours}", bk.hours.Text(l.Of()))
}

// PhraseEntry is one phrase or canned reply of the phrasebook as an admin edits it.
type PhraseEntry struct {
	Key   string `json:"key"`
	Title string `json:"title,omitempty"`
	// Text is the text in use; Default the bundled one, which Text equals unless Edited.
	Text    string `json:"text"`
	Default string `json:"default"`
	Edited  bool   `json:"edited"`
}

// PhrasebookView is the phrasebook as the console shows it.
type PhrasebookView struct {
	Rev     int64                  `json:"rev"`
	Phrases map[Lang][]PhraseEntry `json:"phrases"`
	Canned  map[Lang][]PhraseEntry `json:"canned"`
	Hours   OpeningHours           `json:"hours"`
	Default OpeningHours           `json:"default_hours"`
	Edits   PhrasebookEdits        `json:"-"`
	Langs   []Lang                 `json:"langs"`
}

// Phrasebook returns the phrasebook in use with its defaults, read from the engine.
func (d *Desk) Phrasebook(ctx context.Context) (PhrasebookView, error) {
	if err := d.ReloadPhrasebook(ctx); err != nil {
		return PhrasebookView{}, err
	}
	bk := d.book.Load()
	v := PhrasebookView{Rev: bk.rev, Phrases: map[Lang][]PhraseEntry{}, Canned: map[Lang][]PhraseEntry{},
		Hours: bk.hours, Default: d.bundle.hours, Edits: bk.edits, Langs: Langs}
	for _, l := range Langs {
		keys := slices.Sorted(maps.Keys(bk.texts[l]))
		for _, k := range keys {
			_, edited := bk.edits.Phrases[l][k]
			v.Phrases[l] = append(v.Phrases[l], PhraseEntry{Key: k, Text: bk.texts[l][k], Default: d.bundle.texts[l][k], Edited: edited})
		}
		for i, c := range bk.canned[l] {
			_, edited := bk.edits.Canned[l][c.Key]
			v.Canned[l] = append(v.Canned[l], PhraseEntry{Key: c.Key, Title: c.Title, Text: c.Text, Default: d.bundle.canned[l][i].Text, Edited: edited})
		}
	}
	return v, nil
}

// SavePhrasebook stores e as the admin's edits if the stored phrasebook is still at
// revision rev, puts it in use and tells every node (EventPhrasebook); it returns the
// new revision. An edit the reply guard refuses is ErrBadPhrase, a stale rev
// ErrConflict.
func (d *Desk) SavePhrasebook(ctx context.Context, e PhrasebookEdits, rev int64) (int64, error) {
	if d.docs == nil {
		return 0, errors.New("handoff: this engine keeps no documents")
	}
	e = tidyEdits(e)
	bk, err := d.apply(rev+1, e)
	if err != nil {
		return 0, err
	}
	doc, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("encoding the phrasebook: %w", err)
	}
	next, err := d.docs.PutDocument(ctx, PhrasebookDoc, doc, rev)
	if err != nil {
		return 0, err
	}
	bk.rev = next
	d.setBook(bk)
	d.publish(ctx, Event{Type: EventPhrasebook, Ver: next})
	return next, nil
}

// tidyEdits drops empty languages and the edits that equal nothing.
func tidyEdits(e PhrasebookEdits) PhrasebookEdits {
	out := PhrasebookEdits{Hours: e.Hours}
	for _, part := range []struct{ in, out *map[Lang]map[string]string }{{&e.Phrases, &out.Phrases}, {&e.Canned, &out.Canned}} {
		for l, m := range *part.in {
			if len(m) == 0 {
				continue
			}
			if *part.out == nil {
				*part.out = map[Lang]map[string]string{}
			}
			(*part.out)[l] = m
		}
	}
	return out
}

// ReloadPhrasebook reads the stored edits and puts them in use, unless the phrasebook
// in use is as new.
func (d *Desk) ReloadPhrasebook(ctx context.Context) error {
	if d.docs == nil {
		return nil
	}
	doc, rev, err := d.docs.Document(ctx, PhrasebookDoc)
	if err != nil {
		return fmt.Errorf("reading the phrasebook: %w", err)
	}
	if rev == 0 || rev <= d.book.Load().rev {
		return nil
	}
	var e PhrasebookEdits
	if err := json.Unmarshal(doc, &e); err != nil {
		return fmt.Errorf("decoding the phrasebook: %w", err)
	}
	bk, err := d.apply(rev, e)
	if err != nil {
		// Stored edits that no longer fit (a key removed from the bundle) are dropped
		// one by one rather than losing the rest.
		d.log.Warn().Err(err).Int64("rev", rev).Msg("phrasebook edits do not fit the bundle")
		bk, err = d.apply(rev, fitEdits(d, e))
		if err != nil {
			return err
		}
	}
	d.setBook(bk)
	return nil
}

// fitEdits keeps the edits that apply on their own.
func fitEdits(d *Desk, e PhrasebookEdits) PhrasebookEdits {
	out := PhrasebookEdits{Phrases: map[Lang]map[string]string{}, Canned: map[Lang]map[string]string{}}
	if e.Hours != nil && e.Hours.check() == nil {
		out.Hours = e.Hours
	}
	for l, m := range e.Phrases {
		for k, v := range m {
			if _, err := d.apply(0, PhrasebookEdits{Phrases: map[Lang]map[string]string{l: {k: v}}}); err == nil {
				if out.Phrases[l] == nil {
					out.Phrases[l] = map[string]string{}
				}
				out.Phrases[l][k] = v
			}
		}
	}
	for l, m := range e.Canned {
		for k, v := range m {
			if _, err := d.apply(0, PhrasebookEdits{Canned: map[Lang]map[string]string{l: {k: v}}}); err == nil {
				if out.Canned[l] == nil {
					out.Canned[l] = map[string]string{}
				}
				out.Canned[l][k] = v
			}
		}
	}
	return out
}

// setBook puts bk in use unless a newer one is.
func (d *Desk) setBook(bk *book) {
	d.bookMu.Lock()
	defer d.bookMu.Unlock()
	if bk.rev >= d.book.Load().rev {
		d.book.Store(bk)
	}
}

// reloadSoon reloads the phrasebook in the background after an EventPhrasebook or a
// resync.
func (d *Desk) reloadSoon() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.ReloadPhrasebook(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn().Err(err).Msg("reloading the phrasebook")
		}
	}()
}
