package txn

import (
	"errors"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/prometheus/client_golang/prometheus"
)

// Abort reasons, the values of ordo_txn_aborts_total's reason label.
const (
	// AbortRollback: rolled back by its client (ROLLBACK, a failed SQL
	// statement) without a conflict.
	AbortRollback = "rollback"
	// AbortConflict: a retryable conflict (wounded, lease moved, range
	// split, an unknown outcome of a request before commit); SQLSTATE 40001.
	AbortConflict = "conflict"
	// AbortLockTimeout: a lock wait exceeded the lock timeout (55P03).
	AbortLockTimeout = "lock_timeout"
	// AbortError: any other failure (unavailable ranges, a context ended).
	AbortError = "error"
)

// Metrics are a coordinator's transaction outcomes.
type Metrics struct {
	// Commits counts transactions whose commit succeeded.
	Commits prometheus.Counter
	// CommitsAmbiguous counts commits whose outcome is unknown (40003).
	CommitsAmbiguous prometheus.Counter
	// Aborts counts transactions that ended without committing, by reason.
	Aborts *prometheus.CounterVec
	// Retries counts transactions begun as the retry of an aborted attempt.
	Retries prometheus.Counter
}

// NewMetrics returns an unregistered set of transaction metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_txn_commits_total",
			Help: "Transactions committed by this node's coordinator.",
		}),
		CommitsAmbiguous: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_txn_commits_ambiguous_total",
			Help: "Commits whose outcome is unknown (SQLSTATE 40003).",
		}),
		Aborts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordo_txn_aborts_total",
			Help: "Transactions that ended without committing, by reason.",
		}, []string{"reason"}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_txn_retries_total",
			Help: "Transactions begun as the retry of an aborted attempt (same priority).",
		}),
	}
	for _, r := range []string{AbortRollback, AbortConflict, AbortLockTimeout, AbortError} {
		m.Aborts.WithLabelValues(r) // every reason is exported from the start
	}
	return m
}

// Collectors returns the metrics, to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Commits, m.CommitsAmbiguous, m.Aborts, m.Retries}
}

// commitDone records the outcome of a commit.
func (m *Metrics) commitDone(err error) {
	switch {
	case err == nil:
		m.Commits.Inc()
	case kverr.IsAmbiguous(err):
		m.CommitsAmbiguous.Inc()
	default:
		m.Aborts.WithLabelValues(AbortReason(err)).Inc()
	}
}

// AbortReason classifies the error that ended a transaction (nil: its
// client rolled it back).
func AbortReason(err error) string {
	var lt *kverr.LockTimeoutError
	switch {
	case err == nil:
		return AbortRollback
	case IsRetryable(err):
		return AbortConflict
	case errors.As(err, &lt):
		return AbortLockTimeout
	}
	return AbortError
}
