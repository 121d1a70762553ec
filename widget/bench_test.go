package widget_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
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
	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/handoff"
	"github.com/kefu-im/kefu/handoff/boltstore"
	"github.com/kefu-im/kefu/handoff/desktest"
	"github.com/kefu-im/kefu/handoff/redisstore"
	"github.com/kefu-im/kefu/internal/benchtest"
	"github.com/kefu-im/kefu/internal/redistest"
	"github.com/kefu-im/kefu/widget"
	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// benchBacklog is how many chats already wait in the queue when a benchmarked shopper
// asks for a person, so that every position frame says benchBacklog+1.
const benchBacklog = 20

// BenchmarkHandoffToQueueFrame measures what a shopper waits for after pressing 「转人工」:
// from sending the handoff frame on a real websocket to a real gateway until the queue
// frame with their position arrives. Behind it: the hand-off's routing and conversation
// writes in Redis (AOF, fsync always), the event through Redis pub/sub, the session
// reading the log and the queue position. The queue holds benchBacklog chats; after each
// run the chat is claimed and resolved so that the queue keeps its length. It reports the
// median and 99th percentile of that time; ns/op is the whole cycle (connect, hand-off,
// claim and resolve) over all shoppers.
func BenchmarkHandoffToQueueFrame(b *testing.B) {
	for _, shoppers := range []int{1, 16} {
		b.Run(fmt.Sprintf("shoppers=%d", shoppers), func(b *testing.B) {
			e := newBenchEnv(b)
			benchtest.Parallel(b, shoppers, func(w, _ int) (time.Duration, error) {
				return e.handoffOnce(fmt.Sprintf("agent%02d", w))
			})
		})
	}
}

