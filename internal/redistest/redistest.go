// Package redistest starts a real, throwaway redis-server for a test.
//
// Each call to Start runs its own redis-server on a free 127.0.0.1 port, with
// append-only persistence in the test's temporary directory, and stops it when
// the test ends. Fault tests can Stop and Restart the server: it comes back on
// the same address with the data written before the stop.
//
// The package talks to Redis only through a raw PING over TCP, so it needs no
// Redis client. If redis-server is not on PATH, Start skips the test, or fails
// it when CI=true, so that CI never passes without having run the Redis tests.
package redistest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startAttempts is how many free ports Start tries before giving up; a port
	// found free can be taken by another process before redis-server binds it.
	startAttempts = 5
	// readyTimeout bounds the wait for one redis-server to answer PING.
	readyTimeout = 10 * time.Second
	// restartTimeout bounds Restart's retries on the server's fixed port.
	restartTimeout = 5 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before killing.
	stopTimeout = 5 * time.Second
	// pollInterval is the pause between readiness probes.
	pollInterval = 5 * time.Millisecond
	// logTailBytes is how much of redis-server's output failure messages show.
	logTailBytes = 2048
)

// Errors after which a start is worth another try, on another port for Start.
var (
	// errExited reports that redis-server exited before it answered PING,
	// typically because its port was taken.
	errExited = errors.New("redis-server exited before answering PING")
	// errNotOurs reports that the port is served by some other redis-server.
	errNotOurs = errors.New("port answered by another redis-server")
)

// retryable reports whether a failed start may succeed if tried again.
func retryable(err error) bool {
	return errors.Is(err, errExited) || errors.Is(err, errNotOurs)
}

// Server is a redis-server process owned by one test.
type Server struct {
	tb   testing.TB
	bin  string // path of the redis-server executable
	dir  string // working directory: config, log and AOF files
	port int

	mu sync.Mutex // guards p
	p  *process   // nil while stopped
}

// process is one run of redis-server.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd.Wait has returned
	err  error         // cmd.Wait's result, set before done is closed
}

// Start starts a redis-server on a free 127.0.0.1 port with AOF on
// (appendonly yes, appendfsync always) in a tb.TempDir() directory, waits until
// it answers PING, and stops it in tb.Cleanup. If redis-server is not on PATH,
// Start fails the test when CI=true and skips it otherwise.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redistest: redis-server not found on PATH; run `make deps` or install redis-server"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg + " (CI=true: Redis tests must not be skipped)")
		}
		tb.Skip(msg)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	// Registered after TempDir so that it runs first: the process stops
	// before its directory is removed.
	tb.Cleanup(s.Stop)

	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: finding a free port: %v", err)
		}
		s.port = port
		if err := s.writeConfig(); err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		err = s.startLocked()
		if err == nil {
			return s
		}
		if attempt == startAttempts || !retryable(err) {
			tb.Fatalf("redistest: starting redis-server (attempt %d): %v%s", attempt, err, s.logTail())
		}
	}
}

// Addr returns the server's address, "127.0.0.1:PORT".
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// URL returns the server's address as a Redis URL for database 0,
// "redis://127.0.0.1:PORT/0".
func (s *Server) URL() string {
	return "redis://" + s.Addr() + "/0"
}

// Stop stops the server: it sends SIGTERM and waits for the process to exit,
// killing it if it is still running after 5 seconds. Stopping a stopped server
// does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

// Restart stops the server if it is running and starts it again on the same
// port and directory, so that data in the AOF survives, and waits until it
// answers PING. It fails the test if the server does not come back.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()

	// Retry briefly: while the server was down, another socket (such as a
	// client's ephemeral port) may have held the port for a moment.
	deadline := time.Now().Add(restartTimeout)
	for {
		err := s.startLocked()
		if err == nil {
			return
		}
		if !retryable(err) || time.Now().After(deadline) {
			s.tb.Fatalf("redistest: restarting redis-server on %s: %v%s", s.Addr(), err, s.logTail())
		}
		time.Sleep(pollInterval)
	}
}

