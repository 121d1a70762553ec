package widget

import (
	"embed"
	"net/http"
)

//go:embed assets/widget.js assets/demo.html
var assets embed.FS

// Script handles GET /widget.js. The URL is stable, since shops paste it into their pages,
// so it is cached briefly rather than for good.
func (g *Gateway) Script(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/widget.js")
	if err != nil {
		http.Error(w, "missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// Demo handles GET /: a demo shop page with the widget embedded by one script tag.
func (g *Gateway) Demo(w http.ResponseWriter, r *http.Request) {
	b, err := assets.ReadFile("assets/demo.html")
	if err != nil {
		http.Error(w, "missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
