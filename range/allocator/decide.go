package allocator

import (
	"cmp"
	"fmt"
	"slices"
)

// Decide returns the one thing r's leaseholder should do next, given a
// snapshot of the cluster's nodes. Nodes missing from the snapshot are
// treated as Unknown (not live). See doc.go for the rules.
func Decide(r Range, nodes []Node, cfg Config) Action {
	d := newDecider(r, nodes, cfg.WithDefaults())
	return d.decide()
}

// decider holds one decision's indexed snapshot.
type decider struct {
	r        Range
	cfg      Config
	nodes    map[NodeID]Node
	all      []Node    // sorted by id
	voters   []Replica // sorted by node id
	learners []Replica // sorted by node id
	onRange  map[NodeID]int
	// replicaMean and leaseMean are over healthy nodes.
	replicaMean, leaseMean float64
}

func newDecider(r Range, nodes []Node, cfg Config) *decider {
	d := &decider{r: r, cfg: cfg, nodes: make(map[NodeID]Node, len(nodes)), onRange: map[NodeID]int{}}
	for _, n := range nodes {
		if _, dup := d.nodes[n.ID]; !dup {
			d.nodes[n.ID] = n
			d.all = append(d.all, n)
		}
	}
	slices.SortFunc(d.all, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	for _, rep := range r.Replicas {
		d.onRange[rep.NodeID]++
		if rep.Learner {
			d.learners = append(d.learners, rep)
		} else {
			d.voters = append(d.voters, rep)
		}
	}
	byNode := func(a, b Replica) int { return cmp.Compare(a.NodeID, b.NodeID) }
	slices.SortFunc(d.voters, byNode)
	slices.SortFunc(d.learners, byNode)
	d.replicaMean, d.leaseMean = d.means()
	return d
}

func (d *decider) means() (replicas, leases float64) {
	var n, sumR, sumL int
	for _, node := range d.all {
		if healthy(node) {
			n++
			sumR += node.Replicas
			sumL += node.Leases
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(sumR) / float64(n), float64(sumL) / float64(n)
}

func (d *decider) decide() Action {
	if a, ok := d.checkDescriptor(); ok {
		return a
	}
	if a, ok := d.checkQuorum(); ok {
		return a
	}
	if a, ok := d.handleLearners(); ok {
		return a
	}
	blocked, ok := d.repair()
	if ok {
		return blocked
	}
	if a, ok := d.maybeDrainLease(); ok {
		return a
	}
	if blocked.Reason != ReasonBlocked {
		if a, ok := d.maybeRebalanceReplicas(); ok {
			return a
		}
	}
	if a, ok := d.maybeBalanceLeases(); ok {
		return a
	}
	if blocked.Reason == ReasonBlocked {
		return blocked
	}
	return noop(ReasonBalanced, "%d voters on healthy nodes; replica and lease counts within tolerance", len(d.voters))
}

// node returns the snapshot's node id, or an Unknown node if it is missing.
func (d *decider) node(id NodeID) Node {
	if n, ok := d.nodes[id]; ok {
		return n
	}
	return Node{ID: id}
}

// healthy nodes may hold replicas and leases: live and not decommissioning.
func healthy(n Node) bool { return n.Liveness == Live && !n.Decommissioning }

func quorum(voters int) int { return voters/2 + 1 }

func (d *decider) liveVoters(except NodeID) (live, total int) {
	for _, v := range d.voters {
		if v.NodeID == except {
			continue
		}
		total++
		if d.node(v.NodeID).Liveness == Live {
			live++
		}
	}
	return live, total
}

func noop(reason Reason, format string, args ...any) Action {
	return Action{Type: Noop, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

func (d *decider) checkDescriptor() (Action, bool) {
	var dup NodeID
	found := false
	for id, n := range d.onRange {
		if n > 1 && (!found || id < dup) {
			dup, found = id, true
		}
	}
	if found {
		return noop(ReasonInvalid, "descriptor has %d replicas on n%d", d.onRange[dup], dup), true
	}
	if len(d.voters) == 0 {
		return noop(ReasonInvalid, "descriptor has no voter"), true
	}
	return Action{}, false
}

func (d *decider) checkQuorum() (Action, bool) {
	live, total := d.liveVoters(0)
	if live >= quorum(total) {
		return Action{}, false
	}
	return noop(ReasonUnavailable, "%d of %d voters live, quorum needs %d: the range cannot change its configuration",
		live, total, quorum(total)), true
}
