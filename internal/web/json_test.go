package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// answer decodes an error answer.
func answer(t *testing.T, rec *httptest.ResponseRecorder) Error {
	t.Helper()
	var body struct{ Error Error }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body, err)
	}
	return body.Error
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteJSON(rec, http.StatusCreated, map[string]int{"seq": 3})
	if rec.Code != 201 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" ||
		rec.Header().Get("Cache-Control") != "no-store" || strings.TrimSpace(rec.Body.String()) != `{"seq":3}` {
		t.Errorf("WriteJSON: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	WriteError(rec, http.StatusConflict, CodeBusy, "会话正在变更，请稍后重试")
	if e := answer(t, rec); rec.Code != 409 || e.Code != CodeBusy || e.Message != "会话正在变更，请稍后重试" {
		t.Errorf("WriteError: %d %+v", rec.Code, e)
	}
}

// TestFault: the cause goes to the request's log, never to the client.
func TestFault(t *testing.T) {
	var log bytes.Buffer
	req := httptest.NewRequest("GET", "/api/queue", nil)
	req = req.WithContext(zerolog.New(&log).With().Str("req", "r1").Logger().WithContext(req.Context()))
	rec := httptest.NewRecorder()
	Fault(rec, req, errors.New("dial tcp 10.0.0.7:6379: connection refused"))
	if e := answer(t, rec); rec.Code != 503 || e.Code != CodeUnavailable || strings.Contains(rec.Body.String(), "10.0.0.7") {
		t.Errorf("Fault answered %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(log.String(), "10.0.0.7") || !strings.Contains(log.String(), `"req":"r1"`) {
		t.Errorf("Fault logged %q, want the cause with the request id", log.String())
	}
}

func TestReadJSON(t *testing.T) {
	type target struct{ Name string }
	for _, tc := range []struct {
		name, ctype, body string
		reader            JSONReader
		status            int
		code              Code
	}{
		{"good", "application/json", `{"name":"bob"}`, JSONReader{}, 0, ""},
		{"no content type", "", `{"name":"bob"}`, JSONReader{}, 0, ""},
		{"unknown field, lenient", "application/json", `{"name":"bob","age":3}`, JSONReader{}, 0, ""},
		{"unknown field, strict", "application/json", `{"name":"bob","age":3}`, JSONReader{Strict: true}, 400, CodeBadJSON},
		{"not JSON", "text/plain", `{"name":"bob"}`, JSONReader{}, 415, CodeBadJSON},
		{"empty", "application/json", ``, JSONReader{}, 400, CodeBadJSON},
		{"malformed", "application/json", `{"name":`, JSONReader{}, 400, CodeBadJSON},
		{"over the default limit", "application/json", `{"name":"` + strings.Repeat("a", DefaultMaxBody) + `"}`, JSONReader{}, 413, CodeTooLarge},
		{"over a limit of its own", "application/json", `{"name":"` + strings.Repeat("a", 100) + `"}`, JSONReader{MaxBytes: 64}, 413, CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/x", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			var v target
			ok := tc.reader.Read(rec, req, &v)
			if tc.status == 0 {
				if !ok || v.Name != "bob" {
					t.Errorf("Read = %v, %+v; want bob (answered %d %s)", ok, v, rec.Code, rec.Body)
				}
				return
			}
			if e := answer(t, rec); ok || rec.Code != tc.status || e.Code != tc.code || e.Message == "" {
				t.Errorf("Read = %v, answered %d %+v; want %d %s", ok, rec.Code, e, tc.status, tc.code)
			}
		})
	}
}

// TestErrorAnswers: the first answer that matches a wrapped error answers it, with its
// message or the error's text from the sentinel on; an error none matches is a Fault.
func TestErrorAnswers(t *testing.T) {
	errGone, errBad := errors.New("gone"), errors.New("请求无效")
	as := ErrorAnswers{
		{Err: errGone, Status: http.StatusNotFound, Code: CodeNotFound, Message: "不存在"},
		{Err: errBad, Status: http.StatusBadRequest, Code: CodeBadRequest},
		{Err: errGone, Status: http.StatusConflict, Code: CodeConflict, Message: "never: the first match answers"},
	}
	for _, tc := range []struct {
		err    error
		status int
		e      Error
	}{
		{fmt.Errorf("reading x: %w", errGone), 404, Error{CodeNotFound, "不存在"}},
		{fmt.Errorf("saving x: %w", fmt.Errorf("%w: 标题不能为空", errBad)), 400, Error{CodeBadRequest, "请求无效: 标题不能为空"}},
		{errors.New("disk on fire"), 503, Error{CodeUnavailable, "服务暂时不可用，请稍后重试"}},
	} {
		rec := httptest.NewRecorder()
		as.Write(rec, httptest.NewRequest("GET", "/api/x", nil), tc.err)
		if e := answer(t, rec); rec.Code != tc.status || e != tc.e {
			t.Errorf("Write(%v) answered %d %+v, want %d %+v", tc.err, rec.Code, e, tc.status, tc.e)
		}
	}
}

// TestReply: a call's value is answered as JSON, its error as the answers say.
func TestReply(t *testing.T) {
	errGone := errors.New("gone")
	as := ErrorAnswers{{Err: errGone, Status: http.StatusNotFound, Code: CodeNotFound, Message: "不存在"}}
	rec := httptest.NewRecorder()
	as.Reply(rec, httptest.NewRequest("GET", "/api/x", nil), http.StatusCreated, map[string]int{"seq": 3}, nil)
	if rec.Code != 201 || strings.TrimSpace(rec.Body.String()) != `{"seq":3}` {
		t.Errorf("Reply with no error answered %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	as.Reply(rec, httptest.NewRequest("GET", "/api/x", nil), http.StatusCreated, map[string]int{"seq": 3}, errGone)
	if e := answer(t, rec); rec.Code != 404 || e.Code != CodeNotFound {
		t.Errorf("Reply with an error answered %d %+v", rec.Code, e)
	}
	rec = httptest.NewRecorder()
	Reply(rec, httptest.NewRequest("GET", "/api/x", nil), http.StatusOK, nil, errGone)
	if e := answer(t, rec); rec.Code != 503 || e.Code != CodeUnavailable {
		t.Errorf("web.Reply with an error answered %d %+v", rec.Code, e)
	}
}
