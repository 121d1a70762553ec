package main

import (
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/kefu-im/kefu/internal/browsertest"
)

// TestPeopleAdminBrowser is the admin running the desk's people in real browsers: the
// first admin changes the printed password at their first sign-in; in
// 用户管理 they reset an agent's password, and the agent's open console is signed out;
// the agent signs in with the new one; the admin changes the agent's chat limit and
// disables them, and the agent's open console is signed out again and cannot sign in;
// the admin enables them, and changes their own password in 个人资料 (修改密码) without
// being signed out. Screenshots: people-admin-*.png in KEFU_SCREENSHOTS.
func TestPeopleAdminBrowser(t *testing.T) {
	tab := browsertest.Tab(t)
	b := browserSteps{t: t, shots: screenshotDir(t)}
	k := startKefu(t, "")
	const user, password, newPassword, ownPassword = "xiaowang", "agent-secret", "new-secret-2", "moss-lantern-7"
	// The first admin signs in with the printed password: the console asks them to
	// change it before anything else.
	const firstPW = "admin-first-secret"
	b.do(tab, "the first admin must change the printed password",
		chromedp.EmulateViewport(1280, 800),
		signIn(k.url("/console"), "admin", k.printedPassword()),
		changePassword(firstPW),
	)
	k.adminOnce.Do(func() { k.adminPW = firstPW })
	adminAdding(t, k, map[string]string{"username": user, "password": password, "role": "agent", "group": "presale"})
	adminPW := k.adminPassword()
	row := `document.querySelector('[data-testid="user-row"][data-user="` + user + `"]')`
	signedOut := `!document.getElementById('login-view').hidden && document.getElementById('login-error').textContent.includes('登录已失效')`

	agent := b.newTab(tab, chromedp.WithNewBrowserContext())
	b.do(agent, "the agent signs in to the console",
		chromedp.EmulateViewport(1280, 800),
		signIn(k.url("/console"), user, password),
		chromedp.WaitVisible(chromedp.ID("app")),
	)

	b.front(tab)
	b.do(tab, "the admin opens 用户管理 and resets the agent's password",
		chromedp.WaitVisible(chromedp.ID("users-btn")), // signed in since the password change
		chromedp.Click(chromedp.ID("users-btn")),
		waitJS(`!!`+row),
		chromedp.SendKeys(chromedp.CSS(`[data-user="`+user+`"] [data-testid="user-row-password"]`), newPassword),
		chromedp.Click(chromedp.CSS(`[data-user="`+user+`"] [data-testid="user-row-reset"]`)),
		waitJS(`[...document.querySelectorAll('[data-testid="toast"]')].some(t => t.textContent.includes('已重置 `+user+`'))`),
	)
	b.screenshot(tab, "people-admin-1-users.png")

	b.front(agent)
	b.do(agent, "the agent's console is signed out; they sign in with the new password, which the admin knows, and must change it",
		waitJS(signedOut),
		signInAgain(user, newPassword),
		changePassword(ownPassword),
	)

	b.front(tab)
	b.do(tab, "the admin sets the agent's chat limit and disables them",
		chromedp.SetValue(chromedp.CSS(`[data-user="`+user+`"] [data-testid="user-row-max"]`), "3"),
		// The row is drawn again after the change: mark this one to tell them apart.
		chromedp.Evaluate[chromedp.Void](row+`.dataset.old = '1'`),
		chromedp.Click(chromedp.CSS(`[data-user="`+user+`"] [data-testid="user-row-max-save"]`)),
		waitJS(`!`+row+`.dataset.old && `+row+`.querySelector('[data-testid="user-row-max"]').value === '3'`),
		chromedp.Click(chromedp.CSS(`[data-user="`+user+`"] [data-testid="user-row-toggle"]`)),
		waitJS(row+`.querySelector('[data-testid="user-row-toggle"]').textContent === '确认停用？'`),
		chromedp.Click(chromedp.CSS(`[data-user="`+user+`"] [data-testid="user-row-toggle"]`)),
		waitJS(`document.querySelector('[data-testid="user-row"][data-user="`+user+`"][data-disabled="true"]') !== null`),
	)
	b.screenshot(tab, "people-admin-2-disabled.png")

	b.front(agent)
	b.do(agent, "the disabled agent's console is signed out, and they cannot sign in",
		waitJS(signedOut),
		signInAgain(user, ownPassword),
		waitJS(`document.getElementById('login-error').textContent.includes('账号已停用')`),
	)
	b.screenshot(agent, "people-admin-3-agent-disabled.png")

	b.front(tab)
	b.do(tab, "the admin enables the agent and changes their own password",
		chromedp.Click(chromedp.CSS(`[data-user="`+user+`"] [data-testid="user-row-toggle"]`)),
		waitJS(`document.querySelector('[data-testid="user-row"][data-user="`+user+`"][data-disabled="false"]') !== null`),
		chromedp.Click(chromedp.ID("users-close")),
		chromedp.Click(chromedp.ID("profile-btn")),
		chromedp.WaitVisible(chromedp.ID("password-form")),
		// The dialog focuses the display name when it opens: type after that.
		waitJS(`document.activeElement && document.activeElement.id === 'profile-name'`),
		chromedp.SendKeys(chromedp.ID("password-current"), adminPW),
		chromedp.SendKeys(chromedp.ID("password-new"), "admin-new-secret"),
		chromedp.SendKeys(chromedp.ID("password-again"), "admin-new-secret"),
		chromedp.Click(chromedp.ID("password-submit")),
		waitJS(`[...document.querySelectorAll('[data-testid="toast"]')].some(t => t.textContent.includes('密码已修改'))`),
	)
	b.screenshot(tab, "people-admin-4-own-password.png")
	// The admin's console goes on with the new session; the old password is void.
	admin := login(t, k, "admin", "admin-new-secret")
	var me map[string]any
	if code := admin.do("GET", "/api/me", nil, &me); code != 200 {
		t.Errorf("GET /api/me with the admin's new password: %d", code)
	}
	b.do(tab, "the admin's console still works after the change",
		chromedp.Click(chromedp.ID("profile-close")),
		chromedp.Click(chromedp.ID("users-btn")),
		waitJS(`!!`+row+` && `+row+`.getAttribute('data-disabled') === 'false'`),
	)

	// The audit log holds all of it, newest first, with the address it came from.
	var tok struct{ ID string }
	if code := admin.do("POST", "/api/tokens", map[string]string{"name": "sync"}, &tok); code != 201 {
		t.Fatalf("adding an API token: %d", code)
	}
	if code := admin.do("DELETE", "/api/tokens/"+tok.ID, nil, nil); code != 204 {
		t.Fatalf("revoking the API token: %d", code)
	}
	var log struct {
		Entries []struct{ Actor, Action, Target, Detail, IP string }
		Next    string
	}
	if code := admin.do("GET", "/api/audit?limit=100", nil, &log); code != 200 {
		t.Fatalf("GET /api/audit: %d", code)
	}
	var got []string
	for _, e := range log.Entries {
		if e.IP != "127.0.0.1" {
			t.Errorf("audit entry %+v: IP %q, want 127.0.0.1", e, e.IP)
		}
		if e.Action != "login" && e.Action != "logout" {
			got = append(got, e.Actor+" "+e.Action+" "+e.Target)
		}
	}
	want := []string{
		"admin token_revoked " + tok.ID, "admin token_added sync",
		"admin password_changed admin",
		"admin user_enabled " + user, user + " login_failed ", "admin user_disabled " + user, "admin user_changed " + user,
		user + " password_changed " + user, // the password the admin reset, changed at the next sign-in
		"admin password_reset " + user, "admin user_created " + user,
		"admin password_changed admin", // the printed password, changed in the console at the first sign-in
	}
	if !slices.Equal(got, want) {
		t.Errorf("the audit log, newest first (sign-ins left out):\n got %q\nwant %q", got, want)
	}
	b.do(tab, "the admin reads the audit log in 用户管理",
		chromedp.Click(chromedp.ID("users-tab-audit")),
		waitJS(`document.querySelector('[data-testid="audit-row"][data-action="user_disabled"]') !== null`),
	)
	b.screenshot(tab, "people-admin-5-audit.png")

	// 顾客数据: an anonymous shopper's chat, named by its conversation id, is exported
	// and erased.
	shopper, _ := dialShopper(t, k, "")
	shopper.send(map[string]any{"type": "message", "id": "m1", "text": "我的电话 13912345678"})
	shopper.until("the message stored", func(f map[string]any) bool { return f["type"] == "ack" || isFrom("shopper")(f) })
	b.do(tab, "the admin exports and erases the shopper's data",
		chromedp.Click(chromedp.ID("users-tab-shopper")),
		chromedp.WaitVisible(chromedp.ID("shopper-id")),
		chromedp.SendKeys(chromedp.ID("shopper-id"), shopper.conv),
		chromedp.Click(chromedp.ID("shopper-export")),
		waitJS(`document.getElementById('shopper-ok').textContent.includes('已导出：1 个会话')`),
		chromedp.Click(chromedp.ID("shopper-erase")),
		waitJS(`document.getElementById('shopper-erase').textContent.includes('确认删除')`),
		chromedp.Click(chromedp.ID("shopper-erase")),
		waitJS(`document.getElementById('shopper-ok').textContent.includes('已删除 1 个会话')`),
	)
	b.screenshot(tab, "people-admin-6-shopper.png")
	if code := admin.do("GET", "/api/shoppers/"+shopper.conv+"/export", nil, nil); code != 404 {
		t.Errorf("export after the erasure in the console: %d, want 404", code)
	}
}

// signInAgain signs in on the login view a signed-out page shows.
func signInAgain(user, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		selectAll("login-username"),
		chromedp.SendKeys(chromedp.ID("login-username"), user),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
}

// changePassword waits for the form of a password that must be changed, changes it to
// password and waits for the console.
func changePassword(password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.ID("pwchange-form")),
		chromedp.SendKeys(chromedp.ID("pwchange-new"), password),
		chromedp.SendKeys(chromedp.ID("pwchange-confirm"), password),
		chromedp.Click(chromedp.ID("pwchange-submit")),
		chromedp.WaitVisible(chromedp.ID("app")),
	)
}
