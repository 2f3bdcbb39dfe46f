package replica

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
	"google.golang.org/protobuf/proto"
)

// ChangeType is one step of a replication change. A replica is added in
// two steps (a learner, which Raft catches up with a snapshot, then its
// promotion to voter), so a quorum never counts a replica that holds no
// data; a voter is removed in one. Each step changes one voter at most, so
// Raft's simple configuration change is safe without a joint phase.
type ChangeType int

// Change types.
const (
	AddLearner ChangeType = iota
	PromoteLearner
	RemoveReplica
)

func (t ChangeType) String() string {
	return [...]string{"add-learner", "promote-learner", "remove-replica"}[t]
}

// ChangeReplicas makes one replication change to the range at its
// leaseholder and waits until it has applied here. It returns the new
// descriptor. The change is refused at apply if the descriptor changed
// since it was computed (a concurrent change or split): every replica then
// treats the entry as a no-op and ChangeReplicas returns an error.
func (r *Replica) ChangeReplicas(ctx context.Context, typ ChangeType, nodeID uint64) (*rpcpb.RangeDescriptor, error) {
	r.changeMu.Lock()
	defer r.changeMu.Unlock()
	r.mu.Lock()
	if r.mu.destroyed || r.mu.desc == nil {
		r.mu.Unlock()
		return nil, &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	if r.mu.state != raft.StateLeader || r.mu.appliedTerm != r.mu.term {
		err := r.notLeaseholderLocked()
		r.mu.Unlock()
		return nil, err
	}
	cur := r.mu.desc
	learners := r.mu.raw.Status().Config.Learners
	r.mu.Unlock()

	next := proto.Clone(cur).(*rpcpb.RangeDescriptor)
	if next.NextReplicaId == 0 {
		for _, rd := range next.Replicas {
			next.NextReplicaId = max(next.NextReplicaId, rd.ReplicaId+1)
		}
	}
	existing := replicaOnNode(cur, nodeID)
	cc := pb.ConfChangeSingle{}
	switch typ {
	case AddLearner:
		if existing != nil {
			return nil, kverr.BadRequestf("range %d already has replica %d on node %d", r.rangeID, existing.ReplicaId, nodeID)
		}
		rd := &rpcpb.ReplicaDescriptor{NodeId: nodeID, ReplicaId: next.NextReplicaId}
		next.Replicas = append(next.Replicas, rd)
		cc.Type, cc.NodeId = pb.ConfChangeAddLearnerNode.Enum(), proto.Uint64(rd.ReplicaId)
	case PromoteLearner:
		if existing == nil {
			return nil, kverr.BadRequestf("range %d has no replica on node %d", r.rangeID, nodeID)
		}
		if _, ok := learners[existing.ReplicaId]; !ok {
			return nil, kverr.BadRequestf("range %d: the replica on node %d is not a learner", r.rangeID, nodeID)
		}
		cc.Type, cc.NodeId = pb.ConfChangeAddNode.Enum(), proto.Uint64(existing.ReplicaId)
	case RemoveReplica:
		if existing == nil {
			return nil, kverr.BadRequestf("range %d has no replica on node %d", r.rangeID, nodeID)
		}
		if existing.ReplicaId == r.ReplicaID() {
			return nil, kverr.BadRequestf("range %d: the leaseholder cannot remove itself; transfer the lease first", r.rangeID)
		}
		next.Replicas = removeReplica(next.Replicas, existing.ReplicaId)
		cc.Type, cc.NodeId = pb.ConfChangeRemoveNode.Enum(), proto.Uint64(existing.ReplicaId)
	default:
		return nil, kverr.BadRequestf("unknown replication change %d", typ)
	}
	// Every change moves next_replica_id on, so descriptors of one
	// generation are ordered too (meta keeps the newest).
	next.NextReplicaId++

	cmd := &rpcpb.RaftCommand{Id: rand.Uint64() | 1, ChangeReplicas: &rpcpb.ChangeReplicas{
		Desc: next, ExpectedGeneration: cur.Generation, ExpectedNextReplicaId: cur.NextReplicaId,
	}}
	data, err := proto.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	p := &proposal{done: make(chan result, 1)}
	r.mu.Lock()
	if r.mu.state != raft.StateLeader {
		err := r.notLeaseholderLocked()
		r.mu.Unlock()
		return nil, err
	}
	p.term = r.mu.term
	if err := r.mu.raw.ProposeConfChange(&pb.ConfChangeV2{Changes: []*pb.ConfChangeSingle{&cc}, Context: data}); err != nil {
		r.mu.Unlock()
		return nil, kverr.BadRequestf("range %d: replication change not accepted: %v", r.rangeID, err)
	}
	r.trackProposalLocked(cmd.Id, p)
	r.mu.Unlock()
	r.cfg.Host.Schedule(r.rangeID)
	select {
	case res := <-p.done:
		if res.err != nil {
			return nil, res.err
		}
		return next, nil
	case <-ctx.Done():
		r.mu.Lock()
		delete(r.mu.proposals, cmd.Id)
		r.mu.Unlock()
		return nil, &kverr.AmbiguousError{Reason: fmt.Sprintf("range %d: %v while a replication change was in flight", r.rangeID, ctx.Err())}
	}
}

func removeReplica(rs []*rpcpb.ReplicaDescriptor, id uint64) []*rpcpb.ReplicaDescriptor {
	out := make([]*rpcpb.ReplicaDescriptor, 0, len(rs))
	for _, rd := range rs {
		if rd.ReplicaId != id {
			out = append(out, rd)
		}
	}
	return out
}

// Learners returns the replica ids of the range's learners.
func (r *Replica) Learners() map[uint64]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[uint64]bool{}
	for id := range r.mu.raw.Status().Config.Learners {
		out[id] = true
	}
	return out
}

