package knowledge

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

// editorUI is the editor page and its static files, served under content-hashed URLs
// so that they can be cached for good.
type editorUI struct {
	page   []byte
	assets map[string]asset // by hashed name
}

type asset struct {
	body  []byte
	ctype string
}

func newEditorUI() (*editorUI, error) {
	ui := &editorUI{assets: make(map[string]asset)}
	urls := make(map[string]string)
	for name, ctype := range map[string]string{"editor.js": "text/javascript; charset=utf-8", "editor.css": "text/css; charset=utf-8"} {
		b, err := uiFS.ReadFile("ui/" + name)
		if err != nil {
			return nil, fmt.Errorf("reading editor asset: %w", err)
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		hashed := name[:len(name)-len(ext)] + "." + hex.EncodeToString(sum[:6]) + ext
		ui.assets[hashed] = asset{body: b, ctype: ctype}
		urls[name] = "/editor/static/" + hashed
	}
	tpl, err := template.ParseFS(uiFS, "ui/editor.html")
	if err != nil {
		return nil, fmt.Errorf("parsing editor page: %w", err)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, map[string]string{"JS": urls["editor.js"], "CSS": urls["editor.css"]}); err != nil {
		return nil, fmt.Errorf("rendering editor page: %w", err)
	}
	ui.page = buf.Bytes()
	return ui, nil
}

// Page handles GET /editor.
func (s *Service) Page(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.Write(s.ui.page)
}

// Static handles GET /editor/static/{file}.
func (s *Service) Static(w http.ResponseWriter, r *http.Request) {
	a, ok := s.ui.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(a.body)
}
