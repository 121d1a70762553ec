package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/internal/redistest"
)

// kefuBin is the binary built once for the end-to-end tests.
var kefuBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kefu-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kefuBin = filepath.Join(dir, "kefu")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := exec.Command(goBin, "build", "-o", kefuBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kefu:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running kefu process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	env  []string
	mu   sync.Mutex // guards log
	log  bytes.Buffer
	done chan struct{}
	// adminOnce changes the printed admin password once, to adminPW (adminPassword).
	adminOnce sync.Once
	adminPW   string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startKefu runs "kefu serve" with env on addr (a free port when empty) and waits until
// /readyz answers 200: the node has started. Unless env sets KEFU_DATA_DIR, the process
// has a fresh data directory of its own. The process is stopped when the test ends.
func startKefu(t *testing.T, addr string, env ...string) *proc {
	t.Helper()
	return spawnKefu(t, addr, "/readyz", env...)
}

// spawnKefu is startKefu waiting for wait, /readyz or /healthz, to answer 200.
func spawnKefu(t *testing.T, addr, wait string, env ...string) *proc {
	t.Helper()
	if addr == "" {
		addr = freeAddr(t)
	}
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "KEFU_DATA_DIR=") }) {
		env = append(slices.Clip(env), "KEFU_DATA_DIR="+t.TempDir())
	}
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "KEFU_RATE_LIMITS=") }) {
		// The tests poll the bot API until an edited answer shows; the other limits hold.
		env = append(slices.Clip(env), "KEFU_RATE_LIMITS=ask=off")
	}
	p := &proc{t: t, addr: addr, env: env, done: make(chan struct{})}
	p.cmd = exec.Command(kefuBin, "serve")
	p.cmd.Env = append(os.Environ(), append([]string{"KEFU_ADDR=" + addr, "KEFU_LOG_FORMAT=json"}, env...)...)
	p.cmd.Stdout = &lockedWriter{p: p}
	p.cmd.Stderr = &lockedWriter{p: p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.url(wait))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("kefu exited at start:\n%s", p.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("kefu did not answer %s:\n%s", wait, p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type lockedWriter struct{ p *proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.log.Write(b)
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

// stop sends SIGTERM and waits for the process to end.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Errorf("kefu did not stop within 15 s of SIGTERM")
	}
}

// adminPassword returns the admin's password, or "" when the start printed none. The
// first admin must change the printed password before anything else, so the first call
// signs in with it and changes it, as a new admin does; it returns the new one.
func (p *proc) adminPassword() string {
	p.adminOnce.Do(func() {
		printed := p.printedPassword()
		if printed == "" {
			return
		}
		a := login(p.t, p, "admin", printed)
		next := printed + "-Changed1"
		var out struct{ Token string }
		if code := a.do("POST", "/api/me/password", map[string]string{"current": printed, "password": next}, &out); code != 200 {
			p.t.Fatalf("changing the printed admin password: status %d", code)
		}
		p.adminPW = next
	})
	return p.adminPW
}

// printedPassword returns the one-time admin password from the log, or "" when the start
// printed none. It waits for the start's last line, "kefu is serving", which the process
// writes after the password.
func (p *proc) printedPassword() string {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logText(), "kefu is serving") {
		if time.Now().After(deadline) {
			p.t.Fatalf("kefu never said it is serving:\n%s", p.logText())
		}
		time.Sleep(5 * time.Millisecond)
	}
	sc := bufio.NewScanner(strings.NewReader(p.logText()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil {
			if pw, ok := line["password"].(string); ok {
				return pw
			}
		}
	}
	return ""
}

// redisEnv starts a redis-server for the test and returns it with the environment that
// points kefu at it, under a key prefix of the test's own.
func redisEnv(t *testing.T) (*redistest.Server, []string) {
	t.Helper()
	rs := redistest.Start(t)
	return rs, []string{"KEFU_REDIS_URL=" + rs.URL(), "KEFU_REDIS_PREFIX=" + rs.Prefix(t)}
}

// addUser runs "kefu user add" with env (the store's, as from redisEnv).
func addUser(t *testing.T, env []string, name, role, group, password string) {
	t.Helper()
	cmd := exec.Command(kefuBin, "user", "add", "--role", role, "--group", group, name)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kefu user add: %v\n%s", err, out)
	}
}

// shopper is a widget's websocket.
type shopper struct {
	t    *testing.T
	ws   *websocket.Conn
	conv string
	tok  string
	last int64
}

