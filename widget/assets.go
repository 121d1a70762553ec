package widget

import (
	"bytes"
	"embed"
	"fmt"
	"net/http"
	"regexp"
	"sync"

	"github.com/kefu-im/kefu/internal/web"
)

//go:embed assets/widget/*.js assets/demo.html
var assets embed.FS

// scriptParts are the files of widget.js in the order they are joined: one function
// scope, opened in the first and closed in the last. Each part is one concern of the
// widget, so that none grows past a screenful of concerns.
var scriptParts = []string{
	"start.js",      // the shop's tag, the server's origin, constants
	"i18n.js",       // the widget's language and its strings (tr)
	"state.js",      // shopper identity, storage, state, helpers
	"markdown.js",   // the Markdown subset of bot and agent messages
	"ui.js",         // the Shadow DOM panel and its styles
	"list.js",       // the transcript list
	"tickets.js",    // after-sales ticket cards
	"rating.js",     // the rating card of a resolved chat, feedback on bot answers
	"pending.js",    // the shopper's messages not yet acknowledged
	"upload.js",     // photos: picking, shrinking, uploading, thumbnails and the viewer
	"status.js",     // the status line and the unread badge
	"frames.js",     // server frames
	"connection.js", // the socket and its reconnects
	"leave.js",      // leaving a message while waiting
	"panel.js",      // asking for a person, opening and closing the panel
	"api.js",        // window.Kefu and the start
}

// script returns widget.js as it is served: its parts joined.
func script() ([]byte, error) {
	var buf bytes.Buffer
	for i, name := range scriptParts {
		b, err := assets.ReadFile("assets/widget/" + name)
		if err != nil {
			return nil, fmt.Errorf("widget script part: %w", err)
		}
		if i > 0 {
			buf.WriteByte('\n')
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// scriptAsset and demoAsset are built once, on first use: the files are embedded, so
// reading them cannot fail but for a broken build, which the tests catch.
var (
	scriptAsset = sync.OnceValue(func() *web.Asset {
		b, err := script()
		if err != nil {
			panic(err)
		}
		// The URL is stable, since shops paste it into their pages, so it is cached
		// briefly and revalidated by its ETag rather than kept for good.
		return web.NewAsset(b, "text/javascript; charset=utf-8", "public, max-age=300")
	})
	demoAsset = sync.OnceValue(func() *web.Asset {
		b, err := assets.ReadFile("assets/demo.html")
		if err != nil {
			panic(err)
		}
		return web.NewAsset(b, "text/html; charset=utf-8", "no-cache")
	})
	// demoEnAsset is the demo page with the widget's tag as a shop embeds the English
	// widget (data-lang="en") and the page's note about the widget in English.
	demoEnAsset = sync.OnceValue(func() *web.Asset {
		b, err := assets.ReadFile("assets/demo.html")
		if err != nil {
			panic(err)
		}
		b = bytes.Replace(b, []byte(`<script src="/widget.js" async>`), []byte(`<script src="/widget.js" data-lang="en" async>`), 1)
		b = demoNote.ReplaceAll(b, []byte(`<p class="note">This is Kefu's demo shop page: click "Chat" at the bottom right and try asking "Can I get an invoice?" or "I want to return this".</p>`))
		return web.NewAsset(b, "text/html; charset=utf-8", "no-cache")
	})
)

// demoNote is the demo page's note about the widget.
var demoNote = regexp.MustCompile(`<p class="note">[^<]*</p>`)

// Script handles GET /widget.js.
func (g *Gateway) Script(w http.ResponseWriter, r *http.Request) { scriptAsset().ServeHTTP(w, r) }

// Demo handles GET /: a demo shop page with the widget embedded by one script tag; with
// ?lang=en the tag carries data-lang="en", as a shop embeds the English widget.
func (g *Gateway) Demo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("lang") == "en" {
		demoEnAsset().ServeHTTP(w, r)
		return
	}
	demoAsset().ServeHTTP(w, r)
}
