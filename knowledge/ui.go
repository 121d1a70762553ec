package knowledge

import (
	"embed"
	"net/http"

	"github.com/kefu-im/kefu/internal/web"
)

//go:embed ui
var uiFS embed.FS

// newEditorPage returns the editor page with its static files under /editor/static/.
func newEditorPage() (*web.Page, error) {
	return web.NewPage(web.PageConfig{
		Files: uiFS, Template: "ui/editor.html", Static: []string{"ui/*.css", "ui/*.js"}, Prefix: "/editor/static/",
	})
}

// Page handles GET /editor.
func (s *Service) Page(w http.ResponseWriter, r *http.Request) { s.ui.ServeHTTP(w, r) }

// Static handles GET /editor/static/{file}.
func (s *Service) Static(w http.ResponseWriter, r *http.Request) { s.ui.ServeStatic(w, r) }
