package enginetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/timetest"
)

// The reports' scripted day: a fixed clock, known delays, and the report must give
// exactly the counts and rates the script made, and its percentiles within the bins'
// error (docs/reports.md).

// Shanghai is the shop's time zone of the scripted day.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// Day is what ScriptDay made: the day (in Shanghai) and the latencies it scripted, in
// seconds, as the report's exact answers are computed from them.
type Day struct {
	Date                     string
	Waits, Firsts, Handlings []float64
}

// ScriptDay plays the scripted day on desk d with clock, whose Now must be d's clock:
// agents alice and bob (presale) and carol (aftersale) come online and serve six
// conversations, the first started at clock's time (docs/reports.md lists the script).
// The desk's bot must be ShopBot, and the desk must assign by hand (ManualOnly).
func ScriptDay(t testing.TB, d *handoff.Desk, clock *timetest.Clock) Day {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("scripted day: %s: %v", what, err)
		}
	}
	for _, a := range []string{"alice", "bob", "carol"} {
		_, err := d.Heartbeat(ctx, a, handoff.PresenceOnline)
		must("heartbeat", err)
	}
	day := Day{Date: clock.Now().In(Shanghai).Format(time.DateOnly)}
	seq := 0
	start := func() string {
		t.Helper()
		c, _, err := d.StartAs(ctx, &handoff.Shopper{ID: fmt.Sprint("day", seq), Verified: true})
		must("start", err)
		return c.ID
	}
	say := func(conv, text string) handoff.Said {
		t.Helper()
		seq++
		said, err := d.ShopperSays(ctx, conv, handoff.ShopperMessage{ID: fmt.Sprint("dm", seq), Text: text}, nil)
		must("say "+text, err)
		return said
	}
	// serve has agent claim conv after wait, answer after first more, and resolve after
	// handling more (0: not resolved).
	serve := func(conv, agent string, wait, first, handling time.Duration) {
		t.Helper()
		clock.Advance(wait)
		_, err := d.Claim(ctx, conv, agent)
		must("claim", err)
		_, err = d.Claim(ctx, conv, agent) // a retry counts once
		must("claim again", err)
		clock.Advance(first)
		_, err = d.Reply(ctx, conv, agent, "", "您好，我来帮您看看")
		must("reply", err)
		_, err = d.Reply(ctx, conv, agent, "", "请稍等")
		must("second reply", err)
		day.Waits = append(day.Waits, wait.Seconds())
		day.Firsts = append(day.Firsts, (wait + first).Seconds())
		if handling > 0 {
			clock.Advance(handling)
			_, err = d.Resolve(ctx, conv, agent)
			must("resolve", err)
			day.Handlings = append(day.Handlings, (first + handling).Seconds())
		}
	}
	rate := func(conv, key string, score int) {
		t.Helper()
		_, err := d.Rate(ctx, conv, key, score, "")
		must("rate", err)
	}

	// 0. A widget opened, and nothing said: no conversation of the reports.
	start()
	// 1. The bot answers, and that is all: resolved by the bot.
	c1 := start()
	say(c1, "可以开发票吗")
	// 2. The bot answers, and the shopper says it did not help (twice: counted once).
	c2 := start()
	said := say(c2, "发票怎么开")
	for _, key := range []string{"f1", "f1"} {
		_, err := d.GiveFeedback(ctx, c2, key, said.Message.Seq+1, false)
		must("feedback", err)
	}
	// 3. A return: after-sales, carol waits 30 s, answers 20 s later, resolves 300 s
	// later, rated 5.
	c3 := start()
	say(c3, "我要退货")
	serve(c3, "carol", 30*time.Second, 20*time.Second, 300*time.Second)
	rate(c3, "r3", 5)
	rate(c3, "r3", 5) // a resend counts once
	// 4. Out of scope (unanswered): alice after 120 s, 10 s, 600 s, rated 3; an hour
	// later the shopper writes again: reopened (to the bot, out of the reopen window),
	// and out of scope again.
	c4 := start()
	say(c4, "你们这什么东西")
	serve(c4, "alice", 120*time.Second, 10*time.Second, 600*time.Second)
	rate(c4, "r4", 3)
	clock.Advance(time.Hour)
	say(c4, "还是不行")
	// 5. The shopper asks for a person: bob after 5 s, 2 s, 100 s; rated 4, then 5 (the
	// second rating replaces the first).
	c5 := start()
	must("ask for a person", d.AskForPerson(ctx, c5, "ask5"))
	serve(c5, "bob", 5*time.Second, 2*time.Second, 100*time.Second)
	rate(c5, "r5a", 4)
	rate(c5, "r5b", 5)
	// 6. Two hours later, a complaint: carol after 60 s, answers 1000 s later, still
	// open.
	clock.Advance(2 * time.Hour)
	c6 := start()
	say(c6, "我要投诉")
	serve(c6, "carol", 60*time.Second, 1000*time.Second, 0)
	return day
}

