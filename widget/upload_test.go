package widget_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/internal/files/filestest"
)

// uploaded is the answer to an upload: the file, or the error code.
type uploaded struct {
	status int
	ID     string `json:"id"`
	URL    string `json:"url"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
	code   string
}

// upload posts body (a photo's bytes, or a multipart body when contentType says so) to
// conversation conv with token in the Kefu-Token header, as widget.js does; h, when it
// names a "token" header, puts the token in the query instead, as widgets embedded
// before did.
func (e *env) upload(t *testing.T, conv, token string, body io.Reader, contentType string, h http.Header) uploaded {
	t.Helper()
	q := url.Values{"conversation": {conv}}
	inQuery := h.Get("token") != ""
	if inQuery {
		q.Set("token", token)
		h = h.Clone()
		h.Del("token")
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/uploads?"+q.Encode(), body)
	if err != nil {
		t.Fatal(err)
	}
	if !inQuery {
		req.Header.Set("Kefu-Token", token)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	u := uploaded{status: resp.StatusCode}
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(raw, &u); err != nil {
			t.Fatalf("upload answer %s: %v", raw, err)
		}
		return u
	}
	var eb struct{ Error struct{ Code string } }
	if err := json.Unmarshal(raw, &eb); err != nil {
		t.Fatalf("upload answered %d %q, not a JSON error", resp.StatusCode, raw)
	}
	u.code = eb.Error.Code
	return u
}

// fetch GETs a URL of the server and returns its status and bytes.
func (e *env) fetch(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(e.srv.URL + u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type photoMsg struct {
	Type        string   `json:"type"`
	ID          string   `json:"id"`
	Text        string   `json:"text,omitempty"`
	Attachments []string `json:"attachments"`
}

func TestPhotos(t *testing.T) {
	e := newEnv(t, setup{gateway: withSecret})
	sh, other := e.connect(t, ""), e.connect(t, "")
	defect := filestest.PNG(t, 160, 120, 11)

	body, ct := filestest.Multipart(t, defect, "IMG_0231.png", "image/png")
	up := e.upload(t, sh.conv, sh.token, body, ct, nil)
	if up.status != http.StatusCreated || up.Type != "image/png" || up.Size != int64(len(defect)) || up.URL == "" {
		t.Fatalf("multipart upload = %+v", up)
	}
	raw := e.upload(t, sh.conv, sh.token, bytes.NewReader(filestest.PNG(t, 40, 40, 99)), "image/png", nil)
	if raw.status != http.StatusCreated {
		t.Fatalf("raw upload = %+v", raw)
	}
	theirs := e.upload(t, other.conv, other.token, bytes.NewReader(filestest.PNG(t, 20, 20, 5)), "image/png", nil)
	// A widget embedded before the token moved to a header puts it in the query.
	if old := e.upload(t, sh.conv, sh.token, bytes.NewReader(filestest.PNG(t, 30, 30, 7)), "image/png", http.Header{"Token": {"query"}}); old.status != http.StatusCreated {
		t.Fatalf("upload with the token in the query = %+v", old)
	}

	t.Run("refused uploads", func(t *testing.T) {
		for name, u := range map[string]uploaded{
			"another shopper's token": e.upload(t, sh.conv, other.token, bytes.NewReader(defect), "image/png", nil),
			"an unknown conversation": e.upload(t, "c_nobody", sh.token, bytes.NewReader(defect), "image/png", nil),
		} {
			if u.status != http.StatusForbidden || u.code != "bad_token" {
				t.Errorf("%s: %+v, want 403 bad_token", name, u)
			}
		}
		text := []byte("亲，这是我的收货地址：浙江省杭州市西湖区文三路 100 号，不是图片哦。")
		if u := e.upload(t, sh.conv, sh.token, bytes.NewReader(text), "image/png", nil); u.status != http.StatusUnsupportedMediaType || u.code != "unsupported_type" {
			t.Errorf("text sent as image/png: %+v, want 415 unsupported_type", u)
		}
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/api/uploads", nil)
		req.Header.Set("Origin", shopOrigin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if allow := resp.Header.Get("Access-Control-Allow-Headers"); resp.StatusCode != http.StatusNoContent || !strings.Contains(allow, "Kefu-Identity") || !strings.Contains(allow, "Kefu-Token") {
			t.Errorf("preflight = %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("a photo alone is acknowledged, not answered", func(t *testing.T) {
		send(t, sh.c, photoMsg{Type: "message", ID: "p1", Attachments: []string{up.ID}})
		fs := readUntil(t, sh.c, "the bot's acknowledgement", all(isType("message"), func(f frame) bool { return f.str("from") == "bot" }))
		mine, _ := find(fs, func(f frame) bool { return f.str("from") == "shopper" })
		atts, _ := mine["attachments"].([]any)
		if len(atts) != 1 {
			t.Fatalf("the shopper's frame %v carries %d attachments, want 1", mine, len(atts))
		}
		a := frame(atts[0].(map[string]any))
		checkFields(t, a, map[string]any{"id": up.ID, "type": "image/png", "size": len(defect), "url": nil})
		status, got := e.fetch(t, a.str("url"))
		if status != http.StatusOK || sha256.Sum256(got) != sha256.Sum256(defect) {
			t.Fatalf("the frame's URL gave %d, %d bytes; want the photo", status, len(got))
		}
		if ack := fs[len(fs)-1]; ack.str("text") != handoff.DefaultPhrases.PhotoReceived {
			t.Errorf("bot said %q, want the photo acknowledgement", ack.str("text"))
		}
	})

	t.Run("only the conversation's own photos", func(t *testing.T) {
		many := make([]string, handoff.MaxAttachments+1)
		for i := range many {
			many[i] = fmt.Sprint("f_", i)
		}
		for name, ids := range map[string][]string{"another shopper's photo": {theirs.ID}, "ten photos": many} {
			send(t, sh.c, photoMsg{Type: "message", ID: "bad", Text: "看下这张", Attachments: ids})
			readUntil(t, sh.c, name+": the bad_attachment error", isError("bad_attachment"))
		}
	})

	t.Run("a reload gets working URLs again", func(t *testing.T) {
		send(t, sh.c, photoMsg{Type: "message", ID: "p2", Text: "快递面单也拍了", Attachments: []string{raw.ID, up.ID}})
		readUntil(t, sh.c, "the ack", isType("ack"))
		again := e.resume(t, sh, 0)
		fs := readUntil(t, again.c, "the photo message", func(f frame) bool { return f.str("id") == "p2" })
		atts := fs[len(fs)-1]["attachments"].([]any)
		var ids []string
		for _, a := range atts {
			a := frame(a.(map[string]any))
			ids = append(ids, a.str("id"))
			if status, _ := e.fetch(t, a.str("url")); status != http.StatusOK {
				t.Errorf("reloaded URL of %s: %d", a.str("id"), status)
			}
		}
		if !slices.Equal(ids, []string{raw.ID, up.ID}) {
			t.Errorf("reloaded attachments %v, want %v in order", ids, []string{raw.ID, up.ID})
		}
		stored := e.logOf(t, sh.conv)
		i := slices.IndexFunc(stored, func(m handoff.Message) bool { return m.ID == "p2" })
		if i < 0 || len(stored[i].Attachments) != 2 || stored[i].Attachments[0].URL != "" {
			t.Errorf("stored log %+v: want p2 with 2 attachments and no URLs", stored)
		}
	})

	t.Run("a verified shopper's conversation takes their identity", func(t *testing.T) {
		id := signed(shopSecret, "buyer-8848", demoAttrs, time.Now())
		vs := e.connectAs(t, "", id)
		pic := bytes.NewReader(filestest.PNG(t, 30, 30, 3))
		if u := e.upload(t, vs.conv, vs.token, pic, "image/png", nil); u.status != http.StatusForbidden || u.code != "bad_token" {
			t.Errorf("without the identity: %+v, want 403 bad_token", u)
		}
		js, _ := json.Marshal(id)
		h := http.Header{"Kefu-Identity": {base64.StdEncoding.EncodeToString(js)}}
		pic.Seek(0, io.SeekStart)
		if u := e.upload(t, vs.conv, vs.token, pic, "image/png", h); u.status != http.StatusCreated {
			t.Errorf("with the identity: %+v, want 201", u)
		}
		js, _ = json.Marshal(signed(shopSecret, "buyer-other", "", time.Now()))
		pic.Seek(0, io.SeekStart)
		h = http.Header{"Kefu-Identity": {base64.StdEncoding.EncodeToString(js)}}
		if u := e.upload(t, vs.conv, vs.token, pic, "image/png", h); u.status != http.StatusForbidden || u.code != "bad_token" {
			t.Errorf("another buyer's identity: %+v, want 403 bad_token", u)
		}
	})
}
