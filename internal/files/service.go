package files

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/internal/metrics"
	"github.com/kefu-im/kefu/internal/secret"
	"github.com/kefu-im/kefu/internal/web"
)

// MaxSize bounds a file: 10 MB.
const MaxSize = 10 << 20

// Types are the MIME types a file may have: photos.
var Types = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}

// sniffLen is how many of a file's first bytes tell its type.
const sniffLen = 512

// Sniff returns the type of a file from its first bytes (at most 512 are read), one of
// Types, or "" for anything else: the type a client claims, by header or file name, is
// never believed.
func Sniff(head []byte) string {
	t := http.DetectContentType(head[:min(len(head), sniffLen)])
	if slices.Contains(Types, t) {
		return t
	}
	return ""
}

// Why an upload was refused.
var (
	ErrUnsupportedType = errors.New("not a JPEG, PNG, WebP or GIF image")
	ErrTooLarge        = errors.New("larger than 10 MB")
	ErrNoFile          = errors.New("no file in the request")
)

// DefaultURLTTL is how long a file's URL works at least.
const DefaultURLTTL = 24 * time.Hour

// Config configures a Service.
type Config struct {
	// Store keeps the files; required.
	Store Store
	// URLKey signs the files' URLs (Store.URLKey); required.
	URLKey []byte
	// URLTTL is how long a URL works at least; 0 means DefaultURLTTL. URLs are made
	// whenever a transcript is delivered, so they only need to outlive a page.
	URLTTL time.Duration
	// TempDir holds an upload while it is received; empty means the system's.
	TempDir string
	// Now is the clock of URLs; nil means time.Now.
	Now func() time.Time
	// Metrics are the process's metrics uploads are counted in; nil means metrics of
	// its own, which nobody scrapes.
	Metrics *metrics.Metrics
}

