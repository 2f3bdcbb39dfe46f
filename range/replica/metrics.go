package replica

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Raft and lock-wait metrics of one store's replicas. The
// node creates one Metrics, registers it and gives it to every replica
// through Config; a replica without one records into a private, unregistered
// set (tests).
type Metrics struct {
	// Proposals counts commands this node's leaseholders handed to Raft.
	Proposals prometheus.Counter
	// CommitLatency is the time from a proposal to its application at the
	// proposing replica, for proposals whose result was delivered.
	CommitLatency prometheus.Histogram
	// LeaderChanges counts the times a replica on this node became leader.
	LeaderChanges prometheus.Counter
	// LockWaits counts transactional lock requests that had to queue.
	LockWaits prometheus.Counter
	// LockWaitTime is how long queued lock requests waited, whatever the
	// outcome (granted, timed out, cancelled, aborted).
	LockWaitTime prometheus.Histogram
	// TxnSpills counts spills: a large transaction's pending writes at a
	// range replicated early as provisional writes.
	TxnSpills prometheus.Counter
}

// NewMetrics returns an unregistered set of replica metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Proposals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_raft_proposals_total",
			Help: "Commands proposed to Raft by leaseholders on this node.",
		}),
		CommitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ordo_raft_commit_latency_seconds",
			Help:    "Time from proposing a command to applying it, measured at the proposer.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		LeaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_raft_leader_changes_total",
			Help: "Times a replica on this node became the Raft leader of its range.",
		}),
		LockWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_txn_lock_waits_total",
			Help: "Transactional lock requests that queued behind another transaction's lock.",
		}),
		LockWaitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ordo_txn_lock_wait_seconds",
			Help:    "Time queued lock requests waited, granted or not.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		TxnSpills: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ordo_txn_spills_total",
			Help: "Times a transaction's pending writes at a range passed kv.transaction.spill_bytes and were replicated as provisional writes.",
		}),
	}
}

// Collectors returns the metrics, to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Proposals, m.CommitLatency, m.LeaderChanges, m.LockWaits, m.LockWaitTime, m.TxnSpills}
}

// LogEntries is the number of entries in the replica's Raft log (from the
// first index kept after truncation to the last).
func (r *Replica) LogEntries() uint64 {
	first, err := r.log.FirstIndex()
	if err != nil {
		return 0
	}
	last, err := r.log.LastIndex()
	if err != nil || last < first {
		return 0
	}
	return last - first + 1
}

// trackProposalLocked registers p, just handed to Raft under id.
func (r *Replica) trackProposalLocked(id uint64, p *proposal) {
	p.proposed = time.Now()
	r.mu.proposals[id] = p
	r.cfg.Metrics.Proposals.Inc()
}

// observeCommit records the commit latency of a proposal whose result was
// delivered.
func (r *Replica) observeCommit(p *proposal) {
	r.cfg.Metrics.CommitLatency.Observe(time.Since(p.proposed).Seconds())
}

// observeLockWait records one queued lock request that waited since start.
func (r *Replica) observeLockWait(start time.Time) {
	r.cfg.Metrics.LockWaits.Inc()
	r.cfg.Metrics.LockWaitTime.Observe(time.Since(start).Seconds())
}
