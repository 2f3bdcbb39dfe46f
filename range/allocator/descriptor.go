package allocator

import "github.com/ordodb/ordo/rpc/rpcpb"

// FromDescriptor builds the Range for a descriptor. The descriptor does not
// say which replicas are learners (Raft's ConfState does): isLearner reports
// it by replica id, and may be nil when there are none.
func FromDescriptor(desc *rpcpb.RangeDescriptor, leaseholder NodeID, isLearner func(replicaID uint64) bool) Range {
	r := Range{RangeID: desc.GetRangeId(), Leaseholder: leaseholder}
	for _, rep := range desc.GetReplicas() {
		r.Replicas = append(r.Replicas, Replica{
			NodeID:    NodeID(rep.GetNodeId()),
			ReplicaID: rep.GetReplicaId(),
			Learner:   isLearner != nil && isLearner(rep.GetReplicaId()),
		})
	}
	return r
}