// Service receives uploads, signs URLs and serves files.
type Service struct {
	store Store
	key   []byte
	ttl   time.Duration
	tmp   string
	now   func() time.Time
	m     *metrics.Metrics
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || len(cfg.URLKey) < 16 {
		return nil, errors.New("files: Config.Store and a URLKey of at least 16 bytes are required")
	}
	if cfg.URLTTL <= 0 {
		cfg.URLTTL = DefaultURLTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	return &Service{store: cfg.Store, key: cfg.URLKey, ttl: cfg.URLTTL, tmp: cfg.TempDir, now: cfg.Now, m: cfg.Metrics}, nil
}

// DeleteConversation removes every file of conversation conv (the retention sweep and
// a shopper's erasure).
func (s *Service) DeleteConversation(ctx context.Context, conv string) error {
	return s.store.DeleteConversation(ctx, conv)
}

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

// Stat tells of file id of conversation conv; ErrNotFound when conv has none.
func (s *Service) Stat(ctx context.Context, conv, id string) (Info, error) {
	return s.store.Stat(ctx, conv, id)
}

// Uploaded is the answer to an upload: the file's id, which a message then names, and
// a URL that shows it.
type Uploaded struct {
	ID   string `json:"id"`
	URL  string `json:"url"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// Accept receives the request's file for conversation conv (Receive) and answers
// 201 Uploaded, or 415 unsupported_type, 413 too_large, 400 bad_request when there is no
// file, 503 unavailable when it cannot be stored. The caller has checked who may upload.
func (s *Service) Accept(w http.ResponseWriter, r *http.Request, conv string) (Uploaded, bool) {
	up, err := s.Receive(w, r, conv)
	switch {
	case errors.Is(err, ErrUnsupportedType):
		web.WriteError(w, http.StatusUnsupportedMediaType, web.CodeUnsupportedType, "只能发送 JPEG、PNG、WebP 或 GIF 图片")
	case errors.Is(err, ErrTooLarge):
		web.WriteError(w, http.StatusRequestEntityTooLarge, web.CodeTooLarge, "图片不能超过 10 MB")
	case errors.Is(err, ErrNoFile):
		web.WriteError(w, http.StatusBadRequest, web.CodeBadRequest, "请求中没有图片（multipart 字段 file，或请求体即图片）")
	case err != nil:
		web.Fault(w, r, err)
	default:
		web.WriteJSON(w, http.StatusCreated, up)
		return up, true
	}
	return Uploaded{}, false
}

// Receive reads the request's file (ReadUpload), stores it as a new file of conv and
// returns it with its URL.
func (s *Service) Receive(w http.ResponseWriter, r *http.Request, conv string) (Uploaded, error) {
	up, err := s.receive(w, r, conv)
	result := "stored"
	if err != nil {
		result = "refused"
	}
	s.m.Uploads.WithLabelValues(result).Inc()
	return up, err
}

func (s *Service) receive(w http.ResponseWriter, r *http.Request, conv string) (Uploaded, error) {
	if err := checkNames(conv); err != nil {
		return Uploaded{}, err
	}
	f, typ, size, err := readUpload(w, r, s.tmp)
	if err != nil {
		return Uploaded{}, err
	}
	defer f.Close()
	id := secret.New("f_")
	if err := s.store.Put(r.Context(), conv, id, typ, f, size); err != nil {
		return Uploaded{}, fmt.Errorf("storing an upload of %q: %w", conv, err)
	}
	return Uploaded{ID: id, URL: s.URL(conv, id), Type: typ, Size: size}, nil
}

// URL returns the signed URL of file id of conversation conv, relative to the server:
// /files/CONV/ID?e=EXPIRES&s=SIGNATURE. It works for at least the service's URL TTL; the
// expiry is rounded up to the hour, so a file's URL stays the same for an hour and
// browsers cache it.
func (s *Service) URL(conv, id string) string {
	exp := (s.now().Add(s.ttl).Unix()/3600 + 1) * 3600
	e := strconv.FormatInt(exp, 10)
	return "/files/" + conv + "/" + id + "?e=" + e + "&s=" + s.sign(conv, id, e)
}

// sign is the URL's signature: the HMAC-SHA256 of its conversation, file and expiry
// under the store's key, cut to 128 bits, in URL-safe base64.
func (s *Service) sign(conv, id, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("kefu-file-v1\n" + conv + "\n" + id + "\n" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// verify reports whether a URL's expiry and signature are good now.
func (s *Service) verify(conv, id, exp, sig string) bool {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || time.Unix(e, 0).Before(s.now()) {
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.sign(conv, id, exp)))
}

// Routes registers GET /files/{conv}/{id} on mux.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /files/{conv}/{id}", s.Serve)
}

// Serve handles GET /files/{conv}/{id}?e=&s=: the file, when the URL's signature is
// good and it has not expired, else 403 forbidden; 404 not_found when the file is gone.
// With download=1 the browser saves it instead of showing it.
func (s *Service) Serve(w http.ResponseWriter, r *http.Request) {
	conv, id, q := r.PathValue("conv"), r.PathValue("id"), r.URL.Query()
	if !s.verify(conv, id, q.Get("e"), q.Get("s")) {
		web.WriteError(w, http.StatusForbidden, web.CodeForbidden, "图片链接无效或已过期，请刷新后重试")
		return
	}
	f, info, err := s.store.Open(r.Context(), conv, id)
	if errors.Is(err, ErrNotFound) {
		web.WriteError(w, http.StatusNotFound, web.CodeNotFound, "图片不存在或已删除")
		return
	}
	if err != nil {
		web.Fault(w, r, err)
		return
	}
	defer f.Close()
	disp := "inline"
	if q.Get("download") == "1" {
		disp = "attachment"
	}
	w.Header().Set("Content-Disposition", disp+`; filename="`+id+extension(info.Type)+`"`)
	ServeImage(w, r, f, info, "private, max-age=3600")
}

// ServeImage answers r with the stored image f: its sniffed type, never sniffed again nor
// run (a sandbox), loadable by shop pages on other origins (the widget shows it there),
// cached as cacheControl says, with ranges and conditional requests.
func ServeImage(w http.ResponseWriter, r *http.Request, f io.ReadSeeker, info Info, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", info.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Cache-Control", cacheControl)
	http.ServeContent(w, r, "", info.Modified, f)
}

// extension is the file name extension of a type of Types.
func extension(typ string) string {
	switch typ {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	case "image/gif":
		return ".gif"
	}
	return ""
}