func testReportDay(t *testing.T, r *rig) {
	ctx := context.Background()
	day := ScriptDay(t, r.desk, r.clock)
	date, _ := time.ParseInLocation(time.DateOnly, day.Date, Shanghai)
	rep, err := r.desk.Report(ctx, handoff.ReportQuery{From: date, To: date, Location: Shanghai})
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	if rep.From != day.Date || rep.To != day.Date || rep.TimeZone != "Asia/Shanghai" {
		t.Errorf("report of %s to %s in %s; want %s", rep.From, rep.To, rep.TimeZone, day.Date)
	}
	wantCounts := map[string]int64{"conversations": 6, "bot_resolved": 1, "unanswered": 3}
	gotCounts := map[string]int64{"conversations": rep.Conversations, "bot_resolved": rep.BotResolved, "unanswered": rep.Unanswered}
	if fmt.Sprint(gotCounts) != fmt.Sprint(wantCounts) {
		t.Errorf("counts = %v, want %v", gotCounts, wantCounts)
	}
	wantHandoffs := map[string]int64{"after_sales": 1, "out_of_scope": 2, "requested": 1, "negative_sentiment": 1}
	if fmt.Sprint(rep.Handoffs) != fmt.Sprint(wantHandoffs) {
		t.Errorf("handoffs = %v, want %v", rep.Handoffs, wantHandoffs)
	}
	rate(t, "handoff_rate", rep.HandoffRate, 4.0/6)
	rate(t, "fcr", rep.FCR, 2.0/3)
	if rep.CSAT.Count != 3 || rep.CSAT.Avg == nil || *rep.CSAT.Avg != 4.33 ||
		fmt.Sprint(rep.CSAT.Dist) != fmt.Sprint(map[string]int64{"1": 0, "2": 0, "3": 1, "4": 0, "5": 2}) {
		t.Errorf("csat = %+v, want 3 ratings of 5, 3, 5", rep.CSAT)
	}
	near(t, "wait", rep.Wait, day.Waits)
	near(t, "first response", rep.FirstResponse, day.Firsts)
	near(t, "handling", rep.Handling, day.Handlings)
	var hours []string
	for _, h := range rep.ByHour {
		if h.Conversations != 0 || h.Handoffs != 0 {
			hours = append(hours, fmt.Sprintf("%d:%d/%d", h.Hour, h.Conversations, h.Handoffs))
		}
	}
	// The clock starts at 06:13 in Shanghai: the fifth chat starts at 07:31, the sixth
	// at 09:33, and the fourth's second hand-off (at 07:31) counts in the hour the
	// fourth started.
	if want := []string{"6:4/3", "7:1/1", "9:1/1"}; !slices.Equal(hours, want) {
		t.Errorf("by_hour = %v, want %v", hours, want)
	}
	if got := fmt.Sprint(rep.ByIntent); got != "[{other 3} {aftersale 2}]" {
		t.Errorf("by_intent = %s", got)
	}
	agents := map[string]handoff.AgentReport{}
	for _, a := range rep.Agents {
		agents[a.Name] = a
	}
	if len(agents) != 3 || agents["carol"].Chats != 2 || agents["carol"].Resolved != 1 || agents["alice"].Chats != 1 || agents["bob"].Chats != 1 ||
		agents["carol"].CSAT.Count != 1 || agents["alice"].CSAT.Avg == nil || *agents["alice"].CSAT.Avg != 3 || agents["bob"].CSAT.Dist["5"] != 1 {
		t.Errorf("agents = %+v", rep.Agents)
	}
	if rep.Agents[0].Name != "carol" {
		t.Errorf("agents are not sorted by chats: %+v", rep.Agents)
	}
	near(t, "carol's first response", agents["carol"].FirstResponse, []float64{day.Firsts[0], day.Firsts[3]})
	near(t, "bob's handling", agents["bob"].Handling, []float64{day.Handlings[2]})

	// Filters: the after-sales group keeps its hand-offs, and every conversation (a
	// conversation has no group until it is handed off).
	after, err := r.desk.Report(ctx, handoff.ReportQuery{From: date, To: date, Location: Shanghai, Group: handoff.GroupAftersale})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after.Handoffs) != fmt.Sprint(map[string]int64{"after_sales": 1, "negative_sentiment": 1}) || after.Conversations != 6 ||
		len(after.Agents) != 1 || after.Agents[0].Name != "carol" || after.CSAT.Count != 1 {
		t.Errorf("after-sales report: handoffs %v, conversations %d, agents %+v, csat %+v", after.Handoffs, after.Conversations, after.Agents, after.CSAT)
	}
	near(t, "after-sales wait", after.Wait, []float64{day.Waits[0], day.Waits[3]})
	bob, err := r.desk.Report(ctx, handoff.ReportQuery{From: date, To: date, Location: Shanghai, Agent: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bob.Agents) != 1 || bob.Agents[0].Name != "bob" || bob.CSAT.Count != 1 || bob.FCR == nil || *bob.FCR != 1 {
		t.Errorf("bob's report: agents %+v, csat %+v, fcr %v", bob.Agents, bob.CSAT, bob.FCR)
	}
	near(t, "bob's first response", bob.FirstResponse, []float64{day.Firsts[2]})

	// The day before and after hold nothing; in UTC the same chats fall on two days.
	next := date.AddDate(0, 0, 1)
	empty, err := r.desk.Report(ctx, handoff.ReportQuery{From: next, To: next.AddDate(0, 0, 6), Location: Shanghai})
	if err != nil || empty.Conversations != 0 || empty.HandoffRate != nil || empty.FirstResponse.P50 != nil || len(empty.Agents) != 0 {
		t.Errorf("the week after: %+v, %v", empty, err)
	}
	before, _ := time.Parse(time.DateOnly, date.AddDate(0, 0, -1).Format(time.DateOnly))
	utc, err := r.desk.Report(ctx, handoff.ReportQuery{From: before, To: before})
	if err != nil || utc.Conversations != 5 {
		t.Errorf("the day before in UTC: %d conversations, %v; want the 5 that started before 00:00 UTC", utc.Conversations, err)
	}
	if _, err := r.desk.Report(ctx, handoff.ReportQuery{From: next, To: date, Location: Shanghai}); err == nil {
		t.Error("a report ending before it starts was made")
	}
}

// rate checks a rate against want, to the report's four decimals.
func rate(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 0.00005 {
		t.Errorf("%s = %v, want %.4f", what, deref(got), want)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// near checks that p holds the p50 and p90 of samples (nearest rank), within the bins'
// error (and the clock's few milliseconds).
func near(t *testing.T, what string, p handoff.Percentiles, samples []float64) {
	t.Helper()
	if p.Count != int64(len(samples)) {
		t.Errorf("%s: %d samples, want %d", what, p.Count, len(samples))
		return
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	for _, q := range []struct {
		name string
		got  *float64
		q    float64
	}{{"p50", p.P50, 0.5}, {"p90", p.P90, 0.9}} {
		want := s[max(int(math.Ceil(q.q*float64(len(s))))-1, 0)]
		if q.got == nil || math.Abs(*q.got-want) > handoff.BinError()*want+0.5 {
			t.Errorf("%s %s = %v, want %v within %.1f%%", what, q.name, deref(q.got), want, handoff.BinError()*100)
		}
	}
}
