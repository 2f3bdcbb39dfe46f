package allocator

import "fmt"

// bestLeaseTarget is the voter on a healthy node other than except with the
// fewest leases (lowest id on ties). Learners never get the lease.
func (d *decider) bestLeaseTarget(except NodeID) (Replica, bool) {
	var best Replica
	found := false
	for _, v := range d.voters {
		n := d.node(v.NodeID)
		if v.NodeID == except || !healthy(n) {
			continue
		}
		if !found || n.Leases < d.node(best.NodeID).Leases {
			best, found = v, true
		}
	}
	return best, found
}

// leaseholderVoter reports whether the lease is known and held by a voter.
func (d *decider) leaseholderVoter() bool {
	if d.r.Leaseholder == 0 {
		return false
	}
	for _, v := range d.voters {
		if v.NodeID == d.r.Leaseholder {
			return true
		}
	}
	return false
}

// maybeDrainLease moves the lease off a decommissioning node (rule 7).
func (d *decider) maybeDrainLease() (Action, bool) {
	if !d.leaseholderVoter() || !d.node(d.r.Leaseholder).Decommissioning {
		return Action{}, false
	}
	t, ok := d.bestLeaseTarget(d.r.Leaseholder)
	if !ok {
		return Action{}, false
	}
	return d.leaseAction(t, ReasonDrainLease, "n%d is decommissioning", d.r.Leaseholder), true
}

// maybeBalanceLeases moves the lease for balance (rule 9).
func (d *decider) maybeBalanceLeases() (Action, bool) {
	if d.cfg.DisableLeaseRebalancing || !d.leaseholderVoter() {
		return Action{}, false
	}
	t, ok := d.bestLeaseTarget(d.r.Leaseholder)
	if !ok {
		return Action{}, false
	}
	from, to := d.node(d.r.Leaseholder).Leases, d.node(t.NodeID).Leases
	mean, tol := d.leaseMean, d.cfg.LeaseTolerance.Around(d.leaseMean)
	if !worthMoving(from, to, mean, tol) {
		return Action{}, false
	}
	return d.leaseAction(t, ReasonBalanceLeases, "n%d has %d leases, n%d has %d; mean %.1f ± %.1f",
		d.r.Leaseholder, from, t.NodeID, to, mean, tol), true
}

func (d *decider) leaseAction(t Replica, reason Reason, format string, args ...any) Action {
	return Action{Type: TransferLease, Target: t.NodeID, ReplicaID: t.ReplicaID, Source: d.r.Leaseholder,
		Reason: reason, Detail: fmt.Sprintf(format, args...)}
}