func dialShopper(t *testing.T, p *proc, query string) (*shopper, map[string]any) {
	t.Helper()
	u := "ws://" + p.addr + "/ws/shopper"
	if query != "" {
		u += "?" + query
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { ws.Close() })
	s := &shopper{t: t, ws: ws}
	w := s.next()
	if w["type"] != "welcome" {
		t.Fatalf("first frame = %v, want welcome", w)
	}
	s.conv, s.tok = w["conversation"].(string), w["token"].(string)
	return s, w
}

// resumeShopper dials again as the widget does: the conversation and its token in the
// hello frame, the records after after asked for in the URL.
func resumeShopper(t *testing.T, p *proc, conv, tok string, after int64) (*shopper, map[string]any) {
	t.Helper()
	u := "ws://" + p.addr + "/ws/shopper?" + url.Values{"hello": {"1"}, "after": {fmt.Sprint(after)}}.Encode()
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { ws.Close() })
	s := &shopper{t: t, ws: ws, last: after}
	s.send(map[string]any{"type": "hello", "conversation": conv, "token": tok})
	w := s.next()
	if w["type"] != "welcome" {
		t.Fatalf("first frame = %v, want welcome", w)
	}
	s.conv, s.tok = w["conversation"].(string), w["token"].(string)
	return s, w
}

func (s *shopper) send(v map[string]any) {
	s.t.Helper()
	if err := s.ws.WriteJSON(v); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// next reads one frame within 10 s and tracks the last seq seen.
func (s *shopper) next() map[string]any {
	s.t.Helper()
	s.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f map[string]any
	if err := s.ws.ReadJSON(&f); err != nil {
		s.t.Fatalf("reading a frame: %v", err)
	}
	if seq, ok := f["seq"].(float64); ok && f["type"] != "ack" && f["type"] != "welcome" {
		if int64(seq) <= s.last {
			s.t.Fatalf("frame %v repeats or reorders seq (last %d)", f, s.last)
		}
		s.last = int64(seq)
	}
	return f
}

// until reads frames until ok accepts one, and returns it.
func (s *shopper) until(what string, ok func(map[string]any) bool) map[string]any {
	s.t.Helper()
	for i := 0; i < 100; i++ {
		if f := s.next(); ok(f) {
			return f
		}
	}
	s.t.Fatalf("no %s frame in 100 frames", what)
	return nil
}

func isType(typ string) func(map[string]any) bool {
	return func(f map[string]any) bool { return f["type"] == typ }
}

func isFrom(from string) func(map[string]any) bool {
	return func(f map[string]any) bool { return f["type"] == "message" && f["from"] == from }
}

// agent is an API client with a bearer token.
type agent struct {
	t     *testing.T
	p     *proc
	token string
}

func login(t *testing.T, p *proc, name, password string) *agent {
	t.Helper()
	a := &agent{t: t, p: p}
	var out struct{ Token string }
	if code := a.do("POST", "/api/login", map[string]string{"username": name, "password": password}, &out); code != 200 {
		t.Fatalf("login %s: status %d", name, code)
	}
	a.token = out.Token
	return a
}

// do sends a JSON request and decodes the JSON answer into out; it returns the status.
func (a *agent) do(method, path string, body, out any) int {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.p.url(path), r)
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

type queueEntry struct {
	Conversation, Group, Reason, Intent, Preview string
}

// waitQueued polls the agent's queue until conv is waiting in it.
func (a *agent) waitQueued(conv string) queueEntry {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var q struct{ Waiting []queueEntry }
		if a.do("GET", "/api/queue", nil, &q) == 200 {
			for _, e := range q.Waiting {
				if e.Conversation == conv {
					return e
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("conversation %s never showed in the queue", conv)
	return queueEntry{}
}

type apiMessage struct {
	Seq              int64
	Kind, From, Text string
}

// waitMessage polls the conversation's log until a message from `from` with text shows.
func (a *agent) waitMessage(conv, from, text string) apiMessage {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var out struct{ Messages []apiMessage }
		a.do("GET", "/api/conversations/"+conv+"/messages?after=0", nil, &out)
		for _, m := range out.Messages {
			if m.From == from && m.Text == text {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("message %q from %s never arrived", text, from)
	return apiMessage{}
}

// adminAdding signs in as the admin that p created at start and adds the users, each a
// POST /api/users body; it returns the admin's client.
func adminAdding(t *testing.T, p *proc, users ...map[string]string) *agent {
	t.Helper()
	pw := p.adminPassword()
	if pw == "" {
		t.Fatalf("no admin password in the log:\n%s", p.logText())
	}
	admin := login(t, p, "admin", pw)
	for _, u := range users {
		if code := admin.do("POST", "/api/users", u, nil); code != 201 {
			t.Fatalf("adding %s: status %d", u["username"], code)
		}
	}
	return admin
}
