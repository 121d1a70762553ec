package widget_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/boltstore"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/widget"
	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// What an idle shopper socket costs the server is measured in a process of its own (this
// test binary, started again as a server), so that the clients' memory does not count:
// the server's resident memory before and after 10,000 more sockets, each past its
// welcome frame, with the garbage collected and returned to the system both times.

// idleSockets is how many sockets the benchmark opens.
const idleSockets = 10_000

// childEnv names the server a test binary runs instead of its tests: bare (a plain
// gorilla/websocket server that only reads), bolt or redis (the gateway on that engine;
// KEFU_BENCH_REDIS is the Redis address).
const childEnv = "KEFU_BENCH_SERVER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := serveChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild serves mode on a free port, prints "ADDR host:port", and then answers each
// line "rss" on stdin with "RSS kilobytes" after collecting the garbage, until stdin ends.
func serveChild(mode string) error {
	var h http.Handler
	switch mode {
	case "bare":
		up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			c.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome"}`))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		})
	case "bolt", "redis":
		var cfg handoff.DeskConfig
		switch mode {
		case "bolt":
			dir, err := os.MkdirTemp("", "kefu-bench")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			db, err := bolt.Open(filepath.Join(dir, "kefu.db"), 0o600, nil)
			if err != nil {
				return err
			}
			db.NoSync = true // the benchmark measures memory, not the disk
			defer db.Close()
			s, err := boltstore.New(boltstore.Config{DB: db})
			if err != nil {
				return err
			}
			cfg = handoff.DeskConfig{Conversations: s, Roster: s, Annals: s, Bus: s, Tickets: s}
		case "redis":
			rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("KEFU_BENCH_REDIS")})
			defer rdb.Close()
			s, err := redisstore.New(redisstore.Config{Client: rdb, Prefix: "bench:"})
			if err != nil {
				return err
			}
			cfg = handoff.DeskConfig{Conversations: s, Roster: s, Annals: s, Bus: s, Tickets: s}
		}
		cfg.Staff, cfg.ManualOnly = desktest.NewStaff(), true
		d, err := handoff.NewDesk(cfg)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.Run(ctx)
		bt, err := testBot()
		if err != nil {
			return err
		}
		gw, err := widget.New(widget.Config{Desk: d, Bot: bt})
		if err != nil {
			return err
		}
		h = gw
	default:
		return fmt.Errorf("unknown server %q", mode)
	}
	srv := httptestServer(h)
	defer srv.Close()
	fmt.Printf("ADDR %s\n", srv.addr)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		runtime.GC()
		debug.FreeOSMemory()
		fmt.Printf("RSS %d\n", rssKB())
	}
	return nil
}

// rssKB reads this process's resident memory.
func rssKB() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkIdleSocketMemory reports the server memory per idle shopper socket with
// 10,000 sockets open: for a bare gorilla/websocket server, and for the gateway on the
// embedded engine and on Redis. It runs once whatever b.N.
func BenchmarkIdleSocketMemory(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	srv := redistest.Start(b)
	for _, mode := range []string{"bare", "bolt", "redis"} {
		kb := idleSocketKB(b, mode, srv.Addr())
		b.ReportMetric(kb, "KB/socket-"+mode)
	}
}

func idleSocketKB(b *testing.B, mode, redisAddr string) float64 {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "KEFU_BENCH_REDIS="+redisAddr)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	out := bufio.NewScanner(stdout)
	line := func(prefix string) string {
		for out.Scan() {
			if v, ok := strings.CutPrefix(out.Text(), prefix+" "); ok {
				return v
			}
		}
		b.Fatalf("the %s server said no %s", mode, prefix)
		return ""
	}
	addr := line("ADDR")
	rss := func() int64 {
		fmt.Fprintln(stdin, "rss")
		n, _ := strconv.ParseInt(line("RSS"), 10, 64)
		return n
	}
	open := func(n int) []*websocket.Conn {
		conns := make([]*websocket.Conn, n)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/shopper", nil)
				if err != nil {
					b.Error(err)
					return
				}
				c.SetReadDeadline(time.Now().Add(time.Minute))
				if _, _, err := c.ReadMessage(); err != nil {
					b.Error(err)
				}
				conns[i] = c
			}()
		}
		wg.Wait()
		return conns
	}
	warm := open(100)
	before := rss()
	conns := open(idleSockets)
	time.Sleep(time.Second) // let the sessions settle into idle
	after := rss()
	for _, c := range append(warm, conns...) {
		if c != nil {
			c.Close()
		}
	}
	return float64(after-before) / idleSockets
}

// childServer is an HTTP server on a free loopback port.
type childServer struct {
	addr string
	srv  *http.Server
}

func httptestServer(h http.Handler) *childServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return &childServer{addr: ln.Addr().String(), srv: srv}
}

func (c *childServer) Close() { c.srv.Close() }
