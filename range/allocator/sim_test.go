package allocator

import (
	"fmt"
	"slices"
	"testing"
)

// model is a cluster the tests drive with Decide: each action is applied at
// once, the way a leaseholder applies one change and asks again. Counts are
// recomputed from the ranges, so the snapshot is never stale.
type model struct {
	cfg    Config
	nodes  []Node // liveness and decommissioning; counts come from ranges
	ranges []*Range
	nextID uint64
}

// newModel places n ranges on the first RF of nodes 1..nodes, with leases
// round-robin over them.
func newModel(cfg Config, nodes, ranges int) *model {
	m := &model{cfg: cfg.WithDefaults()}
	for i := 1; i <= nodes; i++ {
		m.nodes = append(m.nodes, Node{ID: NodeID(i), Liveness: Live})
	}
	rf := m.cfg.ReplicationFactor
	for i := range ranges {
		r := &Range{RangeID: uint64(i + 1)}
		for j := 1; j <= rf; j++ {
			m.nextID++
			r.Replicas = append(r.Replicas, Replica{NodeID: NodeID(j), ReplicaID: m.nextID})
		}
		r.Leaseholder = NodeID(i%rf + 1)
		m.ranges = append(m.ranges, r)
	}
	return m
}

func (m *model) node(id NodeID) *Node {
	for i := range m.nodes {
		if m.nodes[i].ID == id {
			return &m.nodes[i]
		}
	}
	panic(fmt.Sprintf("no node %d", id))
}

func (m *model) addNode(id NodeID) { m.nodes = append(m.nodes, Node{ID: id, Liveness: Live}) }

// kill marks id dead and hands its leases to the lowest-id live voter, as
// a Raft election would.
func (m *model) kill(id NodeID) {
	m.node(id).Liveness = Dead
	for _, r := range m.ranges {
		if r.Leaseholder != id {
			continue
		}
		r.Leaseholder = 0
		for _, rep := range r.Replicas {
			if !rep.Learner && m.node(rep.NodeID).Liveness == Live && (r.Leaseholder == 0 || rep.NodeID < r.Leaseholder) {
				r.Leaseholder = rep.NodeID
			}
		}
	}
}

func (m *model) snapshot() []Node {
	ns := slices.Clone(m.nodes)
	idx := map[NodeID]int{}
	for i := range ns {
		ns[i].Replicas, ns[i].Leases = 0, 0
		idx[ns[i].ID] = i
	}
	for _, r := range m.ranges {
		for _, rep := range r.Replicas {
			ns[idx[rep.NodeID]].Replicas++
		}
		if r.Leaseholder != 0 {
			ns[idx[r.Leaseholder]].Leases++
		}
	}
	return ns
}

func (m *model) apply(t *testing.T, r *Range, a Action) {
	t.Helper()
	find := func() int {
		i := slices.IndexFunc(r.Replicas, func(rep Replica) bool { return rep.NodeID == a.Target })
		if i < 0 {
			t.Fatalf("r%d: %v: no replica on n%d", r.RangeID, a, a.Target)
		}
		return i
	}
	switch a.Type {
	case AddLearner:
		m.nextID++
		r.Replicas = append(r.Replicas, Replica{NodeID: a.Target, ReplicaID: m.nextID, Learner: true})
	case PromoteLearner:
		r.Replicas[find()].Learner = false
	case RemoveLearner, RemoveVoter:
		r.Replicas = slices.Delete(r.Replicas, find(), find()+1)
	case TransferLease:
		r.Leaseholder = a.Target
	}
}

// run applies decisions range by range until a whole pass is Noop, and
// fails if that takes more than limit actions (flapping).
func (m *model) run(t *testing.T, limit int) (actions int, counts map[Reason]int) {
	t.Helper()
	counts = map[Reason]int{}
	for {
		changed := false
		for _, r := range m.ranges {
			nodes := m.snapshot()
			a := Decide(*r, nodes, m.cfg)
			checkAction(t, *r, nodes, m.cfg, a)
			if a.Type == Noop {
				continue
			}
			m.apply(t, r, a)
			checkInFlight(t, *r, m.cfg)
			changed = true
			counts[a.Reason]++
			if actions++; actions > limit {
				t.Fatalf("no fixpoint after %d actions; last: r%d %v", limit, r.RangeID, a)
			}
		}
		if !changed {
			return actions, counts
		}
	}
}

