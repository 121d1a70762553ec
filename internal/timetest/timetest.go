// Package timetest holds the tests' helpers about time: a Clock that a test moves, and
// Poll, which waits for a condition with a deadline instead of a fixed sleep.
//
// It imports no package of the project, so the tests of any package may use it.
package timetest

import (
	"sync"
	"testing"
	"time"
)

// Clock is a clock that a test moves. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex // guards t
	t    time.Time
	step time.Duration
}

// NewClock returns a clock at start. Every reading moves it on by step first, so that
// with a step of a millisecond the times a store keeps are distinct and ordered even at
// the Redis engine's millisecond precision; with a step of 0 it moves only by Advance.
func NewClock(start time.Time, step time.Duration) *Clock {
	return &Clock{t: start, step: step}
}

// Now moves the clock on by its step and reads it.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// PollInterval is how often Poll asks again.
const PollInterval = 5 * time.Millisecond

// Poll asks ok every PollInterval until it is true, and stops the test when it is not
// within the time given; what names the awaited condition in the failure.
func Poll(t testing.TB, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after %v", what, within)
		}
		time.Sleep(PollInterval)
	}
}
