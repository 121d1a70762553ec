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
	w.Header().Set("X-Content-Type-Options", "nosniff")
	serveAsset(w, "assets/widget.js", "text/javascript; charset=utf-8", "public, max-age=300")
}

// Demo handles GET /: a demo shop page with the widget embedded by one script tag.
func (g *Gateway) Demo(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, "assets/demo.html", "text/html; charset=utf-8", "no-cache")
}

// serveAsset answers the embedded file name with its content type and cache policy.
func serveAsset(w http.ResponseWriter, name, ctype, cache string) {
	b, err := assets.ReadFile(name)
	if err != nil {
		http.Error(w, "missing asset", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", cache)
	w.Write(b)
}
