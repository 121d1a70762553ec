package handoff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The customer-service lead's report (docs/reports.md), read from the counters the
// engines keep (tally.go): a 90-day report reads hour buckets, never a conversation.

// Errors of reports.
var (
	// ErrNoStats is returned by Report when the desk's engine keeps no counters.
	ErrNoStats = errors.New("the desk's engine keeps no report counters")
	// ErrBadRange is returned for a report whose first day is after its last, or that
	// spans more than MaxReportDays.
	ErrBadRange = errors.New("bad report range")
)

// MaxReportDays is the longest report, in days.
const MaxReportDays = 400

// ReportQuery asks for a report.
type ReportQuery struct {
	// From and To are the first and the last day of the report (To included), as any
	// time of that day in Location.
	From, To time.Time
	// Location is the shop's time zone: days and the hours of ByHour are its own; nil
	// means UTC.
	Location *time.Location
	// Group and Agent, when set, keep only the figures of that group and agent; figures
	// that belong to no group (or no agent) are kept whatever the filter says.
	Group Group
	Agent string
}

// Percentiles are the p50 and p90 of a latency, in seconds, read from its bins; nil
// without samples. Count is the number of samples.
type Percentiles struct {
	Count int64    `json:"count"`
	P50   *float64 `json:"p50"`
	P90   *float64 `json:"p90"`
}

// CSAT sums shoppers' ratings: how many, their average (nil without any) and how many
// of each score, "1" to "5".
type CSAT struct {
	Count int64            `json:"count"`
	Avg   *float64         `json:"avg"`
	Dist  map[string]int64 `json:"dist"`
}

// HourCount is one local hour of the day (0–23): the conversations that started in it
// and the hand-offs of those conversations.
type HourCount struct {
	Hour          int   `json:"hour"`
	Conversations int64 `json:"conversations"`
	Handoffs      int64 `json:"handoffs"`
}

// IntentCount is how many hand-offs the bot made with an intent.
type IntentCount struct {
	Intent string `json:"intent"`
	Count  int64  `json:"count"`
}

// AgentReport is one agent's row of the report.
type AgentReport struct {
	Name          string      `json:"name"`
	Chats         int64       `json:"chats"`
	Resolved      int64       `json:"resolved"`
	FirstResponse Percentiles `json:"first_response_s"`
	Handling      Percentiles `json:"handling_s"`
	CSAT          CSAT        `json:"csat"`
}

// Report is the customer-service lead's report of a range of days (docs/reports.md).
type Report struct {
	From     string `json:"from"`
	To       string `json:"to"`
	TimeZone string `json:"time_zone"`
	Group    Group  `json:"group,omitempty"`
	Agent    string `json:"agent,omitempty"`

	Conversations int64            `json:"conversations"`
	BotResolved   int64            `json:"bot_resolved"`
	Handoffs      map[string]int64 `json:"handoffs"`
	// HandoffRate is the share of conversations that went to people; nil without
	// conversations.
	HandoffRate   *float64      `json:"handoff_rate"`
	FirstResponse Percentiles   `json:"first_response_s"`
	Wait          Percentiles   `json:"wait_s"`
	Handling      Percentiles   `json:"handling_s"`
	FCR           *float64      `json:"fcr"`
	CSAT          CSAT          `json:"csat"`
	Unanswered    int64         `json:"unanswered"`
	ByHour        []HourCount   `json:"by_hour"`
	ByIntent      []IntentCount `json:"by_intent"`
	Agents        []AgentReport `json:"agents"`
	// BinError is the largest relative error of the latency percentiles.
	BinError float64 `json:"bin_error"`
}

// histogram counts samples by latency bin.
type histogram map[int]int64

func (h histogram) percentiles() Percentiles {
	var p Percentiles
	for _, n := range h {
		p.Count += n
	}
	if p.Count > 0 {
		p.P50, p.P90 = h.quantile(p.Count, 0.5), h.quantile(p.Count, 0.9)
	}
	return p
}

// quantile is the nearest-rank quantile q of the count samples: the value of the bin
// holding the ceil(q·count)-th smallest sample.
func (h histogram) quantile(count int64, q float64) *float64 {
	rank := int64(q*float64(count) + 0.999999999)
	rank = max(rank, 1)
	var seen int64
	for b := 0; b <= maxBin; b++ {
		seen += h[b]
		if seen >= rank {
			v := roundTo(binValue(b), 1)
			return &v
		}
	}
	return nil
}

