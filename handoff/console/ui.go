package console

import (
	"embed"
	"net/http"

	"github.com/kefu-im/kefu/internal/web"
)

//go:embed ui
var uiFS embed.FS

// newConsolePage returns the console page with its static files under /console/static/.
func newConsolePage() (*web.Page, error) {
	return web.NewPage(web.PageConfig{
		Files: uiFS, Template: "ui/console.html", Static: []string{"ui/*.css", "ui/*.js"}, Prefix: "/console/static/",
	})
}

// Page handles GET /console.
func (c *Server) Page(w http.ResponseWriter, r *http.Request) { c.ui.ServeHTTP(w, r) }

// Static handles GET /console/static/{file}.
func (c *Server) Static(w http.ResponseWriter, r *http.Request) { c.ui.ServeStatic(w, r) }
