package allocator

import (
	"flag"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed for TestDecideProperties (0: from the clock)")

// checkAction checks the invariants every action must keep (doc.go).
func checkAction(t *testing.T, r Range, nodes []Node, cfg Config, a Action) {
	t.Helper()
	cfg = cfg.WithDefaults()
	byID := map[NodeID]Node{}
	for _, n := range nodes {
		if _, ok := byID[n.ID]; !ok {
			byID[n.ID] = n
		}
	}
	var voters, learners []Replica
	onRange := map[NodeID]int{}
	for _, rep := range r.Replicas {
		onRange[rep.NodeID]++
		if rep.Learner {
			learners = append(learners, rep)
		} else {
			voters = append(voters, rep)
		}
	}
	live := func(vs []Replica) (n int) {
		for _, v := range vs {
			if byID[v.NodeID].Liveness == Live {
				n++
			}
		}
		return n
	}
	find := func(vs []Replica) (Replica, bool) {
		i := slices.IndexFunc(vs, func(v Replica) bool { return v.NodeID == a.Target })
		if i < 0 {
			return Replica{}, false
		}
		return vs[i], true
	}
	fail := func(why string) {
		t.Helper()
		t.Fatalf("%s\nrange %+v\nnodes %+v\ncfg %+v\naction %v", why, r, nodes, cfg, a)
	}
	for _, n := range onRange {
		if n > 1 && a.Type != Noop {
			fail("acted on a descriptor with two replicas on one node")
		}
	}
	available := len(voters) > 0 && live(voters) >= quorum(len(voters))
	if !available && a.Type != Noop {
		fail("acted on a range without a live quorum")
	}
	if a.Type != Noop && a.Detail == "" {
		fail("no detail")
	}
	n := byID[a.Target]
	switch a.Type {
	case Noop:
		if a.Target != 0 {
			fail("noop with a target")
		}
	case AddLearner:
		if onRange[a.Target] > 0 {
			fail("added a replica on a node that has one: replicas must be on distinct nodes")
		}
		if !healthy(n) || n.Fullness >= cfg.MaxFullness {
			fail("added a replica on a node that is not live, is decommissioning or is full")
		}
		if len(learners) > 0 || len(voters) > cfg.ReplicationFactor {
			fail("started a second change while one is in flight")
		}
	case PromoteLearner:
		l, ok := find(learners)
		if !ok || l.ReplicaID != a.ReplicaID {
			fail("promoted something that is not a learner")
		}
		if !healthy(n) {
			fail("promoted a learner on an unhealthy node")
		}
	case RemoveLearner:
		if l, ok := find(learners); !ok || l.ReplicaID != a.ReplicaID {
			fail("removed a learner that is not there")
		}
	case RemoveVoter:
		v, ok := find(voters)
		if !ok || v.ReplicaID != a.ReplicaID {
			fail("removed a voter that is not there")
		}
		if a.Target == r.Leaseholder {
			fail("removed the leaseholder's replica")
		}
		if len(voters) <= cfg.ReplicationFactor {
			fail("removed a voter from a range not above its replication factor (add before remove)")
		}
		rest := slices.DeleteFunc(slices.Clone(voters), func(x Replica) bool { return x.NodeID == a.Target })
		if live(rest) < quorum(len(rest)) {
			fail("removal leaves live voters below a quorum")
		}
	case TransferLease:
		v, ok := find(voters)
		if !ok || v.ReplicaID != a.ReplicaID {
			fail("lease to a node without a voter (a learner or nothing)")
		}
		if !healthy(n) {
			fail("lease to a node that is not live or is decommissioning")
		}
		if a.Target == r.Leaseholder || a.Source != r.Leaseholder {
			fail("lease transfer to or from the wrong node")
		}
	default:
		fail("unknown action type")
	}
}

func randomCase(rnd *rand.Rand) (Range, []Node, Config) {
	cfg := Config{ReplicationFactor: 1 + rnd.IntN(5)}
	if rnd.IntN(2) == 0 {
		cfg.ReplicaTolerance = Tolerance{Fraction: rnd.Float64() * 0.3, Min: rnd.Float64() * 3}
		cfg.LeaseTolerance = Tolerance{Fraction: rnd.Float64() * 0.3, Min: rnd.Float64() * 3}
	}
	numNodes := 1 + rnd.IntN(9)
	var nodes []Node
	for i := 1; i <= numNodes; i++ {
		if rnd.IntN(20) == 0 {
			continue // missing from the snapshot
		}
		n := Node{ID: NodeID(i), Replicas: rnd.IntN(40), Leases: rnd.IntN(15)}
		switch x := rnd.IntN(10); {
		case x < 6:
			n.Liveness = Live
		case x < 7:
			n.Liveness = Suspect
		case x < 9:
			n.Liveness = Dead
		}
		n.Decommissioning = rnd.IntN(7) == 0
		if rnd.IntN(8) == 0 {
			n.Fullness = 0.95 + rnd.Float64()*0.05
		} else {
			n.Fullness = rnd.Float64() * 0.9
		}
		nodes = append(nodes, n)
	}
	r := Range{RangeID: 1}
	perm := rnd.Perm(numNodes + 1)
	size := 1 + rnd.IntN(min(6, numNodes+1))
	for i, p := range perm[:size] {
		r.Replicas = append(r.Replicas, Replica{NodeID: NodeID(p + 1), ReplicaID: uint64(10 + i), Learner: rnd.IntN(5) == 0})
	}
	if rnd.IntN(50) == 0 && len(r.Replicas) > 1 {
		r.Replicas[1].NodeID = r.Replicas[0].NodeID // invalid descriptor
	}
	if rnd.IntN(10) > 0 {
		r.Leaseholder = r.Replicas[rnd.IntN(len(r.Replicas))].NodeID
		if i := slices.IndexFunc(r.Replicas, func(x Replica) bool { return x.NodeID == r.Leaseholder }); r.Replicas[i].Learner {
			r.Replicas[i].Learner = false // the leader is a voter
		}
	}
	return r, nodes, cfg
}

// TestDecideProperties checks every action's invariants over random
// clusters, and that the decision does not depend on the order of the
// snapshot's nodes and replicas. A failure prints its seed; rerun with
// -seed=N.
func TestDecideProperties(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0))
	iterations := 50000
	if testing.Short() {
		iterations = 5000
	}
	seen := map[ActionType]int{}
	for range iterations {
		r, nodes, cfg := randomCase(rnd)
		a := Decide(r, nodes, cfg)
		seen[a.Type]++
		checkAction(t, r, nodes, cfg, a)

		r2 := Range{RangeID: r.RangeID, Leaseholder: r.Leaseholder, Replicas: slices.Clone(r.Replicas)}
		nodes2 := slices.Clone(nodes)
		rnd.Shuffle(len(r2.Replicas), func(i, j int) { r2.Replicas[i], r2.Replicas[j] = r2.Replicas[j], r2.Replicas[i] })
		rnd.Shuffle(len(nodes2), func(i, j int) { nodes2[i], nodes2[j] = nodes2[j], nodes2[i] })
		if b := Decide(r2, nodes2, cfg); b != a {
			t.Fatalf("seed %d: order changed the decision: %v vs %v", seed, a, b)
		}
	}
	t.Logf("actions: %v", seen)
	for typ := Noop; typ <= TransferLease; typ++ {
		if seen[typ] == 0 {
			t.Errorf("the generator never produced %v: widen it", typ)
		}
	}
}

