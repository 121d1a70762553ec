package handoff

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// TestPhraseKeys: every phrase of Phrases has a key, by its tag or its name, and the
// texts of the defaults go through Texts and PhrasesOf unchanged, so that a field added
// to Phrases is filled, stored and edited by its key.
func TestPhraseKeys(t *testing.T) {
	if got := snakeCase("RatingPrompt"); got != "rating_prompt" {
		t.Errorf("snakeCase(RatingPrompt) = %q", got)
	}
	for _, p := range []Phrases{DefaultPhrases, DefaultPhrasesEN} {
		texts := p.Texts()
		if got := slices.Sorted(maps.Keys(texts)); !slices.Equal(got, slices.Sorted(slices.Values(phraseKeys))) {
			t.Errorf("the defaults' keys = %v, want every phrase's: %v", got, phraseKeys)
		}
		if PhrasesOf(texts) != p {
			t.Errorf("PhrasesOf(Texts()) = %+v, want %+v", PhrasesOf(texts), p)
		}
	}
	if DefaultPhrases.Texts()["closing"] != DefaultPhrases.Resolved {
		t.Error("Resolved is not the closing phrase")
	}
}

// TestParseLang: zh* is Chinese, any other tag English, none Chinese.
func TestParseLang(t *testing.T) {
	for tag, want := range map[string]Lang{"": LangZH, "zh": LangZH, "zh-CN": LangZH, "ZH-hant": LangZH, "en": LangEN, "en-US": LangEN, "fr": LangEN, " ja ": LangEN} {
		if got := ParseLang(tag); got != want {
			t.Errorf("ParseLang(%q) = %q, want %q", tag, got, want)
		}
	}
}

// TestOpeningHours: the hours written for a shopper in each language, and whether a
// moment falls within them in the shop's time zone.
func TestOpeningHours(t *testing.T) {
	week := OpeningHours{Days: []int{5, 1, 2, 3, 4}, From: "09:30", To: "18:00", Zone: "Asia/Shanghai"}
	for _, tc := range []struct {
		h    OpeningHours
		l    Lang
		want string
	}{
		{DefaultHours, LangZH, "每天9:00–23:00"},
		{DefaultHours, LangEN, "every day 9:00–23:00, Asia/Shanghai time"},
		{week, LangZH, "周一至周五9:30–18:00"},
		{OpeningHours{Days: []int{6, 0}, From: "10:00", To: "16:00", Zone: "Europe/Berlin"}, LangEN, "Sun, Sat 10:00–16:00, Europe/Berlin time"},
	} {
		if got := tc.h.Text(tc.l); got != tc.want {
			t.Errorf("%+v in %s = %q, want %q", tc.h, tc.l, got, tc.want)
		}
	}
	// Friday 2026-12-04 10:00 UTC is 18:00 in Shanghai: closed; 09:59 UTC is open.
	if week.Open(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) || !week.Open(time.Date(2026, 12, 4, 9, 59, 0, 0, time.UTC)) {
		t.Error("Open is wrong at the end of Friday's hours")
	}
	if week.Open(time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)) {
		t.Error("open on a Saturday")
	}
	for _, bad := range []OpeningHours{{From: "09:00", To: "18:00", Zone: "Asia/Shanghai"}, {Days: []int{7}, From: "09:00", To: "18:00", Zone: "Asia/Shanghai"},
		{Days: []int{1}, From: "9", To: "18:00", Zone: "Asia/Shanghai"}, {Days: []int{1}, From: "09:00", To: "18:00", Zone: "Mars/Base"}} {
		if bad.check() == nil {
			t.Errorf("%+v passed the check", bad)
		}
	}
}