// runStale is run with many independent drivers: each pass, every node
// takes one snapshot and decides for the ranges it leads from that view,
// adjusted only by its own actions (Action.ApplyTo), the way leaseholders on
// different nodes act on gossiped counts. Fails after limit passes.
func (m *model) runStale(t *testing.T, limit int) (passes int) {
	t.Helper()
	for passes = 0; passes < limit; passes++ {
		base := m.snapshot()
		views := map[NodeID][]Node{}
		changed := false
		for _, r := range m.ranges {
			lh := r.Leaseholder
			if views[lh] == nil {
				views[lh] = slices.Clone(base)
			}
			a := Decide(*r, views[lh], m.cfg)
			checkAction(t, *r, views[lh], m.cfg, a)
			if a.Type == Noop {
				continue
			}
			if a.Reason == ReasonRebalanceReplicas || a.Reason == ReasonBalanceLeases {
				// Confirm with the real counts of the two nodes involved.
				real := m.snapshot()
				view := views[lh]
				for i := range view {
					if view[i].ID == a.Source || view[i].ID == a.Target {
						view[i] = real[i]
					}
				}
				if b := Decide(*r, view, m.cfg); !sameDecision(a, b) {
					changed = true // it would have acted: not a fixpoint
					continue
				}
			}
			m.apply(t, r, a)
			checkInFlight(t, *r, m.cfg)
			a.ApplyTo(views[lh])
			changed = true
		}
		if !changed {
			return passes
		}
	}
	t.Fatalf("no fixpoint after %d passes with stale views: %s", limit, m.counts())
	return passes
}

func sameDecision(a, b Action) bool {
	a.Detail, b.Detail = "", ""
	return a == b
}

// checkInFlight: at most one change in flight per range.
func checkInFlight(t *testing.T, r Range, cfg Config) {
	t.Helper()
	var voters, learners int
	for _, rep := range r.Replicas {
		if rep.Learner {
			learners++
		} else {
			voters++
		}
	}
	if learners > 1 || (learners > 0 && voters > cfg.ReplicationFactor) {
		t.Fatalf("r%d: %d voters and %d learners: more than one change in flight", r.RangeID, voters, learners)
	}
}

// checkConverged checks the fixpoint: every range at RF on distinct healthy
// nodes with its lease on one of them, nothing on unhealthy nodes, and each
// healthy node's replica and lease counts within tolerance of the mean
// (leases within tolerance+leaseSlack).
func (m *model) checkConverged(t *testing.T, leaseSlack float64) {
	t.Helper()
	nodes := m.snapshot()
	byID := map[NodeID]Node{}
	for _, n := range nodes {
		byID[n.ID] = n
	}
	for _, r := range m.ranges {
		seen := map[NodeID]bool{}
		for _, rep := range r.Replicas {
			if rep.Learner || seen[rep.NodeID] || !healthy(byID[rep.NodeID]) {
				t.Errorf("r%d: replica %+v (learner, duplicate or on an unhealthy node)", r.RangeID, rep)
			}
			seen[rep.NodeID] = true
		}
		if len(r.Replicas) != m.cfg.ReplicationFactor || !seen[r.Leaseholder] {
			t.Errorf("r%d: %d replicas, lease on n%d: %+v", r.RangeID, len(r.Replicas), r.Leaseholder, r.Replicas)
		}
	}
	var healthyNodes []Node
	for _, n := range nodes {
		if healthy(n) {
			healthyNodes = append(healthyNodes, n)
		} else if n.Replicas+n.Leases > 0 {
			t.Errorf("n%d (%s) still has %d replicas and %d leases", n.ID, describe(n), n.Replicas, n.Leases)
		}
	}
	defer func() {
		if t.Failed() {
			t.Logf("RF %d, %s", m.cfg.ReplicationFactor, m.counts())
			for _, r := range m.ranges {
				t.Logf("r%d: lease n%d, %+v", r.RangeID, r.Leaseholder, r.Replicas)
			}
		}
	}()
	rmean := float64(len(m.ranges)*m.cfg.ReplicationFactor) / float64(len(healthyNodes))
	lmean := float64(len(m.ranges)) / float64(len(healthyNodes))
	rtol, ltol := m.cfg.ReplicaTolerance.Around(rmean), m.cfg.LeaseTolerance.Around(lmean)
	for _, n := range healthyNodes {
		// The same comparisons as worthMoving, so rounding agrees.
		if float64(n.Replicas) > rmean+rtol || float64(n.Replicas) < rmean-rtol {
			t.Errorf("n%d has %d replicas; mean %.1f ± %.1f", n.ID, n.Replicas, rmean, rtol)
		}
		if float64(n.Leases) > lmean+ltol+leaseSlack || float64(n.Leases) < lmean-ltol-leaseSlack {
			t.Errorf("n%d has %d leases; mean %.1f ± %.1f", n.ID, n.Leases, lmean, ltol)
		}
	}
}

func (m *model) counts() string {
	s := ""
	for _, n := range m.snapshot() {
		s += fmt.Sprintf(" n%d:%d/%d", n.ID, n.Replicas, n.Leases)
	}
	return "replicas/leases" + s
}

