package replica

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// snapshot builds a Raft snapshot of the range at its current applied state
// from a consistent engine snapshot. It travels inline in the MsgSnap; the
// chunked, memory-bounded stream comes with replica moves.
func (r *Replica) snapshot() (*pb.Snapshot, error) {
	snap := r.cfg.Engine.NewSnapshot()
	defer snap.Close()
	as, err := raftlog.LoadAppliedState(snap, r.rangeID)
	if err != nil {
		return nil, err
	}
	desc, err := LoadDescriptor(snap, r.rangeID)
	if err != nil {
		return nil, err
	}
	if desc == nil {
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	data := &rpcpb.SnapshotData{Desc: desc}
	collect := func(k, v []byte) bool {
		data.Kvs = append(data.Kvs, &rpcpb.KeyValue{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		return true
	}
	if err := snap.Scan(desc.StartKey, desc.EndKey, false, collect); err != nil {
		return nil, err
	}
	// Prepared and transaction records travel with the range.
	for _, p := range [][]byte{keys.PreparedPrefix(r.rangeID), keys.TxnRecordPrefix(r.rangeID)} {
		if err := snap.Scan(p, keys.PrefixEnd(p), false, collect); err != nil {
			return nil, err
		}
	}
	enc, err := proto.Marshal(data)
	if err != nil {
		return nil, err
	}
	return &pb.Snapshot{
		Data: enc,
		Metadata: &pb.SnapshotMetadata{
			Index:     proto.Uint64(as.Index),
			Term:      proto.Uint64(as.Term),
			ConfState: as.Conf,
		},
	}, nil
}

// DecodeSnapshotDesc returns the descriptor carried by a MsgSnap, so the
// store can refuse a snapshot that overlaps another replica.
func DecodeSnapshotDesc(m *pb.Message) (*rpcpb.RangeDescriptor, error) {
	data := &rpcpb.SnapshotData{}
	if err := proto.Unmarshal(m.GetSnapshot().GetData(), data); err != nil {
		return nil, fmt.Errorf("replica: corrupt snapshot: %w", err)
	}
	return data.Desc, nil
}

// applySnapshot replaces the replica's state with snap in one synced batch.
func (r *Replica) applySnapshot(snap *pb.Snapshot, hs *pb.HardState) error {
	data := &rpcpb.SnapshotData{}
	if err := proto.Unmarshal(snap.GetData(), data); err != nil {
		return fmt.Errorf("range %d: corrupt snapshot: %w", r.rangeID, err)
	}
	md := snap.GetMetadata()
	b := r.cfg.Engine.NewBatch()
	defer b.Close()
	if err := clearRange(b, r.Desc(), data.Desc); err != nil {
		return err
	}
	for _, kv := range data.Kvs {
		if err := b.Set(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	if err := WriteDescriptor(b, data.Desc); err != nil {
		return err
	}
	as := raftlog.AppliedState{Index: md.GetIndex(), Term: md.GetTerm(), Conf: md.GetConfState()}
	if err := raftlog.WriteAppliedState(b, r.rangeID, as); err != nil {
		return err
	}
	hs, err := r.log.ApplySnapshot(b, snap, hs)
	if err != nil {
		return err
	}
	if err := r.cfg.Engine.Commit(b, true); err != nil {
		return fmt.Errorf("range %d: apply snapshot: %w", r.rangeID, err)
	}
	r.log.SnapshotApplied(snap, hs)
	r.mu.Lock()
	r.setDescLocked(data.Desc)
	r.mu.applied, r.mu.appliedTerm = md.GetIndex(), md.GetTerm()
	// Entries up to the snapshot were never applied here one by one: the
	// fate of proposals among them is unknown.
	r.failProposalsLocked(func(p *proposal) bool { return p.index != 0 && p.index <= md.GetIndex() }, "replaced by a snapshot")
	r.mu.Unlock()
	r.cfg.Host.SnapshotApplied(data.Desc)
	r.cfg.Logger.Info("applied snapshot", "range", r.rangeID, "index", md.GetIndex(), "keys", len(data.Kvs))
	return nil
}

// clearRange deletes the replicated state a snapshot replaces: the data of
// the new span and the range-local replicated keys. Data of the old span
// beyond the new one belongs to ranges split off meanwhile and is left.
func clearRange(b *storage.Batch, old, next *rpcpb.RangeDescriptor) error {
	if err := b.DeleteRange(next.StartKey, next.EndKey); err != nil {
		return err
	}
	start, end := keys.ReplicatedSpan(next.RangeId)
	return b.DeleteRange(start, end)
}

// Checksum hashes the range's descriptor and data at its applied index. It
// holds raftMu, so nothing is applied meanwhile.
func (r *Replica) Checksum() (applied uint64, sum []byte, count int64, err error) {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	r.mu.Lock()
	desc, applied := r.mu.desc, r.mu.applied
	r.mu.Unlock()
	if desc == nil {
		return 0, nil, 0, fmt.Errorf("range %d: uninitialised", r.rangeID)
	}
	h := sha256.New()
	d, _ := proto.Marshal(desc)
	h.Write(d)
	err = r.cfg.Engine.Scan(desc.StartKey, desc.EndKey, false, func(k, v []byte) bool {
		count++
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(v), v)
		return true
	})
	return applied, h.Sum(nil), count, err
}

// Stats returns the number of keys and bytes of the range's data.
func (r *Replica) Stats() (count, size int64) {
	desc := r.Desc()
	if desc == nil {
		return 0, 0
	}
	_ = r.cfg.Engine.Scan(desc.StartKey, desc.EndKey, false, func(k, v []byte) bool {
		count++
		size += int64(len(k) + len(v))
		return true
	})
	return count, size
}
