package allocator

import (
	"cmp"
	"fmt"
	"slices"
)

// handleLearners finishes or abandons a learner (rule 3).
func (d *decider) handleLearners() (Action, bool) {
	for _, l := range d.learners {
		if n := d.node(l.NodeID); !healthy(n) {
			return d.replicaAction(RemoveLearner, l, ReasonStaleLearner,
				"learner on n%d, which is %s", l.NodeID, describe(n)), true
		}
	}
	if len(d.learners) == 0 {
		return Action{}, false
	}
	l := d.learners[0]
	if len(d.voters) > d.cfg.ReplicationFactor {
		return d.replicaAction(RemoveLearner, l, ReasonStaleLearner,
			"range already has %d voters for replication factor %d", len(d.voters), d.cfg.ReplicationFactor), true
	}
	return d.replicaAction(PromoteLearner, l, ReasonFinishAdd,
		"learner on n%d makes %d voters", l.NodeID, len(d.voters)+1), true
}

// repair restores the replication factor on healthy nodes (rules 4–6). It
// returns ok=false with a Noop whose Reason is ReasonBlocked when a repair is
// needed but not possible, or the zero Action when none is needed.
func (d *decider) repair() (Action, bool) {
	rf := d.cfg.ReplicationFactor
	if len(d.voters) < rf {
		return d.add(ReasonUnderReplicated, 0, fmt.Sprintf("%d of %d voters", len(d.voters), rf))
	}
	if bad, why, ok := d.unhealthyVoter(); ok {
		if len(d.voters) <= rf {
			reason := ReasonReplaceDead
			if why == ReasonRemoveDecommissioning {
				reason = ReasonReplaceDecommissioning
			}
			return d.add(reason, bad.NodeID, fmt.Sprintf("replace n%d (%s)", bad.NodeID, describe(d.node(bad.NodeID))))
		}
		return d.remove(bad, why, fmt.Sprintf("n%d is %s and its replacement is a voter", bad.NodeID, describe(d.node(bad.NodeID))))
	}
	if len(d.voters) > rf {
		v := d.extraVoter()
		return d.remove(v, ReasonOverReplicated, fmt.Sprintf("%d voters for replication factor %d; n%d is %s with %d replicas",
			len(d.voters), rf, v.NodeID, describe(d.node(v.NodeID)), d.node(v.NodeID).Replicas))
	}
	return Action{}, false
}

// unhealthyVoter returns the voter to replace: on a dead node first, then on
// a decommissioning one, lowest node id first.
func (d *decider) unhealthyVoter() (Replica, Reason, bool) {
	for _, v := range d.voters {
		if d.node(v.NodeID).Liveness == Dead {
			return v, ReasonRemoveDead, true
		}
	}
	for _, v := range d.voters {
		if d.node(v.NodeID).Decommissioning {
			return v, ReasonRemoveDecommissioning, true
		}
	}
	return Replica{}, 0, false
}

