package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// Asset is a file served from memory: with an ETag (a hash of its content), answered
// 304 Not Modified when the browser holds that version already, and gzip-compressed,
// once, for browsers that accept it.
type Asset struct {
	body, gz []byte
	etag     string
	ctype    string
	cache    string
}

// NewAsset returns an Asset of body with the given Content-Type and Cache-Control.
func NewAsset(body []byte, ctype, cacheControl string) *Asset {
	sum := sha256.Sum256(body)
	a := &Asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ctype, cache: cacheControl}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	zw.Write(body)
	zw.Close()
	if buf.Len() < len(body) {
		a.gz = buf.Bytes()
	}
	return a
}

// Size returns the asset's size in bytes as it is sent to a browser that accepts gzip.
func (a *Asset) Size() int {
	if a.gz != nil {
		return len(a.gz)
	}
	return len(a.body)
}

// ETag returns the asset's entity tag, quoted.
func (a *Asset) ETag() string { return a.etag }

// ServeHTTP answers GET and HEAD with the asset.
func (a *Asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", a.cache)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", a.etag)
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
	}
	if etagMatches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// etagMatches reports whether an If-None-Match header names etag (weakly, as RFC 9110
// asks for If-None-Match) or is "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip: named, or
// through "*", without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || strings.HasPrefix(q, "q=0.0") && strings.Trim(q[2:], "0.") == "" {
			return false
		}
		return true
	}
	return false
}

var _ http.Handler = (*Asset)(nil)
