package console

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/webtest"
)

// The reports' API: leads and admins read them, agents do not, and a bad range is
// refused with a clear error. The numbers themselves are checked against the scripted
// day of handoff/enginetest.
func TestStatsAPI(t *testing.T) {
	ctEachEngine(t, func(t *testing.T, engine string) {
		f := ctNewConsole(t, engine)
		lead := ctAddUser(t, f.accounts, "lena", account.RoleLead, handoff.GroupAftersale)
		ctx := context.Background()
		c := ctQueue(t, f.desk, handoff.GroupAftersale)
		f.clock.Advance(42 * time.Second)
		if _, err := f.desk.Claim(ctx, c.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		today := f.clock.Now().In(ShopLocation).Format(time.DateOnly)

		var rep handoff.Report
		status, body := f.api.Call(t, "GET", "/api/stats?from="+today+"&to="+today, lead, nil)
		webtest.WantStatus(t, "the lead's report", status, body, http.StatusOK)
		webtest.Decode(t, body, &rep)
		if rep.Conversations != 1 || rep.Handoffs["after_sales"] != 1 || rep.Wait.Count != 1 || rep.Wait.P50 == nil ||
			*rep.Wait.P50 < 42*(1-handoff.BinError()) || *rep.Wait.P50 > 42*(1+handoff.BinError()) ||
			len(rep.Agents) != 1 || rep.Agents[0].Name != "alice" || rep.TimeZone != "Asia/Shanghai" || len(rep.ByHour) != 24 {
			t.Errorf("report = %s", body)
		}
		// The default range is the last seven days, today included.
		status, body = f.api.Call(t, "GET", "/api/stats?group=aftersale&agent=alice", f.token["admin"], nil)
		webtest.WantStatus(t, "the admin's report", status, body, http.StatusOK)
		webtest.Decode(t, body, &rep)
		week := f.clock.Now().In(ShopLocation).AddDate(0, 0, -6).Format(time.DateOnly)
		if rep.From != week || rep.To != today || rep.Conversations != 1 || rep.Group != "aftersale" || rep.Agent != "alice" {
			t.Errorf("the default range: %s to %s, %d conversations", rep.From, rep.To, rep.Conversations)
		}

		status, body = f.api.Call(t, "GET", "/api/stats", f.token["alice"], nil)
		webtest.WantStatus(t, "an agent's report", status, body, http.StatusForbidden)
		status, body = f.api.Call(t, "GET", "/api/stats.csv", f.token["alice"], nil)
		webtest.WantStatus(t, "an agent's CSV", status, body, http.StatusForbidden)
		for _, q := range []string{"from=2026-13-01&to=2026-12-31", "from=" + today, "from=2026-02-01&to=2026-01-31",
			"from=2020-01-01&to=2026-01-01", "group=nobody", "from=yesterday&to=today"} {
			status, body = f.api.Call(t, "GET", "/api/stats?"+q, lead, nil)
			webtest.WantError(t, q, status, body, http.StatusBadRequest, "bad_request")
		}

		req := f.api.NewRequest(t, "GET", "/api/stats.csv?from="+today+"&to="+today, nil)
		req.Header.Set("Authorization", "Bearer "+lead)
		resp, csv := f.api.Send(t, req)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "kefu-report-"+today) {
			t.Fatalf("CSV: %d %v", resp.StatusCode, resp.Header)
		}
		text := string(csv)
		for _, want := range []string{"\uFEFF指标 metric,值 value\n", "\nconversations,1\n", "\nafter_sales,1\n", "\nalice,1,0,"} {
			if !strings.Contains(text, want) {
				t.Errorf("CSV lacks %q:\n%s", want, text)
			}
		}
	})
}
