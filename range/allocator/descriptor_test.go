package allocator

import "github.com/ordodb/ordo/rpc/rpcpb"

func testDescriptor() *rpcpb.RangeDescriptor {
	return &rpcpb.RangeDescriptor{
		RangeId: 5,
		Replicas: []*rpcpb.ReplicaDescriptor{
			{NodeId: 1, ReplicaId: 1}, {NodeId: 2, ReplicaId: 4}, {NodeId: 3, ReplicaId: 7},
		},
		NextReplicaId: 8,
	}
}
