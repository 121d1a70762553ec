package handoff

import (
	"math"
	"testing"
	"time"
)

// Every latency reads back from its bin within the documented error (docs/reports.md).
func TestLatencyBins(t *testing.T) {
	prev := 0
	for ms := int64(0); ms < int64(10*24*time.Hour/time.Millisecond); ms = ms*21/20 + 1 {
		d := time.Duration(ms) * time.Millisecond
		b := latencyBin(d)
		if b < prev {
			t.Fatalf("bin of %v = %d, below the bin of a shorter one (%d)", d, b, prev)
		}
		prev = b
		got, want := binValue(b), d.Seconds()
		if b < maxBin && math.Abs(got-want) > BinError()*want+0.5 {
			t.Errorf("%v reads as %.3fs from bin %d: off by more than %.2f%%", d, got, b, BinError()*100)
		}
	}
	if b := latencyBin(30 * 24 * time.Hour); b != maxBin {
		t.Errorf("a month is in bin %d, want the last, %d", b, maxBin)
	}
	if e := BinError(); e < 0.09 || e > 0.091 {
		t.Errorf("BinError() = %v, want 2^(1/8)-1", e)
	}
}

// A percentile is the nearest rank's bin.
func TestHistogramPercentiles(t *testing.T) {
	h := histogram{}
	for _, s := range []float64{5, 30, 60, 120} {
		h[latencyBin(time.Duration(s*float64(time.Second)))]++
	}
	p := h.percentiles()
	if p.Count != 4 || p.P50 == nil || math.Abs(*p.P50-30) > 30*BinError() || math.Abs(*p.P90-120) > 120*BinError() {
		t.Errorf("percentiles of 5, 30, 60, 120 s = %+v (p50 %v, p90 %v)", p, *p.P50, *p.P90)
	}
	if p := (histogram{}).percentiles(); p.P50 != nil || p.P90 != nil || p.Count != 0 {
		t.Errorf("no samples: %+v", p)
	}
}

func TestHourOf(t *testing.T) {
	at := time.Date(2026, 12, 7, 20, 31, 5, 0, time.UTC)
	if got := hourOf(at); got != time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("hourOf(%v) = %v", at, time.Unix(got, 0).UTC())
	}
	if got := hourOf(time.Unix(-1, 0)); got != -3600 {
		t.Errorf("hourOf(-1 s) = %d, want -3600", got)
	}
}
