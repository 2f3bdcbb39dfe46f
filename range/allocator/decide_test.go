package allocator

import "testing"

// Helpers that keep the tables short. A replica's id is its node id.

func live(id NodeID, replicas, leases int) Node {
	return Node{ID: id, Liveness: Live, Replicas: replicas, Leases: leases}
}

func withLiveness(n Node, l Liveness) Node { n.Liveness = l; return n }

func decommissioning(n Node) Node { n.Decommissioning = true; return n }

func full(n Node) Node { n.Fullness = 0.99; return n }

func rng(leaseholder NodeID, voters []NodeID, learners ...NodeID) Range {
	r := Range{RangeID: 1, Leaseholder: leaseholder}
	for _, id := range voters {
		r.Replicas = append(r.Replicas, Replica{NodeID: id, ReplicaID: uint64(id)})
	}
	for _, id := range learners {
		r.Replicas = append(r.Replicas, Replica{NodeID: id, ReplicaID: uint64(id), Learner: true})
	}
	return r
}

func ids(ids ...NodeID) []NodeID { return ids }

// equalNodes returns n live nodes 1..n with the same counts.
func equalNodes(n, replicas, leases int) []Node {
	var ns []Node
	for i := 1; i <= n; i++ {
		ns = append(ns, live(NodeID(i), replicas, leases))
	}
	return ns
}