// extraVoter picks the voter to drop from an over-replicated range: a
// non-live node first, then not the newest replica (the highest replica id:
// the target of the move that made the range over-replicated, so a move
// finishes as it was meant even when counts have changed since), then the
// most replicas, then not the leaseholder, then the lowest node id.
func (d *decider) extraVoter() Replica {
	var newest uint64
	for _, v := range d.voters {
		newest = max(newest, v.ReplicaID)
	}
	return slices.MinFunc(d.voters, func(a, b Replica) int {
		na, nb := d.node(a.NodeID), d.node(b.NodeID)
		return cmp.Or(
			cmp.Compare(b2i(na.Liveness == Live), b2i(nb.Liveness == Live)),
			cmp.Compare(b2i(a.ReplicaID == newest), b2i(b.ReplicaID == newest)),
			cmp.Compare(nb.Replicas, na.Replicas),
			cmp.Compare(b2i(a.NodeID == d.r.Leaseholder), b2i(b.NodeID == d.r.Leaseholder)),
			cmp.Compare(a.NodeID, b.NodeID),
		)
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// add returns AddLearner on the best target, or a blocked Noop.
func (d *decider) add(reason Reason, source NodeID, why string) (Action, bool) {
	t, ok := d.bestTarget()
	if !ok {
		return noop(ReasonBlocked, "%s: %s, but no healthy node without a replica of this range has room", reason, why), false
	}
	return Action{Type: AddLearner, Target: t.ID, Source: source, Reason: reason,
		Detail: fmt.Sprintf("%s; n%d has %d replicas", why, t.ID, t.Replicas)}, true
}

// remove returns RemoveVoter for v if the quorum rule allows it; a lease
// transfer first if v holds the lease; or a blocked Noop.
func (d *decider) remove(v Replica, reason Reason, why string) (Action, bool) {
	live, total := d.liveVoters(v.NodeID)
	if live < quorum(total) {
		return noop(ReasonBlocked, "%s: %s, but removing it would leave %d of %d voters live, below quorum %d",
			reason, why, live, total, quorum(total)), false
	}
	if v.NodeID == d.r.Leaseholder {
		t, ok := d.bestLeaseTarget(v.NodeID)
		if !ok {
			return noop(ReasonBlocked, "%s: %s, but it holds the lease and no other healthy voter can take it", reason, why), false
		}
		return d.leaseAction(t, ReasonLeaseBeforeRemove, "n%d holds the lease and is to be removed (%s)", v.NodeID, reason), true
	}
	return d.replicaAction(RemoveVoter, v, reason, "%s", why), true
}

// bestTarget is the healthy, not-full node with no replica of the range and
// the fewest replicas (lowest id on ties).
func (d *decider) bestTarget() (Node, bool) {
	var best Node
	found := false
	for _, n := range d.all {
		if !healthy(n) || n.Fullness >= d.cfg.MaxFullness || d.onRange[n.ID] > 0 {
			continue
		}
		if !found || n.Replicas < best.Replicas {
			best, found = n, true
		}
	}
	return best, found
}

// maybeRebalanceReplicas starts a move (rule 8) when the range is stable.
func (d *decider) maybeRebalanceReplicas() (Action, bool) {
	if d.cfg.DisableReplicaRebalancing || len(d.voters) != d.cfg.ReplicationFactor || len(d.learners) > 0 {
		return Action{}, false
	}
	for _, v := range d.voters {
		if !healthy(d.node(v.NodeID)) {
			return Action{}, false
		}
	}
	src := d.fullestVoter()
	t, ok := d.bestTarget()
	if !ok {
		return Action{}, false
	}
	s := d.node(src.NodeID)
	mean, tol := d.replicaMean, d.cfg.ReplicaTolerance.Around(d.replicaMean)
	if !worthMoving(s.Replicas, t.Replicas, mean, tol) {
		return Action{}, false
	}
	return Action{Type: AddLearner, Target: t.ID, Source: s.ID, Reason: ReasonRebalanceReplicas,
		Detail: fmt.Sprintf("move a replica from n%d (%d replicas) to n%d (%d); mean %.1f ± %.1f",
			s.ID, s.Replicas, t.ID, t.Replicas, mean, tol)}, true
}

// fullestVoter is the voter on the node with the most replicas, preferring
// a non-leaseholder, then the lowest id.
func (d *decider) fullestVoter() Replica {
	return slices.MinFunc(d.voters, func(a, b Replica) int {
		return cmp.Or(
			cmp.Compare(d.node(b.NodeID).Replicas, d.node(a.NodeID).Replicas),
			cmp.Compare(b2i(a.NodeID == d.r.Leaseholder), b2i(b.NodeID == d.r.Leaseholder)),
			cmp.Compare(a.NodeID, b.NodeID),
		)
	})
}

// worthMoving reports whether moving one unit from a node with count from to
// one with count to improves balance: the source is above mean+tol or the
// target below mean−tol, and the difference is at least 2, so the move
// strictly lowers the sum of squared counts and cannot be undone by the next
// decision.
func worthMoving(from, to int, mean, tol float64) bool {
	if from-to < 2 {
		return false
	}
	return float64(from) > mean+tol || float64(to) < mean-tol
}

func (d *decider) replicaAction(t ActionType, rep Replica, reason Reason, format string, args ...any) Action {
	return Action{Type: t, Target: rep.NodeID, ReplicaID: rep.ReplicaID, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

func describe(n Node) string {
	s := n.Liveness.String()
	if n.Decommissioning {
		s += ", decommissioning"
	}
	return s
}
