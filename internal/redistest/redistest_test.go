package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// do sends one inline command to addr and returns the reply: the status,
// error or integer line, or a bulk string's contents ("(nil)" for a missing
// value).
func do(t *testing.T, addr, command string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "%s\r\n", command); err != nil {
		t.Fatalf("sending %q: %v", command, err)
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading reply to %q: %v", command, err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return line
	}
	if line == "$-1" {
		return "(nil)"
	}
	body, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading bulk reply to %q: %v", command, err)
	}
	return strings.TrimSuffix(body, "\r\n")
}

// wantRefused fails t unless connecting to addr is refused.
func wantRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("dialing %s succeeded, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing %s: %v, want connection refused", addr, err)
	}
}

func TestStart(t *testing.T) {
	s := Start(t)
	if got := do(t, s.Addr(), "PING"); got != "+PONG" {
		t.Errorf("PING = %q, want +PONG", got)
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`).MatchString(s.Addr()) {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", s.Addr())
	}
	if want := "redis://" + s.Addr() + "/0"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	for _, c := range []struct{ param, want string }{
		{"appendonly", "yes"},
		{"appendfsync", "always"},
	} {
		// CONFIG GET answers an array: *2, then the name and the value.
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "CONFIG GET %s\r\n", c.param)
		r := bufio.NewReader(conn)
		var lines []string
		for range 5 {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading CONFIG GET %s: %v", c.param, err)
			}
			lines = append(lines, strings.TrimSuffix(line, "\r\n"))
		}
		conn.Close()
		if got := lines[4]; got != c.want {
			t.Errorf("CONFIG GET %s = %q, want %q", c.param, got, c.want)
		}
	}
}

func TestStopIsIdempotent(t *testing.T) {
	s := Start(t)
	s.Stop()
	wantRefused(t, s.Addr())
	s.Stop()
	wantRefused(t, s.Addr())
}

func TestRestartKeepsData(t *testing.T) {
	s := Start(t)
	addr := s.Addr()
	if got := do(t, addr, "SET k v"); got != "+OK" {
		t.Fatalf("SET = %q, want +OK", got)
	}

	s.Stop()
	wantRefused(t, addr)
	s.Restart()
	if s.Addr() != addr {
		t.Errorf("Addr() after Restart = %q, want %q", s.Addr(), addr)
	}
	if got := do(t, addr, "PING"); got != "+PONG" {
		t.Errorf("PING after Restart = %q, want +PONG", got)
	}
	if got := do(t, addr, "GET k"); got != "v" {
		t.Errorf("GET k after Restart = %q, want %q (AOF should keep it)", got, "v")
	}

	// Restarting a running server also keeps its data.
	if got := do(t, addr, "SET k2 v2"); got != "+OK" {
		t.Fatalf("SET = %q, want +OK", got)
	}
	s.Restart()
	if got := do(t, addr, "GET k2"); got != "v2" {
		t.Errorf("GET k2 after running Restart = %q, want %q", got, "v2")
	}
}

func TestCleanupStopsServer(t *testing.T) {
	var addr string
	t.Run("owner", func(t *testing.T) {
		addr = Start(t).Addr()
	})
	if addr == "" {
		t.Skip("subtest did not start a server")
	}
	wantRefused(t, addr)
}

func TestServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("both servers on %s", a.Addr())
	}
	do(t, a.Addr(), "SET k a")
	if got := do(t, b.Addr(), "GET k"); got != "(nil)" {
		t.Errorf("GET k on the second server = %q, want (nil)", got)
	}
}

func TestPrefix(t *testing.T) {
	s := Start(t)
	format := regexp.MustCompile(`^t:[A-Za-z0-9_./-]+:[0-9a-f]{6}:$`)
	for _, name := range []string{"plain", "with space:and{colon}", "中文"} {
		t.Run(name, func(t *testing.T) {
			p := s.Prefix(t)
			if !format.MatchString(p) {
				t.Errorf("Prefix() = %q, want match for %v", p, format)
			}
			if !strings.HasPrefix(p, "t:TestPrefix/") {
				t.Errorf("Prefix() = %q, want it to start with t:TestPrefix/", p)
			}
			if q := s.Prefix(t); q == p {
				t.Errorf("two calls both returned %q", p)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TestX", "TestX"},
		{"TestX/sub_case-1.2", "TestX/sub_case-1.2"},
		{"TestX/a b:c{d}", "TestX/a_b_c_d_"},
		{"TestX/é", "TestX/_"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// recordingTB stands in for a test in TestStartWithoutRedis: it records Skip
// and Fatal instead of acting on the real test.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordingTB) Skipf(format string, args ...any) { r.Skip(fmt.Sprintf(format, args...)) }

func (r *recordingTB) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

func TestStartWithoutRedis(t *testing.T) {
	tests := []struct {
		ci         string
		wantFailed bool
	}{
		{ci: "true", wantFailed: true},
		{ci: "", wantFailed: false},
		{ci: "false", wantFailed: false},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("CI", tt.ci)
			r := &recordingTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Start(r)
				t.Error("Start returned without redis-server on PATH")
			}()
			<-done
			if r.failed != tt.wantFailed || r.skipped == tt.wantFailed {
				t.Errorf("failed=%v skipped=%v, want failed=%v skipped=%v",
					r.failed, r.skipped, tt.wantFailed, !tt.wantFailed)
			}
			if !strings.Contains(r.msg, "make deps") {
				t.Errorf("message %q does not mention `make deps`", r.msg)
			}
		})
	}
}
