package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/internal/account"
	"github.com/kefu-im/kefu/internal/web"
	"github.com/kefu-im/kefu/internal/webtest"
)

// TestTicketAPI drives the ticket API as an agent, the after-sales lead, an admin and an
// editor: who may open, move, approve and reject a refund.
func TestTicketAPI(t *testing.T) {
	acc := ctAccounts(t, nil)
	tokens := map[string]string{
		"t-agent":  ctAddUser(t, acc, "alice", account.RoleAgent, handoff.GroupAftersale),
		"t-lead":   ctAddUser(t, acc, "lena", account.RoleLead, handoff.GroupAftersale),
		"t-admin":  ctAddUser(t, acc, "admin", account.RoleAdmin, handoff.GroupPresale),
		"t-editor": ctAddUser(t, acc, "ed", account.RoleEditor, handoff.GroupPresale),
		"t-pete":   ctAddUser(t, acc, "pete", account.RoleAgent, handoff.GroupPresale),
	}
	// 2026-11-23 15:00 UTC is 23:00 in China: the day of the ids is 20261123.
	now := func() time.Time { return time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC) }
	d := desktest.Open(t, desktest.Options{Desk: func(c *handoff.DeskConfig) { c.Now = now }}).Desk
	api, err := NewTicketAPI(TicketAPIConfig{Desk: d, Accounts: acc})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	client := webtest.Client{URL: srv.URL}
	call := func(t *testing.T, method, path, token, body string) (int, map[string]json.RawMessage) {
		t.Helper()
		var b any
		if body != "" {
			b = body
		}
		status, answer := client.Call(t, method, path, tokens[token], b)
		var out map[string]json.RawMessage
		webtest.Decode(t, answer, &out)
		return status, out
	}
	errCode := func(out map[string]json.RawMessage) string {
		var e web.Error
		json.Unmarshal(out["error"], &e)
		return string(e.Code)
	}
	ticketOf := func(t *testing.T, out map[string]json.RawMessage) handoff.Ticket {
		t.Helper()
		var tt handoff.Ticket
		if err := json.Unmarshal(out["ticket"], &tt); err != nil {
			t.Fatalf("decoding ticket: %v", err)
		}
		return tt
	}

	c := ctQueue(t, d, handoff.GroupAftersale)
	if _, err := d.Claim(context.Background(), c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	draft := `{"conversation":"` + c.ID + `","order":"O1","type":"refund","reason":"破损","evidence":["defect_photo"],"remedy":{"text":"退款","amount_fen":990}}`
	if code, out := call(t, "POST", "/api/tickets", "", draft); code != 401 || errCode(out) != "unauthorized" {
		t.Errorf("create without login = %d %s, want 401 unauthorized", code, errCode(out))
	}
	if code, out := call(t, "POST", "/api/tickets", "t-editor", draft); code != 403 || errCode(out) != "forbidden" {
		t.Errorf("create by an editor = %d %s, want 403 forbidden", code, errCode(out))
	}
	if code, out := call(t, "POST", "/api/tickets", "t-agent", `{"conversation":"`+c.ID+`","order":"O1","type":"gift","reason":"x"}`); code != 400 || errCode(out) != "bad_request" {
		t.Errorf("create with an unknown type = %d %s, want 400 bad_request", code, errCode(out))
	}
	if code, out := call(t, "POST", "/api/tickets", "t-agent", strings.Replace(draft, c.ID, "c_none", 1)); code != 404 || errCode(out) != "not_found" {
		t.Errorf("create on a conversation that does not exist = %d %s, want 404 not_found", code, errCode(out))
	}
	phone := strings.Replace(draft, `"text":"退款"`, `"text":"请加微信 kefu_2024，或致电 13812345678"`, 1)
	code, out := call(t, "POST", "/api/tickets", "t-agent", phone)
	if code != 422 || errCode(out) != "blocked_contact" || !strings.Contains(string(out["found"]), `"kind":"phone"`) || strings.Contains(string(out["found"]), "13812345678") {
		t.Errorf("create with a phone number in the remedy = %d %s found %s, want 422 blocked_contact, masked", code, errCode(out), out["found"])
	}
	overridden := strings.Replace(phone, `"type"`, `"override":true,"override_reason":"顾客要求","type"`, 1)
	if code, out := call(t, "POST", "/api/tickets", "t-agent", overridden); code != 201 {
		t.Errorf("create with an override = %d %s, want 201", code, errCode(out))
	}
	if code, out := call(t, "GET", "/api/tickets?conversation="+c.ID, "t-agent", ""); code != 200 || strings.Count(string(out["tickets"]), `"id"`) != 1 {
		t.Errorf("after the refusals the conversation's tickets = %d %s, want the overridden one alone", code, out["tickets"])
	}
	code, out = call(t, "POST", "/api/tickets", "t-agent", draft)
	if code != 201 {
		t.Fatalf("create = %d %s, want 201", code, errCode(out))
	}
	tt := ticketOf(t, out)
	if tt.ID != "AS-20261123-000002" || tt.Status != handoff.TicketOpen || tt.CreatedBy != "alice" {
		t.Errorf("created %+v", tt)
	}

	if code, out := call(t, "GET", "/api/tickets?conversation="+c.ID+"&status=open", "t-agent", ""); code != 200 || !strings.Contains(string(out["tickets"]), tt.ID) {
		t.Errorf("list = %d %s, want 200 with %s", code, out["tickets"], tt.ID)
	}
	if code, out := call(t, "GET", "/api/tickets?status=lost", "t-agent", ""); code != 400 {
		t.Errorf("list with an unknown status = %d %s, want 400", code, errCode(out))
	}
	if code, out := call(t, "GET", "/api/tickets/AS-20261123-000009", "t-agent", ""); code != 404 || errCode(out) != "not_found" {
		t.Errorf("get unknown = %d %s, want 404 not_found", code, errCode(out))
	}

	path := "/api/tickets/" + tt.ID
	if code, out := call(t, "POST", path+"/transition", "t-agent", `{"to":"resolved"}`); code != 409 || errCode(out) != "bad_transition" {
		t.Errorf("open to resolved = %d %s, want 409 bad_transition", code, errCode(out))
	}
	if code, out := call(t, "POST", path+"/transition", "t-agent", `{"to":"awaiting_confirmation","note":"请确认"}`); code != 200 || ticketOf(t, out).Status != handoff.TicketAwaitingConfirmation {
		t.Errorf("propose = %d %s", code, errCode(out))
	}
	if code, out := call(t, "POST", path+"/transition", "t-agent", `{"to":"awaiting_approval"}`); code != 403 || errCode(out) != "forbidden" {
		t.Errorf("agent confirming for the shopper = %d %s, want 403 forbidden", code, errCode(out))
	}
	if _, err := d.Tickets().Confirm(context.Background(), tt.ID, "shopper-42", tt.Rev+1); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if code, out := call(t, "POST", path+"/approve", "t-agent", ""); code != 403 || errCode(out) != "forbidden" {
		t.Errorf("approve by an agent = %d %s, want 403 forbidden", code, errCode(out))
	}
	code, out = call(t, "POST", path+"/approve", "t-lead", `{"note":"同意退款"}`)
	if code != 200 {
		t.Fatalf("approve by the lead = %d %s, want 200", code, errCode(out))
	}
	if got := ticketOf(t, out); got.Status != handoff.TicketApproved || got.History[len(got.History)-1].By != "lena" {
		t.Errorf("approved ticket = %+v", got)
	}
	if code, out := call(t, "POST", path+"/reject", "t-admin", ""); code != 409 || errCode(out) != "bad_transition" {
		t.Errorf("reject an approved ticket = %d %s, want 409 bad_transition", code, errCode(out))
	}
	code, out = call(t, "GET", path, "t-agent", "")
	if got := ticketOf(t, out); code != 200 || len(got.History) != 4 || got.Confirmation == nil {
		t.Errorf("get = %d, %d events, confirmation %+v; want 200, 4 events, a confirmation", code, len(got.History), got.Confirmation)
	}

	// A lead does not approve what they proposed; a lead does not approve over the cap
	// (¥5,000 by default), an admin does.
	reach := func(t *testing.T, by, body string) string {
		t.Helper()
		code, out := call(t, "POST", "/api/tickets", by, body)
		if code != 201 {
			t.Fatalf("create = %d %s", code, errCode(out))
		}
		id := ticketOf(t, out).ID
		code, out = call(t, "POST", "/api/tickets/"+id+"/transition", by, `{"to":"awaiting_confirmation"}`)
		if code != 200 {
			t.Fatalf("propose = %d %s", code, errCode(out))
		}
		if _, err := d.Tickets().Confirm(context.Background(), id, "shopper-42", ticketOf(t, out).Rev); err != nil {
			t.Fatal(err)
		}
		return "/api/tickets/" + id
	}
	own := reach(t, "t-lead", draft)
	if code, out := call(t, "POST", own+"/approve", "t-lead", ""); code != 403 || errCode(out) != "self_approval" {
		t.Errorf("a lead approving their own proposal = %d %s, want 403 self_approval", code, errCode(out))
	}
	big := reach(t, "t-agent", strings.Replace(draft, `"amount_fen":990`, `"amount_fen":500001`, 1))
	if code, out := call(t, "POST", big+"/approve", "t-lead", ""); code != 403 || errCode(out) != "over_cap" {
		t.Errorf("a lead approving ¥5,000.01 = %d %s, want 403 over_cap", code, errCode(out))
	}
	if code, out := call(t, "POST", big+"/approve", "t-admin", ""); code != 200 {
		t.Errorf("an admin approving ¥5,000.01 = %d %s, want 200", code, errCode(out))
	}

	// A message a pre-sale shopper left, with their phone number, is the pre-sale
	// agents' (and the leads' and admins'): the after-sales agent neither reads nor lists
	// it.
	pre := ctQueue(t, d, handoff.GroupPresale)
	left, _, err := d.LeaveMessage(context.Background(), pre.ID, handoff.LeftMessage{Key: "k1", Text: "请回电", Contact: "13812345678"})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := call(t, "GET", "/api/tickets/"+left.ID, "t-agent", ""); code != 403 || errCode(out) != "forbidden" {
		t.Errorf("an after-sales agent reading a pre-sale left message = %d %s, want 403 forbidden", code, errCode(out))
	}
	if code, out := call(t, "GET", "/api/tickets?type=message", "t-agent", ""); code != 200 || strings.Contains(string(out["tickets"]), left.ID) {
		t.Errorf("an after-sales agent's list of left messages = %d %s, want it without %s", code, out["tickets"], left.ID)
	}
	if code, _ := call(t, "GET", "/api/tickets/"+left.ID, "t-lead", ""); code != 200 {
		t.Errorf("a lead reading a left message = %d, want 200", code)
	}
	// Nor does she act on it: every change asks who may read the ticket, and a refused
	// one changes nothing. The pre-sale agent takes it up.
	if code, out := call(t, "POST", "/api/tickets/"+left.ID+"/transition", "t-agent", `{"to":"in_progress"}`); code != 403 || errCode(out) != "forbidden" {
		t.Errorf("an after-sales agent taking up a pre-sale left message = %d %s, want 403 forbidden", code, errCode(out))
	}
	if code, out := call(t, "GET", "/api/tickets/"+left.ID, "t-lead", ""); code != 200 || ticketOf(t, out).Status != handoff.TicketOpen || ticketOf(t, out).Rev != left.Rev {
		t.Errorf("after the refusal the left message = %d %+v, want open at rev %d", code, ticketOf(t, out), left.Rev)
	}
	if code, out := call(t, "POST", "/api/tickets/"+left.ID+"/transition", "t-pete", `{"to":"in_progress"}`); code != 200 || ticketOf(t, out).Status != handoff.TicketInProgress {
		t.Errorf("the pre-sale agent taking up the left message = %d %s", code, errCode(out))
	}
	// The pre-sale agent neither lists, reads nor changes the after-sales tickets of a
	// chat he may not read, which he did not open.
	if code, out := call(t, "GET", "/api/tickets", "t-pete", ""); code != 200 || strings.Contains(string(out["tickets"]), tt.ID) || !strings.Contains(string(out["tickets"]), left.ID) {
		t.Errorf("the pre-sale agent's list = %d %s, want %s without %s", code, out["tickets"], left.ID, tt.ID)
	}
	if code, out := call(t, "GET", path, "t-pete", ""); code != 403 || errCode(out) != "forbidden" {
		t.Errorf("the pre-sale agent reading an after-sales ticket = %d %s, want 403 forbidden", code, errCode(out))
	}
	if code, out := call(t, "POST", path+"/transition", "t-pete", `{"to":"cancelled"}`); code != 403 || errCode(out) != "forbidden" {
		t.Errorf("the pre-sale agent cancelling an after-sales ticket = %d %s, want 403 forbidden", code, errCode(out))
	}
	if code, out := call(t, "GET", "/api/tickets?conversation="+c.ID, "t-agent", ""); code != 200 || !strings.Contains(string(out["tickets"]), tt.ID) {
		t.Errorf("the agent who opened it lists %s: %d %s", tt.ID, code, out["tickets"])
	}

	// A session cookie from another origin may not change anything.
	req, _ := http.NewRequest("POST", srv.URL+path+"/transition", strings.NewReader(`{"to":"resolved"}`))
	req.AddCookie(&http.Cookie{Name: account.SessionCookie, Value: tokens["t-agent"]})
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("cross-origin cookie request = %d, want 403", resp.StatusCode)
	}
}
