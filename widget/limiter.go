package widget

import "time"

// limiter is a token bucket: burst tokens, one more every period. It is used by one
// goroutine.
type limiter struct {
	tokens float64
	burst  float64
	every  time.Duration
	last   time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{tokens: float64(burst), burst: float64(burst), every: every}
}

// allow takes a token if one is left at now; if none is, it says how long until one is.
func (l *limiter) allow(now time.Time) (bool, time.Duration) {
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.every))
	}
	l.last = now
	if l.tokens < 1 {
		return false, time.Duration((1 - l.tokens) * float64(l.every))
	}
	l.tokens--
	return true, 0
}
