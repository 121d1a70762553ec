package console

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/web"
)

// The 数据报表 screen's API (docs/reports.md, docs/api.md): GET /api/stats answers the
// report of a range of days as JSON, GET /api/stats.csv the same as a CSV file, both for
// leads and admins.

// defaultReportDays is the range of a report that names no days: today and the six
// days before.
const defaultReportDays = 7

// reportQuery reads the report's query: from and to (YYYY-MM-DD in the shop's time
// zone, to included, both or neither), group and agent. It answers 400 and returns false
// for a bad one.
func (c *Server) reportQuery(w http.ResponseWriter, r *http.Request) (handoff.ReportQuery, bool) {
	q := r.URL.Query()
	loc := c.location
	today := c.now().In(loc)
	rq := handoff.ReportQuery{Location: loc, To: today, From: today.AddDate(0, 0, 1-defaultReportDays),
		Group: handoff.Group(q.Get("group")), Agent: q.Get("agent")}
	bad := func(msg string) (handoff.ReportQuery, bool) {
		web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, msg)
		return handoff.ReportQuery{}, false
	}
	from, to := q.Get("from"), q.Get("to")
	if from != "" || to != "" {
		var err1, err2 error
		rq.From, err1 = time.ParseInLocation(time.DateOnly, from, loc)
		rq.To, err2 = time.ParseInLocation(time.DateOnly, to, loc)
		if err1 != nil || err2 != nil {
			return bad("from 和 to 须同时给出，格式为 YYYY-MM-DD")
		}
	}
	switch {
	case rq.From.After(rq.To):
		return bad("开始日期不能晚于结束日期")
	case rq.To.Sub(rq.From) >= handoff.MaxReportDays*24*time.Hour:
		return bad(fmt.Sprintf("报表最长 %d 天", handoff.MaxReportDays))
	case rq.Group != "" && !slices.Contains(c.desk.Groups(), rq.Group):
		return bad("没有这个技能组")
	case len(rq.Agent) > 64:
		return bad("客服账号过长")
	}
	return rq, true
}

// report answers the report of the request's query, or an error; ok is false when the
// answer is written.
func (c *Server) report(w http.ResponseWriter, r *http.Request) (handoff.Report, bool) {
	q, ok := c.reportQuery(w, r)
	if !ok {
		return handoff.Report{}, false
	}
	rep, err := c.desk.Report(r.Context(), q)
	switch {
	case errors.Is(err, handoff.ErrBadRange):
		web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "日期范围无效")
		return rep, false
	case err != nil:
		web.Fault(w, r, err)
		return rep, false
	}
	return rep, true
}

// Stats handles GET /api/stats?from=&to=&group=&agent=: the report (handoff.Report).
func (c *Server) Stats() http.HandlerFunc {
	return c.leads(func(w http.ResponseWriter, r *http.Request) {
		if rep, ok := c.report(w, r); ok {
			web.WriteJSON(w, http.StatusOK, rep)
		}
	})
}

// StatsCSV handles GET /api/stats.csv with the query of GET /api/stats: the report as a
// UTF-8 CSV file (with a byte-order mark, so that spreadsheets read the Chinese), one
// section after another: the figures, the hours, the hand-off reasons, the intents and
// the agents.
func (c *Server) StatsCSV() http.HandlerFunc {
	return c.leads(func(w http.ResponseWriter, r *http.Request) {
		rep, ok := c.report(w, r)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="kefu-report-%s-%s.csv"`, rep.From, rep.To))
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("\uFEFF"))
		cw := csv.NewWriter(w)
		for _, row := range csvRows(rep) {
			cw.Write(row)
		}
		cw.Flush()
	})
}

// csvRows are the rows of the report's CSV file.
func csvRows(rep handoff.Report) [][]string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	rows := [][]string{
		{"指标 metric", "值 value"},
		{"from", rep.From}, {"to", rep.To}, {"time_zone", rep.TimeZone}, {"group", string(rep.Group)}, {"agent", rep.Agent},
		{"conversations", i(rep.Conversations)}, {"bot_resolved", i(rep.BotResolved)}, {"handoff_rate", f(rep.HandoffRate)},
		{"first_response_p50_s", f(rep.FirstResponse.P50)}, {"first_response_p90_s", f(rep.FirstResponse.P90)},
		{"wait_p50_s", f(rep.Wait.P50)}, {"wait_p90_s", f(rep.Wait.P90)},
		{"handling_p50_s", f(rep.Handling.P50)}, {"handling_p90_s", f(rep.Handling.P90)},
		{"fcr", f(rep.FCR)}, {"csat_count", i(rep.CSAT.Count)}, {"csat_avg", f(rep.CSAT.Avg)}, {"unanswered", i(rep.Unanswered)},
	}
	for s := handoff.MinScore; s <= handoff.MaxScore; s++ {
		rows = append(rows, []string{"csat_" + strconv.Itoa(s), i(rep.CSAT.Dist[strconv.Itoa(s)])})
	}
	rows = append(rows, nil, []string{"hour", "conversations", "handoffs"})
	for _, h := range rep.ByHour {
		rows = append(rows, []string{strconv.Itoa(h.Hour), i(h.Conversations), i(h.Handoffs)})
	}
	rows = append(rows, nil, []string{"handoff_reason", "count"})
	reasons := make([]string, 0, len(rep.Handoffs))
	for k := range rep.Handoffs {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons)
	for _, k := range reasons {
		rows = append(rows, []string{k, i(rep.Handoffs[k])})
	}
	rows = append(rows, nil, []string{"intent", "handoffs"})
	for _, in := range rep.ByIntent {
		rows = append(rows, []string{in.Intent, i(in.Count)})
	}
	rows = append(rows, nil, []string{"agent", "chats", "resolved", "first_response_p50_s", "first_response_p90_s",
		"handling_p50_s", "handling_p90_s", "csat_count", "csat_avg"})
	for _, a := range rep.Agents {
		rows = append(rows, []string{a.Name, i(a.Chats), i(a.Resolved), f(a.FirstResponse.P50), f(a.FirstResponse.P90),
			f(a.Handling.P50), f(a.Handling.P90), i(a.CSAT.Count), f(a.CSAT.Avg)})
	}
	for k, r := range rows {
		if r == nil {
			rows[k] = []string{}
		}
	}
	return rows
}

// ShopLocation is the shop's default time zone, Asia/Shanghai (UTC+8 where the system
// has no time zone database).
var ShopLocation = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("Asia/Shanghai", 8*3600)
	}
	return loc
}()
