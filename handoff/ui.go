//go:build legacyconsole

package handoff

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"path"
)

//go:embed ui
var uiFS embed.FS

// consoleUI is the console page and its static files, served under content-hashed URLs
// so that they can be cached for good.
type consoleUI struct {
	page   []byte
	assets map[string]asset // by hashed name
}

type asset struct {
	body  []byte
	ctype string
}

func newConsoleUI() (*consoleUI, error) {
	ui := &consoleUI{assets: make(map[string]asset)}
	urls := make(map[string]string)
	for name, ctype := range map[string]string{"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"} {
		b, err := uiFS.ReadFile("ui/" + name)
		if err != nil {
			return nil, fmt.Errorf("reading console asset: %w", err)
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		hashed := name[:len(name)-len(ext)] + "." + hex.EncodeToString(sum[:6]) + ext
		ui.assets[hashed] = asset{body: b, ctype: ctype}
		urls[name] = "/console/static/" + hashed
	}
	tpl, err := template.ParseFS(uiFS, "ui/console.html")
	if err != nil {
		return nil, fmt.Errorf("parsing console page: %w", err)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, map[string]string{"JS": urls["console.js"], "CSS": urls["console.css"]}); err != nil {
		return nil, fmt.Errorf("rendering console page: %w", err)
	}
	ui.page = buf.Bytes()
	return ui, nil
}

// Page handles GET /console.
func (c *Console) Page(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.Write(c.ui.page)
}

// Static handles GET /console/static/{file}.
func (c *Console) Static(w http.ResponseWriter, r *http.Request) {
	a, ok := c.ui.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(a.body)
}
