package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

func newTestPage(t *testing.T) *Page {
	t.Helper()
	p, err := NewPage(PageConfig{
		Files: os.DirFS("testdata"), Template: "ui/page.html", Static: []string{"ui/*.css", "ui/*.js"},
		Prefix: "/app/static/", Data: "测试页",
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func get(t *testing.T, h http.HandlerFunc, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", path, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestPage: the page names every static file, the kit's first, by a hash of its
// content, and has the kit's sign-in form, dialog frame and toasts; each file is served under that name, cached
// for good, and the page with its security headers.
func TestPage(t *testing.T) {
	p := newTestPage(t)
	res, html := get(t, p.ServeHTTP, "/app")
	for k, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-cache",
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("page %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(html, "<title>测试页</title>") {
		t.Errorf("the page is not rendered with its data:\n%s", html)
	}
	if !strings.Contains(html, `<span>测试页</span>`) || !strings.Contains(html, `<p class="login-foot">foot</p>`) || !strings.Contains(html, `id="login-form"`) {
		t.Errorf("the page has not the kit's sign-in form with its name and foot:\n%s", html)
	}
	for _, want := range []string{
		`<div id="demo-panel" class="modal-backdrop" hidden>`,
		`<div class="modal modal-wide" role="alertdialog" aria-modal="true" aria-labelledby="demo-title" data-testid="demo-panel">`,
		`<h2 id="demo-title">示例</h2>`,
		`<button id="demo-close" type="button" class="icon-btn" aria-label="关闭" data-testid="demo-close">×</button>`,
		`<div id="toasts" class="toasts"`,
		`<div id="boot" class="boot"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page has not the kit's %s:\n%s", want, html)
		}
	}
	urls := regexp.MustCompile(`/app/static/([a-z]+)\.([0-9a-f]{12})\.(css|js)`).FindAllStringSubmatch(html, -1)
	var names []string
	for _, u := range urls {
		names = append(names, u[1]+"."+u[3])
	}
	if got, want := strings.Join(names, " "), "kit.css kit.js page.css app.js"; got != want {
		t.Fatalf("the page links %q, want %q in that order:\n%s", got, want, html)
	}
	for _, u := range urls {
		res, body := get(t, p.ServeStatic, u[0])
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d", u[0], res.StatusCode)
			continue
		}
		ctype := map[string]string{"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}[u[3]]
		if res.Header.Get("Content-Type") != ctype || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", u[0], res.Header)
		}
		if u[1] == "page" && body != "body { color: red; }\n" {
			t.Errorf("GET %s = %q", u[0], body)
		}
	}
	for _, path := range []string{"/app/static/page.css", "/app/static/page.000000000000.css", "/app/static/"} {
		if res, _ := get(t, p.ServeStatic, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
}

// TestPageErrors: a page that names a file it does not have or leaves one out, or a
// pattern that finds nothing, is refused when it is built, not when it is served.
func TestPageErrors(t *testing.T) {
	for name, cfg := range map[string]PageConfig{
		"no template":   {Files: os.DirFS("testdata"), Static: []string{"ui/*.css"}, Prefix: "/p/"},
		"no prefix":     {Files: os.DirFS("testdata"), Template: "ui/page.html", Static: []string{"ui/*.css", "ui/*.js"}},
		"unknown asset": {Files: os.DirFS("testdata"), Template: "ui/page.html", Static: []string{"ui/*.css"}, Prefix: "/p/"},
		"empty pattern": {Files: os.DirFS("testdata"), Template: "ui/page.html", Static: []string{"ui/*.css", "ui/*.js", "ui/*.png"}, Prefix: "/p/"},
		"kit's name":    {Files: os.DirFS("testdata"), Template: "ui/page.html", Static: []string{"ui/*.css", "ui/*.js", "kit/*.js"}, Prefix: "/p/"},
		"unused file":   {Files: os.DirFS("testdata"), Template: "ui/page.html", Static: []string{"ui/*.css", "ui/*.js", "extra/*.js"}, Prefix: "/p/"},
	} {
		if _, err := NewPage(cfg); err == nil {
			t.Errorf("%s: NewPage succeeded", name)
		}
	}
}