func TestSimulateGrow3To5(t *testing.T) {
	for _, ranges := range []int{1, 2, 10, 30, 100} {
		t.Run(fmt.Sprint(ranges, " ranges"), func(t *testing.T) {
			m := newModel(Config{}, 3, ranges)
			m.run(t, 0) // balanced already: no action at all
			m.addNode(4)
			m.addNode(5)
			n, reasons := m.run(t, 20*ranges)
			t.Logf("%d actions %v; %s", n, reasons, m.counts())
			m.checkConverged(t, 0)
			if again, _ := m.run(t, 0); again != 0 {
				t.Fatalf("%d more actions after the fixpoint", again)
			}
		})
	}
}

// TestSimulateGrowStaleViews grows 3 → 5 nodes with leaseholders acting on
// per-pass snapshots (see runStale): without ApplyTo every range would move
// to the same empty node at once and flap.
func TestSimulateGrowStaleViews(t *testing.T) {
	m := newModel(Config{}, 3, 30)
	m.addNode(4)
	m.addNode(5)
	passes := m.runStale(t, 200)
	t.Logf("%d passes; %s", passes, m.counts())
	m.checkConverged(t, 0)
}

func TestActionApplyTo(t *testing.T) {
	nodes := []Node{live(1, 5, 2), live(2, 5, 2), live(3, 5, 2)}
	for _, a := range []Action{
		{Type: AddLearner, Target: 1, Source: 3}, {Type: PromoteLearner, Target: 1},
		{Type: RemoveVoter, Target: 3}, {Type: RemoveLearner, Target: 2},
		{Type: TransferLease, Target: 2, Source: 3}, {Type: Noop},
	} {
		a.ApplyTo(nodes)
	}
	want := []Node{live(1, 6, 2), live(2, 4, 3), live(3, 3, 1)}
	if !slices.Equal(nodes, want) {
		t.Fatalf("got %+v, want %+v", nodes, want)
	}
}

func TestSimulateDeadNode(t *testing.T) {
	m := newModel(Config{}, 3, 30)
	m.addNode(4)
	m.addNode(5)
	m.run(t, 600)
	m.node(3).Liveness = Suspect
	if n, _ := m.run(t, 600); n != 0 {
		// Leases may move off nothing here: a suspect voter is not replaced
		// and receives no lease, and balance is unchanged.
		t.Fatalf("%d actions while n3 is only suspect", n)
	}
	m.kill(3)
	n, reasons := m.run(t, 600)
	t.Logf("%d actions %v; %s", n, reasons, m.counts())
	if reasons[ReasonReplaceDead] == 0 || reasons[ReasonRemoveDead] != reasons[ReasonReplaceDead] {
		t.Errorf("want each dead replica replaced and then removed: %v", reasons)
	}
	m.checkConverged(t, 0)
}

func TestSimulateDecommission(t *testing.T) {
	m := newModel(Config{}, 3, 30)
	m.addNode(4)
	m.addNode(5)
	m.run(t, 600)
	m.node(2).Decommissioning = true
	n, reasons := m.run(t, 600)
	t.Logf("decommission: %d actions %v; %s", n, reasons, m.counts())
	m.checkConverged(t, 0)

	m.node(2).Decommissioning = false // recommission: load comes back
	n, reasons = m.run(t, 600)
	t.Logf("recommission: %d actions %v; %s", n, reasons, m.counts())
	m.checkConverged(t, 0)
}

func TestSimulateDecommissionBlockedAt3Nodes(t *testing.T) {
	m := newModel(Config{}, 3, 12)
	m.node(3).Decommissioning = true
	n, reasons := m.run(t, 100)
	if n != reasons[ReasonDrainLease] {
		t.Fatalf("only leases may move off n3 when no node can take its replicas: %v", reasons)
	}
	if got := m.snapshot()[2]; got.Replicas != 12 || got.Leases != 0 {
		t.Fatalf("n3: %+v", got)
	}
	for _, r := range m.ranges {
		if a := Decide(*r, m.snapshot(), m.cfg); a.Reason != ReasonBlocked {
			t.Fatalf("r%d: %v, want blocked", r.RangeID, a)
		}
	}
}

func TestSimulateReplicationFactorChange(t *testing.T) {
	m := newModel(Config{}, 3, 20)
	for i := NodeID(4); i <= 7; i++ {
		m.addNode(i)
	}
	m.run(t, 1000)
	m.cfg.ReplicationFactor = 5
	m.run(t, 1000)
	m.checkConverged(t, 0)
	m.cfg.ReplicationFactor = 3
	m.run(t, 1000)
	m.checkConverged(t, 0)
}
