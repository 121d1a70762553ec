package handoff

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OpeningHours are when agents are at the desk: the days of the week and one span of
// the day, in the shop's time zone. Shoppers are told them while no agent is online
// (Phrases.NoAgent, the widget); the desk routes the same at any hour.
type OpeningHours struct {
	// Days are the days of the week agents work, 0 Sunday to 6 Saturday.
	Days []int `json:"days"`
	// From and To bound the day's hours, "HH:MM" (24 h), From before To.
	From string `json:"from"`
	To   string `json:"to"`
	// Zone is the shop's IANA time zone, such as Asia/Shanghai.
	Zone string `json:"zone"`
}

// DefaultHours are every day from 9:00 to 23:00, China time.
var DefaultHours = OpeningHours{Days: []int{0, 1, 2, 3, 4, 5, 6}, From: "09:00", To: "23:00", Zone: "Asia/Shanghai"}

// IsZero reports whether h says nothing.
func (h OpeningHours) IsZero() bool {
	return len(h.Days) == 0 && h.From == "" && h.To == "" && h.Zone == ""
}

// minutes parses "HH:MM" into minutes after midnight.
func minutes(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || h > 24 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("时间须为 HH:MM，而不是 %q", s)
	}
	return h*60 + m, nil
}

// check says what is wrong with h, or nil.
func (h OpeningHours) check() error {
	if len(h.Days) == 0 {
		return errors.New("至少选择一天")
	}
	for _, d := range h.Days {
		if d < 0 || d > 6 {
			return fmt.Errorf("星期须为 0-6，而不是 %d", d)
		}
	}
	from, err := minutes(h.From)
	if err != nil {
		return err
	}
	to, err := minutes(h.To)
	if err != nil {
		return err
	}
	if from >= to {
		return errors.New("开始时间须早于结束时间")
	}
	if _, err := time.LoadLocation(h.Zone); err != nil || h.Zone == "" {
		return fmt.Errorf("未知时区 %q", h.Zone)
	}
	return nil
}

// Open reports whether t falls within the hours.
func (h OpeningHours) Open(t time.Time) bool {
	loc, err := time.LoadLocation(h.Zone)
	if err != nil {
		return true
	}
	t = t.In(loc)
	from, _ := minutes(h.From)
	to, _ := minutes(h.To)
	m := t.Hour()*60 + t.Minute()
	return slices.Contains(h.Days, int(t.Weekday())) && m >= from && m < to
}

var dayNames = map[Lang][]string{
	LangZH: {"周日", "周一", "周二", "周三", "周四", "周五", "周六"},
	LangEN: {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
}

// Text writes the hours for a shopper in l: 「每天 9:00–23:00」, "every day 9:00–23:00,
// Asia/Shanghai time" (no brackets: phrases put it in brackets themselves); a zone other
// than China's is named in Chinese too.
func (h OpeningHours) Text(l Lang) string {
	days := slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(h.Days)))))
	names := dayNames[l.Of()]
	var when string
	switch {
	case len(days) == 7:
		when = map[Lang]string{LangZH: "每天", LangEN: "every day"}[l.Of()]
	case slices.Equal(days, []int{1, 2, 3, 4, 5}):
		when = map[Lang]string{LangZH: "周一至周五", LangEN: "Monday to Friday"}[l.Of()]
	default:
		parts := make([]string, len(days))
		for i, d := range days {
			parts[i] = names[d]
		}
		when = strings.Join(parts, map[Lang]string{LangZH: "、", LangEN: ", "}[l.Of()])
	}
	span := strings.TrimPrefix(h.From, "0") + "–" + strings.TrimPrefix(h.To, "0")
	if l.Of() == LangEN {
		return when + " " + span + ", " + h.Zone + " time"
	}
	if h.Zone != "Asia/Shanghai" {
		return when + span + "（" + h.Zone + "）"
	}
	return when + span
}
