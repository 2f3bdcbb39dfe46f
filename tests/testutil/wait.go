package testutil

import (
	"testing"
	"time"
)

// SucceedsSoon calls fn until it returns nil, backing off between calls, and
// fails the test with fn's last error once the deadline (45s) passes.
func SucceedsSoon(t testing.TB, fn func() error) {
	t.Helper()
	SucceedsWithin(t, 45*time.Second, fn)
}

// SucceedsWithin is SucceedsSoon with an explicit deadline.
func SucceedsWithin(t testing.TB, d time.Duration, fn func() error) {
	t.Helper()
	if err := Retry(d, fn); err != nil {
		t.Fatalf("condition not met after %s: %v", d, err)
	}
}

// Retry calls fn until it returns nil or d passes, returning fn's last error.
func Retry(d time.Duration, fn func() error) error {
	deadline := time.Now().Add(d)
	backoff := time.Millisecond
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(backoff)
		if backoff < 100*time.Millisecond {
			backoff *= 2
		}
	}
}
