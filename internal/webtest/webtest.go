// Package webtest calls Kefu's JSON APIs in tests: a request whose body is sent as it is
// or as JSON, with a bearer token, and the answer read whole; and the checks of a
// status and of an error answer (internal/web's closed set of codes).
//
// It imports no role package, so the tests of any package may use it.
package webtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/internal/web"
)

// Client sends requests to one server.
type Client struct {
	// URL is the server's root, such as an httptest.Server's URL.
	URL string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// NewRequest makes a request for c.URL+path. body is not sent when it is nil, sent as it
// is when it is a string or a []byte, and as JSON otherwise; a body that is not a
// []byte is labelled application/json.
func (c Client) NewRequest(t testing.TB, method, path string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encoding the body of %s %s: %v", method, path, err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, raw := body.([]byte); body != nil && !raw {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// Send sends req and returns the response with its whole body.
func (c Client) Send(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	return res, b
}

// Call sends a request (body as for NewRequest) with the bearer token, none when token
// is "", and returns the status and the body of the answer.
func (c Client) Call(t testing.TB, method, path, token string, body any) (int, []byte) {
	t.Helper()
	req := c.NewRequest(t, method, path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, b := c.Send(t, req)
	return res.StatusCode, b
}

// Decode decodes a JSON body into v, and fails the test when it cannot.
func Decode(t testing.TB, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

// WantStatus stops the test when a request, described by what, was answered status
// instead of want.
func WantStatus(t testing.TB, what string, status int, body []byte, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d (%s), want %d", what, status, bytes.TrimSpace(body), want)
	}
}

// WantError checks an error answer: status want, with code and a message for people.
func WantError(t testing.TB, what string, status int, body []byte, want int, code web.Code) {
	t.Helper()
	var e struct {
		Error web.Error `json:"error"`
	}
	json.Unmarshal(body, &e)
	if status != want || e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("%s: %d %s, want %d with code %q", what, status, bytes.TrimSpace(body), want, code)
	}
}