func TestDecide(t *testing.T) {
	type want struct {
		typ    ActionType
		target NodeID
		source NodeID
		reason Reason
	}
	tests := []struct {
		name  string
		r     Range
		nodes []Node
		cfg   Config
		want  want
	}{
		// Repair: under-replication.
		{"under-replicated: 3 nodes, RF 3, one replica missing",
			rng(1, ids(1, 2)), equalNodes(3, 10, 3), Config{},
			want{AddLearner, 3, 0, ReasonUnderReplicated}},
		{"under-replicated: fewest replicas wins, lowest id on ties",
			rng(1, ids(1, 2)), []Node{live(1, 9, 3), live(2, 9, 3), live(3, 4, 3), live(4, 9, 3), live(5, 4, 3)}, Config{},
			want{AddLearner, 3, 0, ReasonUnderReplicated}},
		{"under-replicated: never on a dead, suspect, unknown-liveness, decommissioning or full node",
			rng(1, ids(1, 2)), []Node{live(1, 9, 3), live(2, 9, 3), withLiveness(live(3, 0, 0), Dead),
				withLiveness(live(4, 0, 0), Suspect), withLiveness(live(5, 0, 0), Unknown),
				decommissioning(live(6, 0, 0)), full(live(7, 0, 0)), live(8, 50, 3)}, Config{},
			want{AddLearner, 8, 0, ReasonUnderReplicated}},
		{"under-replicated with no target is blocked",
			rng(1, ids(1, 2)), []Node{live(1, 9, 3), live(2, 9, 3), withLiveness(live(3, 0, 0), Dead)}, Config{},
			want{Noop, 0, 0, ReasonBlocked}},
		{"RF 5 on 5 nodes adds up to 5",
			rng(1, ids(1, 2, 3)), equalNodes(5, 10, 2), Config{ReplicationFactor: 5},
			want{AddLearner, 4, 0, ReasonUnderReplicated}},

		// Learners.
		{"learner left by an add is promoted",
			rng(1, ids(1, 2), 3), equalNodes(3, 10, 3), Config{},
			want{PromoteLearner, 3, 0, ReasonFinishAdd}},
		{"learner of a move in flight (RF voters) is promoted",
			rng(1, ids(1, 2, 3), 4), equalNodes(4, 10, 3), Config{},
			want{PromoteLearner, 4, 0, ReasonFinishAdd}},
		{"learner on a dead node is removed",
			rng(1, ids(1, 2), 3), []Node{live(1, 9, 3), live(2, 9, 3), withLiveness(live(3, 9, 3), Dead), live(4, 9, 3)}, Config{},
			want{RemoveLearner, 3, 0, ReasonStaleLearner}},
		{"learner on a decommissioning node is removed",
			rng(1, ids(1, 2, 3), 4), []Node{live(1, 9, 3), live(2, 9, 3), live(3, 9, 3), decommissioning(live(4, 9, 3))}, Config{},
			want{RemoveLearner, 4, 0, ReasonStaleLearner}},
		{"learner left behind a crash when the range already has RF+1 voters is removed",
			rng(1, ids(1, 2, 3, 4), 5), equalNodes(5, 10, 3), Config{},
			want{RemoveLearner, 5, 0, ReasonStaleLearner}},

		// Repair: dead nodes, add before remove.
		{"RF 3, one voter dead: add a replacement before removing anything",
			rng(1, ids(1, 2, 3)), []Node{live(1, 9, 3), live(2, 9, 3), withLiveness(live(3, 9, 3), Dead), live(4, 9, 3)}, Config{},
			want{AddLearner, 4, 3, ReasonReplaceDead}},
		{"RF 3, one voter dead, replacement promoted: remove the dead voter",
			rng(1, ids(1, 2, 3, 4)), []Node{live(1, 9, 3), live(2, 9, 3), withLiveness(live(3, 9, 3), Dead), live(4, 9, 3)}, Config{},
			want{RemoveVoter, 3, 0, ReasonRemoveDead}},
		{"RF 3, one voter dead, no replacement possible: blocked, the dead voter stays",
			rng(1, ids(1, 2, 3)), []Node{live(1, 9, 3), live(2, 9, 3), withLiveness(live(3, 9, 3), Dead)}, Config{},
			want{Noop, 0, 0, ReasonBlocked}},
		{"dead is replaced before decommissioning",
			rng(1, ids(1, 2, 3, 4)), []Node{live(1, 9, 3), decommissioning(live(2, 9, 3)), withLiveness(live(3, 9, 3), Dead), live(4, 9, 3)}, Config{},
			want{RemoveVoter, 3, 0, ReasonRemoveDead}},
		{"a suspect voter is not replaced yet",
			rng(1, ids(1, 2, 3)), []Node{live(1, 9, 3), live(2, 9, 3), withLiveness(live(3, 9, 3), Suspect), live(4, 0, 0)}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},
		{"a voter on a node missing from the snapshot is not replaced",
			rng(1, ids(1, 2, 9)), []Node{live(1, 9, 3), live(2, 9, 3), live(4, 0, 0)}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},

		// Quorum safety.
		{"2 of 3 voters dead: unavailable, nothing is removed or added",
			rng(1, ids(1, 2, 3)), []Node{live(1, 9, 3), withLiveness(live(2, 9, 3), Dead), withLiveness(live(3, 9, 3), Dead), live(4, 0, 0), live(5, 0, 0)}, Config{},
			want{Noop, 0, 0, ReasonUnavailable}},
		{"2 of 4 voters dead, RF 3: unavailable (quorum of 4 is 3)",
			rng(1, ids(1, 2, 3, 4)), []Node{live(1, 9, 3), withLiveness(live(2, 9, 3), Dead), withLiveness(live(3, 9, 3), Dead), live(4, 9, 3), live(5, 0, 0)}, Config{},
			want{Noop, 0, 0, ReasonUnavailable}},
		{"removing a live decommissioning voter would leave 2 of 4 live: blocked",
			rng(1, ids(1, 2, 3, 4, 5)), []Node{live(1, 9, 3), withLiveness(live(2, 9, 3), Suspect), decommissioning(live(3, 9, 3)),
				live(4, 9, 3), withLiveness(live(5, 9, 3), Suspect)}, Config{},
			want{Noop, 0, 0, ReasonBlocked}},

		// Decommissioning.
		{"decommissioning voter: add a replacement first",
			rng(1, ids(1, 2, 3)), []Node{live(1, 9, 3), live(2, 9, 3), decommissioning(live(3, 9, 3)), live(4, 9, 3)}, Config{},
			want{AddLearner, 4, 3, ReasonReplaceDecommissioning}},
		{"decommissioning voter, replacement a voter: remove it",
			rng(1, ids(1, 2, 3, 4)), []Node{live(1, 9, 3), live(2, 9, 3), decommissioning(live(3, 9, 3)), live(4, 9, 3)}, Config{},
			want{RemoveVoter, 3, 0, ReasonRemoveDecommissioning}},
		{"decommissioning leaseholder to be removed: move the lease first, to the fewest leases",
			rng(3, ids(1, 2, 3, 4)), []Node{live(1, 9, 5), live(2, 9, 2), decommissioning(live(3, 9, 3)), live(4, 9, 2)}, Config{},
			want{TransferLease, 2, 3, ReasonLeaseBeforeRemove}},
		{"decommissioning in a 3-node cluster: replicas stay (blocked) but the lease is drained",
			rng(3, ids(1, 2, 3)), []Node{live(1, 9, 5), live(2, 9, 2), decommissioning(live(3, 9, 3))}, Config{},
			want{TransferLease, 2, 3, ReasonDrainLease}},

		// Over-replication.
		{"over-replicated: remove from the node with most replicas",
			rng(1, ids(1, 2, 3, 4)), []Node{live(1, 9, 3), live(2, 12, 3), live(3, 9, 3), live(4, 11, 3)}, Config{},
			want{RemoveVoter, 2, 0, ReasonOverReplicated}},
		{"over-replicated: a suspect voter goes first",
			rng(1, ids(1, 2, 3, 4)), []Node{live(1, 9, 3), live(2, 12, 3), withLiveness(live(3, 1, 3), Suspect), live(4, 11, 3)}, Config{},
			want{RemoveVoter, 3, 0, ReasonOverReplicated}},
		{"over-replicated: ties spare the leaseholder",
			rng(1, ids(1, 2, 3, 4)), equalNodes(4, 10, 3), Config{},
			want{RemoveVoter, 2, 0, ReasonOverReplicated}},
		{"over-replicated and the leaseholder is fullest: transfer the lease first",
			rng(2, ids(1, 2, 3, 4)), []Node{live(1, 9, 3), live(2, 12, 3), live(3, 9, 1), live(4, 11, 3)}, Config{},
			want{TransferLease, 3, 2, ReasonLeaseBeforeRemove}},
		{"RF lowered to 1",
			rng(1, ids(1, 2, 3)), equalNodes(3, 10, 3), Config{ReplicationFactor: 1},
			want{RemoveVoter, 2, 0, ReasonOverReplicated}},

		// Replica rebalancing.
		{"new empty node: move a replica to it from the fullest non-leaseholder",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 4), live(2, 10, 3), live(3, 10, 3), live(4, 0, 0)}, Config{},
			want{AddLearner, 4, 2, ReasonRebalanceReplicas}},
		{"within tolerance: no move",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 3), live(2, 10, 3), live(3, 10, 3), live(4, 9, 3)}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},
		{"a difference of one never moves, even outside the tolerance",
			rng(1, ids(1, 2, 3)), []Node{live(1, 4, 1), live(2, 4, 1), live(3, 4, 1), live(4, 3, 1)}, Config{ReplicaTolerance: Tolerance{Fraction: 0.01, Min: 0.01}},
			want{Noop, 0, 0, ReasonBalanced}},
		{"no rebalance off a range with a suspect voter",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 3), live(2, 10, 3), withLiveness(live(3, 10, 3), Suspect), live(4, 0, 0)}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},
		{"no rebalance to a full node",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 3), live(2, 10, 3), live(3, 10, 3), full(live(4, 0, 0))}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},
		{"replica rebalancing disabled",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 3), live(2, 10, 3), live(3, 10, 3), live(4, 0, 0)}, Config{DisableReplicaRebalancing: true},
			want{Noop, 0, 0, ReasonBalanced}},

		// Lease balancing.
		{"lease moves to the voter with fewest leases",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 9), live(2, 10, 2), live(3, 10, 4)}, Config{},
			want{TransferLease, 2, 1, ReasonBalanceLeases}},
		{"lease never goes to a suspect voter",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 10), live(2, 10, 9), withLiveness(live(3, 10, 0), Suspect), live(4, 0, 5)}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},
		{"lease never goes to a decommissioning voter",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 10), live(2, 10, 9), decommissioning(live(3, 10, 0))}, Config{},
			want{Noop, 0, 0, ReasonBlocked}},
		{"leases within tolerance stay",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 4), live(2, 10, 3), live(3, 10, 3)}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},
		{"lease rebalancing disabled",
			rng(1, ids(1, 2, 3)), []Node{live(1, 10, 9), live(2, 10, 2), live(3, 10, 4)}, Config{DisableLeaseRebalancing: true},
			want{Noop, 0, 0, ReasonBalanced}},
		{"unknown leaseholder: no lease action",
			rng(0, ids(1, 2, 3)), []Node{live(1, 10, 9), live(2, 10, 2), live(3, 10, 4)}, Config{},
			want{Noop, 0, 0, ReasonBalanced}},

		// Bad input.
		{"two replicas on one node",
			rng(1, ids(1, 2, 2)), equalNodes(3, 10, 3), Config{},
			want{Noop, 0, 0, ReasonInvalid}},
		{"no voters",
			rng(1, nil, 1), equalNodes(3, 10, 3), Config{},
			want{Noop, 0, 0, ReasonInvalid}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Decide(tc.r, tc.nodes, tc.cfg)
			got := want{a.Type, a.Target, a.Source, a.Reason}
			if got != tc.want {
				t.Fatalf("got %v (source n%d), want %v n%d source n%d (%s)", a, a.Source, tc.want.typ, tc.want.target, tc.want.source, tc.want.reason)
			}
			if a.Detail == "" {
				t.Errorf("%v: no detail", a)
			}
			if a.Type != Noop && a.Type != AddLearner && a.ReplicaID != uint64(a.Target) {
				t.Errorf("%v: replica id %d, want %d", a, a.ReplicaID, a.Target)
			}
			t.Log(a)
		})
	}
}

func TestFromDescriptor(t *testing.T) {
	desc := testDescriptor()
	r := FromDescriptor(desc, 2, func(id uint64) bool { return id == 7 })
	want := []Replica{{1, 1, false}, {2, 4, false}, {3, 7, true}}
	if r.RangeID != 5 || r.Leaseholder != 2 || len(r.Replicas) != len(want) {
		t.Fatalf("got %+v", r)
	}
	for i := range want {
		if r.Replicas[i] != want[i] {
			t.Errorf("replica %d: got %+v, want %+v", i, r.Replicas[i], want[i])
		}
	}
	if r := FromDescriptor(desc, 2, nil); r.Replicas[2].Learner {
		t.Error("nil isLearner made a learner")
	}
}
