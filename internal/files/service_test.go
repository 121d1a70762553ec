package files_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/files"
	"github.com/kefu-im/kefu/internal/files/filestest"
)

// rig is a service on a Dir store behind a test server that lets anyone upload to the
// conversation of the path.
type rig struct {
	svc *files.Service
	srv *httptest.Server
	now time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	store, err := files.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{now: time.Date(2025, 6, 18, 10, 30, 0, 0, time.UTC)}
	r.svc, err = files.New(files.Config{Store: store, URLKey: bytes.Repeat([]byte{7}, 32), Now: func() time.Time { return r.now }, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.svc.Routes(mux)
	mux.HandleFunc("POST /up/{conv}", func(w http.ResponseWriter, req *http.Request) { r.svc.Accept(w, req, req.PathValue("conv")) })
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

var multipartBody = filestest.Multipart

type answer struct {
	status int
	up     files.Uploaded
	code   string
}

func (r *rig) post(t *testing.T, conv string, body io.Reader, contentType string) answer {
	t.Helper()
	resp, err := http.Post(r.srv.URL+"/up/"+conv, contentType, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(raw, &a.up); err != nil {
			t.Fatalf("201 body %s: %v", raw, err)
		}
		return a
	}
	var e struct{ Error struct{ Code string } }
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%d body %q is not a JSON error: %v", resp.StatusCode, raw, err)
	}
	a.code = e.Error.Code
	return a
}

func (r *rig) get(t *testing.T, url string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(r.srv.URL + url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func TestUpload(t *testing.T) {
	r := newRig(t)
	pic := photo(t, 120, 90, 40)
	t.Run("multipart, and the URL gives the same bytes", func(t *testing.T) {
		body, ct := multipartBody(t, pic, "破损照片.png", "image/png")
		a := r.post(t, "c_shopperA", body, ct)
		if a.status != http.StatusCreated || a.up.Type != "image/png" || a.up.Size != int64(len(pic)) || !strings.HasPrefix(a.up.ID, "f_") {
			t.Fatalf("upload = %+v", a)
		}
		status, got, h := r.get(t, a.up.URL)
		if status != http.StatusOK || sha256.Sum256(got) != sha256.Sum256(pic) {
			t.Fatalf("GET %s = %d, %d bytes; want the %d uploaded", a.up.URL, status, len(got), len(pic))
		}
		if h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("headers %v", h)
		}
		if _, _, h := r.get(t, a.up.URL+"&download=1"); !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
			t.Errorf("download=1: Content-Disposition %q", h.Get("Content-Disposition"))
		}
	})
	t.Run("a raw body", func(t *testing.T) {
		gif := []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
		a := r.post(t, "c_shopperA", bytes.NewReader(gif), "application/octet-stream")
		if a.status != http.StatusCreated || a.up.Type != "image/gif" || a.up.Size != int64(len(gif)) {
			t.Fatalf("upload = %+v", a)
		}
	})
	t.Run("a text file named .png is refused", func(t *testing.T) {
		text := []byte(strings.Repeat("亲，这是我的退货地址和订单号，不是图片。\n", 20))
		body, ct := multipartBody(t, text, "photo.png", "image/png")
		if a := r.post(t, "c_shopperA", body, ct); a.status != http.StatusUnsupportedMediaType || a.code != "unsupported_type" {
			t.Fatalf("multipart text as png = %+v, want 415 unsupported_type", a)
		}
		if a := r.post(t, "c_shopperA", bytes.NewReader(text), "image/png"); a.status != http.StatusUnsupportedMediaType || a.code != "unsupported_type" {
			t.Fatalf("raw text as image/png = %+v, want 415 unsupported_type", a)
		}
	})
	t.Run("11 MB is too large", func(t *testing.T) {
		big := append(pic[:len(pic):len(pic)], make([]byte, 11<<20)...)
		// A body of unknown length, which only the limit on reading stops.
		if a := r.post(t, "c_shopperA", io.MultiReader(bytes.NewReader(big)), "image/png"); a.status != http.StatusRequestEntityTooLarge || a.code != "too_large" {
			t.Fatalf("raw 11 MB = %+v, want 413 too_large", a)
		}
		body, ct := multipartBody(t, big, "big.png", "image/png")
		if a := r.post(t, "c_shopperA", io.MultiReader(body), ct); a.status != http.StatusRequestEntityTooLarge || a.code != "too_large" {
			t.Fatalf("multipart 11 MB = %+v, want 413 too_large", a)
		}
		if a := r.post(t, "c_shopperA", bytes.NewReader(big), "image/png"); a.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("raw 11 MB with its length = %+v, want 413", a)
		}
	})
	t.Run("no file", func(t *testing.T) {
		body, ct := multipartBody(t, pic, "x.png", "image/png")
		ct = strings.Replace(ct, "boundary=", "boundary=x", 1)
		if a := r.post(t, "c_shopperA", body, ct); a.status != http.StatusBadRequest || a.code != "bad_request" {
			t.Fatalf("multipart without a file part = %+v, want 400 bad_request", a)
		}
	})
}

func TestSignedURLs(t *testing.T) {
	r := newRig(t)
	pic := photo(t, 30, 30, 1)
	body, ct := multipartBody(t, pic, "a.png", "image/png")
	a := r.post(t, "c_shopperA", body, ct)
	if a.status != http.StatusCreated {
		t.Fatalf("upload = %+v", a)
	}
	url := a.up.URL
	if url != r.svc.URL("c_shopperA", a.up.ID) {
		t.Error("the URL changes within the hour")
	}
	for name, bad := range map[string]string{
		"another conversation's path": strings.Replace(url, "c_shopperA", "c_shopperB", 1),
		"no signature":                url[:strings.Index(url, "&s=")],
		"a later expiry":              strings.Replace(url, "?e=1", "?e=2", 1),
		"no query":                    url[:strings.Index(url, "?")],
	} {
		if status, _, _ := r.get(t, bad); status != http.StatusForbidden {
			t.Errorf("%s: GET = %d, want 403", name, status)
		}
	}
	r.now = r.now.Add(files.DefaultURLTTL + 2*time.Hour)
	if status, _, _ := r.get(t, url); status != http.StatusForbidden {
		t.Errorf("an expired URL: GET = %d, want 403", status)
	}
	if status, _, _ := r.get(t, r.svc.URL("c_shopperA", a.up.ID)); status != http.StatusOK {
		t.Errorf("a URL signed again: GET = %d, want 200", status)
	}
	if err := r.svc.Store().DeleteConversation(t.Context(), "c_shopperA"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := r.get(t, r.svc.URL("c_shopperA", a.up.ID)); status != http.StatusNotFound {
		t.Errorf("after the conversation's files were deleted: GET = %d, want 404", status)
	}
}
