package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed ui
var kitFS embed.FS

// kitFiles are the kit's own static files, which every page serves beside its own.
var kitFiles = []string{"ui/kit.css", "ui/kit.js"}

// kitTemplate holds the kit's templates: kit-head, the page's <head>; kit-login, the
// loading notice and the sign-in form, with the page's name (and a block login-foot the
// page may define); kit-modal and kit-modal-end, a dialog's frame; kit-toasts.
const kitTemplate = "ui/kit.html"

// kitFuncs are the functions the kit's templates take their arguments from, beside asset.
var kitFuncs = template.FuncMap{"head": newHead, "modal": newModal}

// head is the argument of kit-head: the page's title and its own static files, the
// stylesheets and the scripts each in the order given.
type head struct {
	Title           string
	Styles, Scripts []string
}

// newHead is the template function head: {{template "kit-head" (head TITLE FILE...)}}.
func newHead(title string, files ...string) head {
	h := head{Title: title}
	for _, f := range files {
		if path.Ext(f) == ".css" {
			h.Styles = append(h.Styles, f)
		} else {
			h.Scripts = append(h.Scripts, f)
		}
	}
	return h
}

// modal is the argument of kit-modal: a dialog's role (dialog or alertdialog), the
// prefix of its ids, its title and the classes added to it.
type modal struct {
	Role, ID, Title string
	Classes         []string
}

// newModal is the template function modal: {{template "kit-modal" (modal ROLE ID
// TITLE CLASS...)}}.
func newModal(role, id, title string, classes ...string) modal {
	return modal{Role: role, ID: id, Title: title, Classes: classes}
}

// PageConfig configures a Page.
type PageConfig struct {
	// Files holds the page's template and static files, usually an embed.FS; required.
	Files fs.FS
	// Template is the name of the page's html/template in Files; required. Its function
	// asset gives the URL of a static file by its base name: {{asset "console.js"}}.
	// It calls the kit's templates (ui/kit.html says how): kit-head for <head>, which
	// loads the kit's files and the page's, kit-login for the sign-in form, kit-modal
	// for its dialogs and kit-toasts.
	Template string
	// Static are the fs.Glob patterns of the static files in Files, such as "ui/*.js";
	// no two of them may share a base name, and the page must name each of them (and
	// the kit's) with asset.
	Static []string
	// Prefix is the URL path the static files are served under, such as
	// "/console/static/"; required.
	Prefix string
	// Data is passed to the template.
	Data any
}

// Page serves one web page and its static files. The page is rendered once, in
// NewPage; each static file is served under a name that carries a hash of its content
// (console.3f2a9c01b7e4.js), so browsers may keep it for good and a new build is
// fetched at once.
type Page struct {
	html   *Asset
	prefix string
	files  map[string]*Asset // by hashed name
}

// NewPage reads the static files, names them by their content and renders the page.
func NewPage(cfg PageConfig) (*Page, error) {
	if cfg.Files == nil || cfg.Template == "" || cfg.Prefix == "" {
		return nil, errors.New("web: PageConfig.Files, Template and Prefix are required")
	}
	p := &Page{prefix: cfg.Prefix, files: make(map[string]*Asset)}
	urls := make(map[string]string) // by base name
	add := func(fsys fs.FS, name string) error {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("reading static file: %w", err)
		}
		base := path.Base(name)
		if _, dup := urls[base]; dup {
			return fmt.Errorf("web: two static files are named %s", base)
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(base)
		hashed := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		p.files[hashed] = NewAsset(b, contentType(ext), "public, max-age=31536000, immutable")
		urls[base] = cfg.Prefix + hashed
		return nil
	}
	for _, name := range kitFiles {
		if err := add(kitFS, name); err != nil {
			return nil, err
		}
	}
	for _, pattern := range cfg.Static {
		names, err := fs.Glob(cfg.Files, pattern)
		if err != nil {
			return nil, fmt.Errorf("web: PageConfig.Static %q: %w", pattern, err)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("web: PageConfig.Static %q matches no file", pattern)
		}
		for _, name := range names {
			if err := add(cfg.Files, name); err != nil {
				return nil, err
			}
		}
	}
	used := make(map[string]bool)
	asset := func(base string) (string, error) {
		u, ok := urls[base]
		if !ok {
			return "", fmt.Errorf("no static file is named %s", base)
		}
		used[base] = true
		return u, nil
	}
	// The kit's templates first, so that the page may redefine their blocks.
	tpl, err := template.New(path.Base(cfg.Template)).Funcs(kitFuncs).Funcs(template.FuncMap{"asset": asset}).ParseFS(kitFS, kitTemplate)
	if err != nil {
		return nil, fmt.Errorf("parsing the kit's templates: %w", err)
	}
	if tpl, err = tpl.ParseFS(cfg.Files, cfg.Template); err != nil {
		return nil, fmt.Errorf("parsing page: %w", err)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, cfg.Data); err != nil {
		return nil, fmt.Errorf("rendering page: %w", err)
	}
	// A script the page does not load is a screen that silently goes missing.
	for base := range urls {
		if !used[base] {
			return nil, fmt.Errorf("web: the page %s does not load the static file %s", cfg.Template, base)
		}
	}
	p.html = NewAsset(buf.Bytes(), "text/html; charset=utf-8", "no-cache")
	return p, nil
}

func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// ServeHTTP serves the page (an Asset), revalidated on every load, with headers that allow only
// the page's own scripts, styles and images (and data: images), in no frame.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
	p.html.ServeHTTP(w, r)
}

// ServeStatic serves the static file named by the request's path after Prefix, cached
// for good (Asset says how); an unknown name is 404.
func (p *Page) ServeStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := p.files[strings.TrimPrefix(r.URL.Path, p.prefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.ServeHTTP(w, r)
}

var _ http.Handler = (*Page)(nil)
