// Package benchtest measures the latency of single calls in the benchmarks, besides the
// mean that ns/op gives: a shopper or an agent waits for one call, not for the mean.
//
// It imports no package of the project, so the benchmarks of any package may use it.
package benchtest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ReportLatency sorts samples and reports their median and 99th percentile, by the
// nearest-rank method, as p50-µs and p99-µs.
func ReportLatency(b *testing.B, samples []time.Duration) {
	b.Helper()
	slices.Sort(samples)
	b.ReportMetric(micros(Percentile(samples, 50)), "p50-µs")
	b.ReportMetric(micros(Percentile(samples, 99)), "p99-µs")
}

// Percentile returns the p-th percentile of sorted samples by the nearest-rank method.
func Percentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100 // ⌈n·p/100⌉
	return sorted[max(rank, 1)-1]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Parallel runs run b.N times from workers goroutines, run(w, i) once for each i in
// 0 … b.N-1, where w is the worker, and reports the latencies the runs return with
// ReportLatency. The timer runs from the start of the first run to the end of the last.
// A run that fails fails the benchmark and stops the others, and nothing is reported;
// ok says whether all succeeded, and elapsed is the time they took together.
func Parallel(b *testing.B, workers int, run func(w, i int) (time.Duration, error)) (elapsed time.Duration, ok bool) {
	b.Helper()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		samples = make([]time.Duration, b.N)
		failed  atomic.Bool
	)
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < b.N && !failed.Load(); i = int(next.Add(1)) - 1 {
				d, err := run(w, i)
				samples[i] = d
				if err != nil {
					b.Errorf("run %d: %v", i, err)
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	b.StopTimer()
	if failed.Load() {
		return elapsed, false
	}
	ReportLatency(b, samples)
	return elapsed, true
}