func roundTo(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// csatSum gathers ratings by score.
type csatSum map[int]int64

func (c csatSum) csat() CSAT {
	out := CSAT{Dist: map[string]int64{}}
	var sum int64
	for s := MinScore; s <= MaxScore; s++ {
		out.Dist[strconv.Itoa(s)] = c[s]
		out.Count += c[s]
		sum += int64(s) * c[s]
	}
	if out.Count > 0 {
		avg := roundTo(float64(sum)/float64(out.Count), 2)
		out.Avg = &avg
	}
	return out
}

// agentSums are one agent's counters.
type agentSums struct {
	chats, resolved int64
	first, handling histogram
	csat            csatSum
}

// Report reads the report of q from the engine's counters.
func (d *Desk) Report(ctx context.Context, q ReportQuery) (Report, error) {
	if d.stats == nil {
		return Report{}, ErrNoStats
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	from := dayStart(q.From, loc)
	to := dayStart(q.To, loc).AddDate(0, 0, 1)
	if !from.Before(to) || to.Sub(from) > MaxReportDays*24*time.Hour+time.Hour {
		return Report{}, fmt.Errorf("report from %s to %s: %w", q.From.Format(time.DateOnly), q.To.Format(time.DateOnly), ErrBadRange)
	}
	tallies, err := d.stats.Tallies(ctx, from, to)
	if err != nil {
		return Report{}, fmt.Errorf("reading the report's counters: %w", err)
	}
	r := Report{
		From: from.Format(time.DateOnly), To: to.AddDate(0, 0, -1).Format(time.DateOnly), TimeZone: loc.String(),
		Group: q.Group, Agent: q.Agent, Handoffs: map[string]int64{}, ByHour: make([]HourCount, 24),
		ByIntent: []IntentCount{}, Agents: []AgentReport{}, BinError: roundTo(binError, 4),
	}
	for h := range r.ByHour {
		r.ByHour[h].Hour = h
	}
	first, wait, handling := histogram{}, histogram{}, histogram{}
	csat := csatSum{}
	intents := map[string]int64{}
	agents := map[string]*agentSums{}
	agent := func(name string) *agentSums {
		if agents[name] == nil {
			agents[name] = &agentSums{first: histogram{}, handling: histogram{}, csat: csatSum{}}
		}
		return agents[name]
	}
	var escalated, botFailed, firstResolved, reopened int64
	for _, t := range tallies {
		if (t.Group != "" && q.Group != "" && t.Group != q.Group) || (t.Agent != "" && q.Agent != "" && t.Agent != q.Agent) {
			continue
		}
		hour := time.Unix(t.Hour, 0).In(loc).Hour()
		name, arg, _ := strings.Cut(t.Name, ":")
		bin, _ := strconv.Atoi(arg)
		switch name {
		case TallyConversations:
			r.Conversations += t.N
			r.ByHour[hour].Conversations += t.N
		case TallyEscalated:
			escalated += t.N
		case TallyBotFailed:
			botFailed += t.N
		case TallyUnanswered:
			r.Unanswered += t.N
		case TallyTaken:
			if t.Agent != "" {
				agent(t.Agent).chats += t.N
			}
		case TallyResolved:
			if t.Agent != "" {
				agent(t.Agent).resolved += t.N
			}
		case TallyFirstResolved:
			firstResolved += t.N
		case TallyReopened:
			reopened += t.N
		case "handoff":
			r.Handoffs[arg] += t.N
			r.ByHour[hour].Handoffs += t.N
		case "intent":
			intents[arg] += t.N
		case "csat":
			csat[bin] += t.N
			if t.Agent != "" {
				agent(t.Agent).csat[bin] += t.N
			}
		case "first":
			first[bin] += t.N
			if t.Agent != "" {
				agent(t.Agent).first[bin] += t.N
			}
		case "wait":
			wait[bin] += t.N
		case "handling":
			handling[bin] += t.N
			if t.Agent != "" {
				agent(t.Agent).handling[bin] += t.N
			}
		}
	}
	r.BotResolved = max(r.Conversations-botFailed, 0)
	if r.Conversations > 0 {
		rate := roundTo(float64(escalated)/float64(r.Conversations), 4)
		r.HandoffRate = &rate
	}
	if firstResolved > 0 {
		fcr := roundTo(float64(firstResolved-reopened)/float64(firstResolved), 4)
		r.FCR = &fcr
	}
	r.FirstResponse, r.Wait, r.Handling = first.percentiles(), wait.percentiles(), handling.percentiles()
	r.CSAT = csat.csat()
	for intent, n := range intents {
		if n != 0 {
			r.ByIntent = append(r.ByIntent, IntentCount{Intent: intent, Count: n})
		}
	}
	slices.SortFunc(r.ByIntent, func(a, b IntentCount) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Intent, b.Intent)
	})
	for name, s := range agents {
		r.Agents = append(r.Agents, AgentReport{Name: name, Chats: s.chats, Resolved: s.resolved,
			FirstResponse: s.first.percentiles(), Handling: s.handling.percentiles(), CSAT: s.csat.csat()})
	}
	slices.SortFunc(r.Agents, func(a, b AgentReport) int {
		if a.Chats != b.Chats {
			return int(b.Chats - a.Chats)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return r, nil
}

// dayStart returns the start of t's day in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	y, m, dd := t.In(loc).Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}