// benchEnv is a gateway on a Redis store, served by a real HTTP server.
type benchEnv struct {
	desk *handoff.Desk
	url  string
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	rig, bt := openBusyDesk(b, nil)
	desk := rig.Desk
	gw, err := widget.New(widget.Config{Desk: desk, Bot: bt, AllowedOrigins: []string{shopOrigin}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(gw)
	b.Cleanup(hs.Close)
	ctx := context.Background()
	for range benchBacklog {
		c, _, err := desk.StartAs(ctx, nil)
		if err == nil {
			err = desk.AskForPerson(ctx, c.ID, "m1")
		}
		if err != nil {
			b.Fatalf("filling the queue: %v", err)
		}
	}
	return &benchEnv{desk: desk, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws/shopper"}
}

// openBusyDesk opens a desk on Redis, with a pool of connections for many shoppers at
// once, that assigns no chat on its own and answers with the test bot; set, when not
// nil, changes its configuration further.
func openBusyDesk(tb testing.TB, set func(*handoff.DeskConfig)) (*desktest.Rig, *bot.Bot) {
	tb.Helper()
	bt, err := testBot()
	if err != nil {
		tb.Fatal(err)
	}
	rig := desktest.Open(tb, desktest.Options{
		Engine: desktest.Redis,
		Client: func(addr string) *redis.Client { return redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64}) },
		Desk: func(c *handoff.DeskConfig) {
			c.ManualOnly, c.Bot = true, widget.DeskBot(bt)
			if set != nil {
				set(c)
			}
		},
	})
	return rig, bt
}

// handoffOnce connects a new shopper, asks for a person and returns the time until the
// queue frame came; then agent claims and resolves the chat.
func (e *benchEnv) handoffOnce(agent string) (time.Duration, error) {
	c, _, err := websocket.DefaultDialer.Dial(e.url, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var f struct {
		Type         string
		Conversation string
		Position     int
	}
	readFrame := func() error {
		c.SetReadDeadline(time.Now().Add(frameWait))
		_, data, err := c.ReadMessage()
		if err != nil {
			return err
		}
		return json.Unmarshal(data, &f)
	}
	if err := readFrame(); err != nil || f.Type != "welcome" {
		return 0, fmt.Errorf("first frame %+v, %v; want a welcome", f, err)
	}
	conv := f.Conversation
	start := time.Now()
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"handoff","id":"h1"}`)); err != nil {
		return 0, err
	}
	for f.Type != "queue" {
		if err := readFrame(); err != nil {
			return 0, fmt.Errorf("waiting for the queue frame: %w", err)
		}
	}
	took := time.Since(start)
	// Other shoppers' chats may wait ahead only while they are between their own
	// hand-off and claim.
	if f.Position < benchBacklog+1 {
		return took, fmt.Errorf("queue position %d, want at least %d", f.Position, benchBacklog+1)
	}
	c.Close()
	ctx := context.Background()
	if _, err := e.desk.Claim(ctx, conv, agent); err != nil {
		return took, err
	}
	if _, err := e.desk.Resolve(ctx, conv, agent); err != nil {
		return took, err
	}
	return took, nil
}

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
			cfg = handoff.DeskConfig{Engine: s.Engine()}
		case "redis":
			rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("KEFU_BENCH_REDIS")})
			defer rdb.Close()
			s, err := redisstore.New(redisstore.Config{Client: rdb, Prefix: "bench:"})
			if err != nil {
				return err
			}
			cfg = handoff.DeskConfig{Engine: s.Engine()}
		}
		bt, err := testBot()
		if err != nil {
			return err
		}
		cfg.Staff, cfg.ManualOnly, cfg.Bot = desktest.NewStaff(), true, widget.DeskBot(bt)
		d, err := handoff.NewDesk(cfg)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go d.Run(ctx)
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
		kb := idleSocketKB(b, mode, srv.Addr(), false, idleSockets)
		b.ReportMetric(kb, "KB/socket-"+mode)
	}
	// Shoppers who said something and were answered, then went quiet: their
	// conversations are stored and followed.
	b.ReportMetric(idleSocketKB(b, "redis", srv.Addr(), true, idleSockets/5), "KB/socket-redis-after-a-chat")
}

// idleSocketKB opens n sockets to a server of mode and returns the server memory each
// holds, idle; with spoken, each socket says 你好 and reads the bot's answer first.
func idleSocketKB(b *testing.B, mode, redisAddr string, spoken bool, n int) float64 {
	b.Helper()
	ch := startChild(b, mode, redisAddr)
	defer ch.close()
	warm := ch.open(b, 100, false)
	before := ch.rss(b)
	conns := ch.open(b, n, spoken)
	time.Sleep(time.Second) // let the sessions settle into idle
	after := ch.rss(b)
	// Every socket is still open: a read finds nothing to read, not an end.
	for _, c := range conns[:100] {
		if c == nil {
			continue
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, data, err := c.ReadMessage(); !isTimeout(err) {
			b.Fatalf("an idle socket of the %s server read %s, %v; want it open and quiet", mode, data, err)
		}
	}
	for _, c := range append(warm, conns...) {
		if c != nil {
			c.Close()
		}
	}
	return float64(after-before) / float64(n)
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

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// child is a gateway server in a process of its own (serveChild).
type child struct {
	addr string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	stop sync.Once
}

// startChild starts this test binary as a server of mode; it stops at close, or when
// the benchmark ends.
func startChild(b *testing.B, mode, redisAddr string) *child {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "KEFU_BENCH_REDIS="+redisAddr)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &child{cmd: cmd, in: stdin, out: bufio.NewScanner(stdout)}
	b.Cleanup(c.close)
	c.addr = c.line(b, "ADDR")
	return c
}

// close stops the child.
func (c *child) close() { c.stop.Do(func() { c.in.Close(); c.cmd.Wait() }) }

// rss returns the child's resident memory in kilobytes, its garbage collected.
func (c *child) rss(b *testing.B) int64 {
	fmt.Fprintln(c.in, "rss")
	n, _ := strconv.ParseInt(c.line(b, "RSS"), 10, 64)
	return n
}

// line reads the child's next line starting with prefix and returns the rest.
func (c *child) line(b *testing.B, prefix string) string {
	b.Helper()
	for c.out.Scan() {
		if v, ok := strings.CutPrefix(c.out.Text(), prefix+" "); ok {
			return v
		}
	}
	b.Fatalf("the server said no %s", prefix)
	return ""
}

// cpu returns the user and system time the child has used.
func (c *child) cpu(b *testing.B) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's name, which is in parentheses: utime and stime
	// are the 14th and 15th of the whole line, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// open opens n sockets to the child, each past its welcome frame; with spoken, each
// says 你好 and reads the bot's answer too.
func (c *child) open(b *testing.B, n int, spoken bool) []*websocket.Conn {
	b.Helper()
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, _, err := websocket.DefaultDialer.Dial("ws://"+c.addr+"/ws/shopper", nil)
			if err != nil {
				b.Error(err)
				return
			}
			ws.SetReadDeadline(time.Now().Add(time.Minute))
			if _, data, err := ws.ReadMessage(); err != nil || !strings.Contains(string(data), `"type":"welcome"`) {
				b.Errorf("first frame %s, %v; want a welcome", data, err)
			}
			if spoken {
				ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"message","id":"m1","text":"你好"}`))
				_, data, err := ws.ReadMessage()
				for err == nil && !strings.Contains(string(data), `"from":"bot"`) {
					_, data, err = ws.ReadMessage()
				}
				if err != nil {
					b.Errorf("waiting for the bot's answer: %v", err)
				}
			}
			ws.SetReadDeadline(time.Time{})
			conns[i] = ws
		}()
	}
	wg.Wait()
	return conns
}