// CaughtUp reports whether, at the leader, the replica on nodeID has
// acknowledged the log up to the commit index: a learner promoted then
// votes with the data it must have.
func (r *Replica) CaughtUp(nodeID uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.desc == nil || r.mu.state != raft.StateLeader {
		return false
	}
	rd := replicaOnNode(r.mu.desc, nodeID)
	if rd == nil {
		return false
	}
	st := r.mu.raw.Status()
	pr, ok := st.Progress[rd.ReplicaId]
	// Replicating (its snapshot is in) and at most learnerLag entries
	// behind the commit index: under a steady write load the commit index
	// moves on while the learner's acknowledgement is in flight, so an
	// exact match may never be seen and the learner would never become a
	// voter (the range's rebalancing then stalled behind it).
	return ok && pr.State == tracker.StateReplicate && pr.Match+learnerLag >= st.HardState.GetCommit()
}

// learnerLag is how far behind the commit index a learner may be when it
// is promoted; it catches up as any follower does.
const learnerLag = 64

// DescNewer reports whether descriptor a is newer than b: a higher
// generation (a split), or the same generation and a higher
// next_replica_id (a replication change).
func DescNewer(a, b *rpcpb.RangeDescriptor) bool {
	if a.Generation != b.Generation {
		return a.Generation > b.Generation
	}
	return a.NextReplicaId > b.NextReplicaId
}

// applyChangeReplicas decides a ConfChangeV2 entry carrying a replication
// change: it applies (the Raft configuration and the descriptor, in the
// entry's batch) only if the descriptor is the one the change was computed
// from. It returns whether to apply the configuration change.
func (a *applier) applyChangeReplicas(cc *pb.ConfChangeV2) (bool, error) {
	if len(cc.Context) == 0 {
		return true, nil // a bootstrap change, or Raft leaving a joint state
	}
	cmd := &rpcpb.RaftCommand{}
	if err := proto.Unmarshal(cc.Context, cmd); err != nil || cmd.ChangeReplicas == nil {
		return false, fmt.Errorf("corrupt replication change: %v", err)
	}
	ch := cmd.ChangeReplicas
	if a.desc == nil || a.desc.Generation != ch.ExpectedGeneration || a.desc.NextReplicaId != ch.ExpectedNextReplicaId ||
		!bytes.Equal(a.desc.StartKey, ch.Desc.StartKey) || !bytes.Equal(a.desc.EndKey, ch.Desc.EndKey) {
		a.results[cmd.Id] = result{err: kverr.BadRequestf("range %d: the descriptor changed before the replication change applied", a.r.rangeID)}
		return false, nil
	}
	if err := WriteDescriptor(a.b, ch.Desc); err != nil {
		return false, err
	}
	a.desc = ch.Desc
	a.results[cmd.Id] = result{}
	return true, nil
}