// Prefix returns a key prefix unique to the test tb:
// "t:" + tb.Name() with unusual characters replaced + ":" + 6 random hex
// digits + ":". Tests that share a server keep their keys apart with it.
func (s *Server) Prefix(tb testing.TB) string {
	b := make([]byte, 3)
	rand.Read(b) // never returns an error
	return "t:" + sanitize(tb.Name()) + ":" + hex.EncodeToString(b) + ":"
}

// sanitize keeps letters, digits and _ - . / and replaces every other rune,
// including the ":" that separates the parts of a key, with "_".
func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
			return r
		case r == '_', r == '-', r == '.', r == '/':
			return r
		}
		return '_'
	}, name)
}

// writeConfig writes redis.conf for the current port into the server's
// directory. Paths in it are relative to the directory, which is the process's
// working directory, so no quoting is needed.
func (s *Server) writeConfig() error {
	conf := strings.Join([]string{
		"bind 127.0.0.1",
		"port " + strconv.Itoa(s.port),
		"dir .",
		"daemonize no",
		`logfile ""`,
		`save ""`,
		"appendonly yes",
		"appendfsync always",
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(s.dir, "redis.conf"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("writing redis.conf: %w", err)
	}
	return nil
}

// logPath is the file that collects redis-server's stdout and stderr across
// every start of this server.
func (s *Server) logPath() string {
	return filepath.Join(s.dir, "redis.log")
}

// startLocked starts redis-server and waits until it answers PING. On error
// no process is left running. The caller holds s.mu and s.p is nil.
func (s *Server) startLocked() error {
	logf, err := os.OpenFile(s.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening log: %w", err)
	}
	cmd := exec.Command(s.bin, "redis.conf")
	cmd.Dir = s.dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	err = cmd.Start()
	// The child has its own copy of the descriptor.
	logf.Close()
	if err != nil {
		return fmt.Errorf("running %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	if err := s.waitReady(p); err != nil {
		p.kill()
		return err
	}
	s.p = p
	return nil
}

// waitReady polls the server with PING until it answers +PONG, the process
// exits, or readyTimeout passes. It then checks that the answer came from p:
// when p failed to bind, another test's redis-server may hold the port.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for {
		if lastErr = ping(s.Addr()); lastErr == nil {
			pid, err := serverPID(s.Addr())
			if err != nil {
				return fmt.Errorf("asking %s for its process id: %w", s.Addr(), err)
			}
			if pid != p.cmd.Process.Pid {
				return fmt.Errorf("%w: %s is pid %d, ours is %d", errNotOurs, s.Addr(), pid, p.cmd.Process.Pid)
			}
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w (%v)", errExited, p.err)
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG from %s within %v: %w", s.Addr(), readyTimeout, lastErr)
		}
	}
}

// stopLocked stops the running process, if any. The caller holds s.mu.
func (s *Server) stopLocked() {
	p := s.p
	if p == nil {
		return
	}
	s.p = nil
	// An error here means the process has already exited; done tells.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			s.tb.Logf("redistest: redis-server on %s exited: %v%s", s.Addr(), p.err, s.logTail())
		}
	case <-time.After(stopTimeout):
		s.tb.Logf("redistest: redis-server on %s still running %v after SIGTERM; killing it", s.Addr(), stopTimeout)
		p.kill()
	}
}

// kill kills the process and waits for it to exit.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// ping sends PING to addr over a fresh connection and checks for +PONG. A
// server still loading its AOF answers -LOADING, which counts as not ready.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// serverPID asks the redis-server at addr for its process id with INFO server.
func serverPID(addr string) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return 0, err
	}
	if _, err := conn.Write([]byte("INFO server\r\n")); err != nil {
		return 0, err
	}
	// The reply is a bulk string: "$<length>\r\n" and then that many bytes of
	// "field:value\r\n" lines.
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
	if !strings.HasPrefix(head, "$") || err != nil || n < 0 {
		return 0, fmt.Errorf("INFO answered %q", strings.TrimSpace(head))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO server has no process_id")
}

// freePort returns a 127.0.0.1 TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, err
	}
	return port, nil
}

// logTail returns the end of redis-server's output, formatted to follow an
// error message, or "" if there is none.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return "\n--- redis-server output (" + s.logPath() + ", tail) ---\n" + strings.TrimRight(string(b), "\n")
}
