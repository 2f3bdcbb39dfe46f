package store

import (
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	pb "go.etcd.io/raft/v3/raftpb"
)

// WriteInitialRanges writes the starting state of ranges this node holds at
// cluster bootstrap, and initial data, in one synced batch. Every founding
// member writes the same state, so their replicas start identical.
func WriteInitialRanges(eng *storage.Engine, descs []*rpcpb.RangeDescriptor, data []*rpcpb.KeyValue) error {
	b := eng.NewIndexedBatch()
	defer b.Close()
	for _, d := range descs {
		conf := &pb.ConfState{}
		for _, rd := range d.Replicas {
			conf.Voters = append(conf.Voters, rd.ReplicaId)
		}
		if err := replica.WriteInitialState(b, d, conf); err != nil {
			return err
		}
	}
	for _, kv := range data {
		if err := b.Set(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	return eng.Commit(b, true)
}
