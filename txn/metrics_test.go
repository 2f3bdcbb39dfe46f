package txn

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestAbortReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, AbortRollback},
		{&kverr.TxnRetryError{Reason: "wounded"}, AbortConflict},
		{fmt.Errorf("range 4: %w", &kverr.TxnRetryError{Reason: "lease moved"}), AbortConflict},
		{&kverr.LockTimeoutError{Key: []byte("k")}, AbortLockTimeout},
		{kverr.ErrUnavailable, AbortError},
		{context.DeadlineExceeded, AbortError},
	} {
		if got := AbortReason(tc.err); got != tc.want {
			t.Errorf("AbortReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestCommitOutcomes(t *testing.T) {
	m := NewMetrics()
	m.commitDone(nil)
	m.commitDone(nil)
	m.commitDone(&kverr.AmbiguousError{Reason: "lost"})
	m.commitDone(&kverr.TxnRetryError{Reason: "wounded"})
	m.commitDone(errors.New("boom"))
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"commits", testutil.ToFloat64(m.Commits), 2},
		{"ambiguous", testutil.ToFloat64(m.CommitsAmbiguous), 1},
		{"conflict", testutil.ToFloat64(m.Aborts.WithLabelValues(AbortConflict)), 1},
		{"error", testutil.ToFloat64(m.Aborts.WithLabelValues(AbortError)), 1},
		{"rollback", testutil.ToFloat64(m.Aborts.WithLabelValues(AbortRollback)), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestRetriesCounted: BeginWithPriority is the retry of an attempt, Begin
// is not; Rollback of a fresh transaction is a client rollback.
func TestRetriesCounted(t *testing.T) {
	c := New(Config{})
	defer c.Close()
	first := c.Begin()
	first.Rollback(context.Background())
	c.BeginWithPriority(first.Priority()).Rollback(context.Background())
	if got := testutil.ToFloat64(c.cfg.Metrics.Retries); got != 1 {
		t.Errorf("retries = %v, want 1", got)
	}
	if got := testutil.ToFloat64(c.cfg.Metrics.Aborts.WithLabelValues(AbortRollback)); got != 2 {
		t.Errorf("rollbacks = %v, want 2", got)
	}
}