// leaseSlack loosens the lease check of random clusters. A lease moves only
// between voters of its range and only when that lowers the sum of squared
// counts, so with few leases per node the walk can stop at a local optimum:
// the node below the mean is not a voter of any range whose leaseholder has
// two more leases than it, and fixing that takes a chain of transfers each
// of which alone changes nothing (swapping two counts). Allowing such
// transfers would let decisions cycle; TestSimulateGrow3To5 holds leases to
// the tolerance exactly.
const leaseSlack = 1

// TestSimulateRandomClusters drives random clusters (nodes joining, dying,
// decommissioning) to a fixpoint, checking every action on the way.
func TestSimulateRandomClusters(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))
	for iter := range 30 {
		rf := 1 + 2*rnd.IntN(3) // 1, 3, 5
		m := newModel(Config{ReplicationFactor: rf}, rf, 5+rnd.IntN(40))
		for i := rf + 1; i <= rf+1+rnd.IntN(5); i++ {
			m.addNode(NodeID(i))
		}
		stale := rnd.IntN(2) == 0
		run := func() {
			if stale {
				m.runStale(t, 500)
			} else {
				m.run(t, 5000)
			}
		}
		run()
		m.checkConverged(t, leaseSlack)
		// Fail or drain one node if the rest can hold RF replicas.
		if len(m.nodes) > rf && rf > 1 {
			victim := NodeID(1 + rnd.IntN(len(m.nodes)))
			if rnd.IntN(2) == 0 {
				m.kill(victim)
			} else {
				m.node(victim).Decommissioning = true
			}
			run()
			if t.Failed() {
				t.Fatalf("seed %d iteration %d", seed, iter)
			}
			m.checkConverged(t, leaseSlack)
		}
		if t.Failed() {
			t.Fatalf("seed %d iteration %d", seed, iter)
		}
	}
}
