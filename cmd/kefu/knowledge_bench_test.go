//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/kefu-im/kefu/bot"
	"github.com/kefu-im/kefu/internal/benchtest"
	"github.com/kefu-im/kefu/internal/boltdb"
	"github.com/kefu-im/kefu/kb"
	"github.com/kefu-im/kefu/kb/kbtest"
)

// bigKnowledge is the size of a big shop's knowledge base, the size of the start and
// memory targets.
const bigKnowledge = 50_000

// BenchmarkKnowledge50k measures a node with 50,000 articles (the bundled ones grown with
// product phrases, all different) on the embedded engine, as an operator sees it:
// "kefu serve" is run as a process of its own with KEFU_KNOWLEDGE naming the articles
// and a fresh data directory. It reports the first start (importing the articles and
// building the index) until /readyz answers 200, and the process's peak resident
// memory (VmHWM) and what it holds once ready (VmRSS); then the same after a restart on
// the same data directory; then the latency of Decide on that index, opened in this
// process as a restart does. It takes a few minutes, most of it the first start;
// b.N is ignored (run it with -benchtime=1x).
func BenchmarkKnowledge50k(b *testing.B) {
	arts, err := kbtest.Articles(bigKnowledge)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "articles.jsonl")
	if err := writeJSONL(file, arts); err != nil {
		b.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	b.ResetTimer()
	first := runUntilReady(b, data, file)
	b.ReportMetric(first.ready.Seconds(), "start-s")
	b.ReportMetric(first.peak/(1<<30), "start-peak-GiB")
	b.ReportMetric(first.held/(1<<30), "start-held-GiB")
	b.ReportMetric(first.cpu.Seconds(), "start-cpu-s")
	again := runUntilReady(b, data, file)
	b.ReportMetric(again.ready.Seconds(), "restart-s")
	b.ReportMetric(again.peak/(1<<30), "restart-peak-GiB")
	b.ReportMetric(again.cpu.Seconds(), "restart-cpu-s")
	b.StopTimer()
	b.Logf("first start: ready in %v (%v of CPU), peak %.2f GiB, %.2f GiB held; restart: ready in %v (%v of CPU), peak %.2f GiB",
		first.ready.Round(time.Millisecond), first.cpu.Round(time.Millisecond), first.peak/(1<<30), first.held/(1<<30),
		again.ready.Round(time.Millisecond), again.cpu.Round(time.Millisecond), again.peak/(1<<30))
	decide50k(b, data)
}

// startFigures are what runUntilReady measured: the time until ready, the CPU time
// the process used until then (user and system: on a machine shared with other work
// the time alone says little), its peak and held resident memory.
type startFigures struct {
	ready, cpu time.Duration
	peak, held float64 // bytes
}

// runUntilReady runs "kefu serve" on data with the articles of file until /readyz
// answers 200, reads its memory, and stops it.
func runUntilReady(b *testing.B, data, file string) startFigures {
	b.Helper()
	addr := freeBenchAddr(b)
	cmd := exec.Command(kefuBin, "serve")
	cmd.Env = append(os.Environ(), "KEFU_ADDR="+addr, "KEFU_DATA_DIR="+data, "KEFU_KNOWLEDGE="+file, "KEFU_LOG_FORMAT=json")
	logFile, err := os.Create(filepath.Join(filepath.Dir(data), "kefu.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			log, _ := os.ReadFile(logFile.Name())
			b.Fatalf("kefu exited before it was ready: %v\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(start) > 15*time.Minute {
			stop()
			b.Fatal("kefu not ready after 15 minutes")
		}
	}
	f := startFigures{ready: time.Since(start)}
	f.peak, f.held = procMemory(b, cmd.Process.Pid, "VmHWM"), procMemory(b, cmd.Process.Pid, "VmRSS")
	f.cpu = procCPU(b, cmd.Process.Pid)
	stop()
	return f
}

// procMemory reads a memory figure (in kB) of /proc/PID/status, in bytes.
func procMemory(b *testing.B, pid int, field string) float64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb * 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// procCPU reads the CPU time (user and system) a process has used, from /proc/PID/stat.
func procCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command (in parentheses, which may hold spaces): utime and
	// stime are the 14th and 15th of the line, in clock ticks (100 a second on Linux).
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("reading /proc/%d/stat: %v %v", pid, err1, err2)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func freeBenchAddr(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// decide50k opens the data directory's article store and index as a node does at
// start, and reports the latency of Decide over the benchmarks' shopper questions
// (kbtest.ShopperQuestions), p50 and p99 of 2,000 calls after a second of warming up; and the p99 of the CPU time
// of the calls (the thread's, which the call runs on alone), which other work on the
// machine does not lengthen.
func decide50k(b *testing.B, data string) {
	b.Helper()
	db, err := boltdb.Open(data)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	store, err := kb.NewBoltStore(kb.BoltConfig{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	x, err := kb.New(kb.Config{Path: filepath.Join(data, "index")})
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	f, err := kb.NewFollower(kb.FollowerConfig{Store: store, Index: x})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := f.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	if x.Len() != bigKnowledge {
		b.Fatalf("the index holds %d articles, want %d", x.Len(), bigKnowledge)
	}
	bt, err := bot.New(bot.Config{Searcher: x})
	if err != nil {
		b.Fatal(err)
	}
	questions := kbtest.ShopperQuestions
	for start := time.Now(); time.Since(start) < time.Second; {
		for _, q := range questions {
			if _, err := bt.Decide(ctx, bot.Input{Text: q}); err != nil {
				b.Fatalf("Decide(%q): %v", q, err)
			}
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	samples, cpu := make([]time.Duration, 2000), make([]time.Duration, 2000)
	for i := range samples {
		in := bot.Input{Text: questions[i%len(questions)]}
		start, startCPU := time.Now(), threadCPU(b)
		if _, err := bt.Decide(ctx, in); err != nil {
			b.Fatalf("Decide(%q): %v", in.Text, err)
		}
		samples[i], cpu[i] = time.Since(start), threadCPU(b)-startCPU
	}
	benchtest.ReportLatency(b, samples)
	slices.Sort(cpu)
	b.ReportMetric(float64(benchtest.Percentile(cpu, 99))/float64(time.Microsecond), "cpu-p99-µs")
}

// threadCPU returns the CPU time the calling thread has used, to the nanosecond
// (clock_gettime CLOCK_THREAD_CPUTIME_ID; getrusage counts in scheduler ticks).
func threadCPU(b *testing.B) time.Duration {
	const clockThreadCPUTime = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatal(errno)
	}
	return time.Duration(ts.Nano())
}

// writeJSONL writes arts to file, one JSON article a line, as KEFU_KNOWLEDGE reads them.
func writeJSONL(file string, arts []kb.Article) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, a := range arts {
		if err := enc.Encode(a); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
