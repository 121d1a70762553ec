// Package miniotest starts a real, throwaway MinIO server (an S3-compatible object
// store) for a test.
//
// Start runs `minio server` on a free 127.0.0.1 port with its data in the test's
// temporary directory, waits until it is ready and stops it when the test ends. The
// binary is $KEFU_MINIO, or minio on PATH, in ~/.cache/kefu/bin or in $GOPATH/bin
// (`.ci/deps minio` builds it there from the Go module proxy). Without it Start skips
// the test, or fails it when CI=true, so that CI never passes without the S3 tests.
//
// Like internal/redistest it imports no package of the project.
package miniotest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Server is a minio server process owned by one test.
type Server struct {
	// Endpoint is the server's URL, http://127.0.0.1:PORT.
	Endpoint string
	// AccessKey and SecretKey are its root credentials.
	AccessKey, SecretKey string
}

const (
	startAttempts = 3
	readyTimeout  = 60 * time.Second
	stopTimeout   = 10 * time.Second
)

// Binary returns the path of the minio binary, or "" when there is none.
func Binary() string {
	if p := os.Getenv("KEFU_MINIO"); p != "" {
		return p
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p
	}
	var dirs []string
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "kefu", "bin"))
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	for _, p := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "minio")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// Start starts a minio server and stops it when the test ends; see the package doc.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binary()
	if bin == "" {
		msg := "miniotest: no minio binary; run `.ci/deps minio` or set KEFU_MINIO"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg + " (CI=true: the S3 tests must not be skipped)")
		}
		tb.Skip(msg)
	}
	dir := tb.TempDir()
	s := &Server{AccessKey: "kefu-test", SecretKey: "kefu-test-secret"}
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("miniotest: finding a free port: %v", err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("minio-%d.log", attempt)))
		if err != nil {
			tb.Fatalf("miniotest: %v", err)
		}
		cmd := exec.Command(bin, "server", "--quiet", "--address", addr, filepath.Join(dir, "data"))
		cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			logf.Close()
			tb.Fatalf("miniotest: starting %s: %v", bin, err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); logf.Close(); close(done) }()
		stop := func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(stopTimeout):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		s.Endpoint = "http://" + addr
		if lastErr = waitReady(s.Endpoint, done); lastErr == nil {
			tb.Cleanup(stop)
			return s
		}
		stop()
		if log, _ := os.ReadFile(logf.Name()); len(log) > 0 {
			lastErr = fmt.Errorf("%w\n%s", lastErr, tail(string(log), 2048))
		}
	}
	tb.Fatalf("miniotest: minio did not start: %v", lastErr)
	return nil
}

// waitReady polls the server's cluster health until it answers 200: the object layer is
// up and takes writes (its readiness probe answers earlier).
func waitReady(endpoint string, exited <-chan struct{}) error {
	deadline := time.Now().Add(readyTimeout)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("minio exited before it was ready")
		default:
		}
		resp, err := c.Get(endpoint + "/minio/health/cluster")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s", readyTimeout)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
