package allocator

import "fmt"

// NodeID identifies a node (and its one store).
type NodeID uint64

// Liveness is a node's liveness as the caller judged it. The zero value,
// Unknown, is what Decide assumes for a node missing from the snapshot; it
// is treated like Suspect: not live, not a target, not replaced.
type Liveness uint8

// Liveness states.
const (
	Unknown Liveness = iota
	Live
	Suspect // silent past the suspect timeout: not a target, not replaced yet
	Dead    // silent past server.time_until_dead: its replicas are replaced
)

var livenessNames = [...]string{"unknown", "live", "suspect", "dead"}

func (l Liveness) String() string {
	if int(l) < len(livenessNames) {
		return livenessNames[l]
	}
	return fmt.Sprintf("liveness(%d)", l)
}

// Node is one node in the snapshot.
type Node struct {
	ID       NodeID
	Liveness Liveness
	// Decommissioning nodes are drained: their replicas are replaced and
	// their leases moved away. A decommissioning node that is still Live
	// counts as live for the quorum rule.
	Decommissioning bool
	// Replicas counts replicas (voters and learners) on the node; Leases the
	// leases it holds.
	Replicas, Leases int
	// Fullness is the fraction of the store's capacity in use (0..1). Nodes
	// at or above Config.MaxFullness get no new replicas.
	Fullness float64
}

// Replica is one replica of a range.
type Replica struct {
	NodeID    NodeID
	ReplicaID uint64
	// Learner replicas receive the log but do not vote; a new replica is a
	// learner until promoted.
	Learner bool
}

// Range is the range a decision is for.
type Range struct {
	RangeID  uint64
	Replicas []Replica
	// Leaseholder is the node holding the lease (the Raft leader); 0 if
	// unknown, in which case no lease action is taken.
	Leaseholder NodeID
}

// Tolerance is how far a node's count may be from the mean: the larger of
// Min and Fraction×mean. The zero value means the default, {0.05, 1}.
type Tolerance struct {
	Fraction float64
	Min      float64
}

// Around returns the tolerance for a mean.
func (t Tolerance) Around(mean float64) float64 {
	return max(t.Min, t.Fraction*mean)
}

// Config tunes Decide. The zero value is the default configuration.
type Config struct {
	// ReplicationFactor is the number of voters each range wants (3).
	ReplicationFactor int
	// ReplicaTolerance and LeaseTolerance bound replica and lease counts
	// around the mean (default {0.05, 1}).
	ReplicaTolerance, LeaseTolerance Tolerance
	// MaxFullness: nodes at or above it get no new replicas (0.95).
	MaxFullness float64
	// DisableReplicaRebalancing and DisableLeaseRebalancing turn off steps 8
	// and 9 (repair and draining still happen).
	DisableReplicaRebalancing, DisableLeaseRebalancing bool
}

// Defaults.
const (
	DefaultReplicationFactor = 3
	DefaultMaxFullness       = 0.95
)

// DefaultTolerance is the tolerance used when a Config leaves it zero.
var DefaultTolerance = Tolerance{Fraction: 0.05, Min: 1}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.ReplicationFactor <= 0 {
		c.ReplicationFactor = DefaultReplicationFactor
	}
	if c.ReplicaTolerance == (Tolerance{}) {
		c.ReplicaTolerance = DefaultTolerance
	}
	if c.LeaseTolerance == (Tolerance{}) {
		c.LeaseTolerance = DefaultTolerance
	}
	if c.MaxFullness <= 0 {
		c.MaxFullness = DefaultMaxFullness
	}
	return c
}
