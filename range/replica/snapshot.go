package replica

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// snapshot describes the range at its current applied state for Raft: the
// metadata (index, term, configuration) and, as data, only the descriptor.
// The data itself never passes through Raft: when Raft sends the snapshot,
// StreamSnapshot reads it in chunks from a fresh engine snapshot.
func (r *Replica) snapshot() (*pb.Snapshot, error) {
	snap := r.cfg.Engine.NewSnapshot()
	defer snap.Close()
	hdr, err := r.snapshotHeader(snap)
	if err != nil {
		return nil, err
	}
	return hdr.snap, nil
}

type snapshotHeader struct {
	snap *pb.Snapshot
	desc *rpcpb.RangeDescriptor
}

// snapshotHeader reads the applied state and descriptor from an engine
// snapshot and describes them as a Raft snapshot without data.
func (r *Replica) snapshotHeader(snap *storage.Snapshot) (snapshotHeader, error) {
	as, err := raftlog.LoadAppliedState(snap, r.rangeID)
	if err != nil {
		return snapshotHeader{}, err
	}
	desc, err := LoadDescriptor(snap, r.rangeID)
	if err != nil {
		return snapshotHeader{}, err
	}
	if desc == nil {
		return snapshotHeader{}, raft.ErrSnapshotTemporarilyUnavailable
	}
	enc, err := proto.Marshal(&rpcpb.SnapshotData{Desc: desc})
	if err != nil {
		return snapshotHeader{}, err
	}
	return snapshotHeader{desc: desc, snap: &pb.Snapshot{
		Data: enc,
		Metadata: &pb.SnapshotMetadata{
			Index:     proto.Uint64(as.Index),
			Term:      proto.Uint64(as.Term),
			ConfState: as.Conf,
		},
	}}, nil
}

// StreamSnapshot sends the snapshot Raft asked for in msg (a MsgSnap from
// this replica, addressed by from/to) as a stream of chunks of about
// chunkBytes each: a header, then the range's data, then its prepared and
// transaction records and provisional writes. It reads a fresh engine snapshot, whose applied
// index may be past the one Raft chose; the header carries the metadata of
// what is sent (Raft takes any snapshot at or past the one it asked for).
// Memory is bounded by the chunk size whatever the range's size.
func (r *Replica) StreamSnapshot(msg *pb.Message, from, to *rpcpb.ReplicaDescriptor, chunkBytes int, send func(*rpcpb.SnapshotChunk) error) (nkeys int, nbytes int64, err error) {
	snap := r.cfg.Engine.NewSnapshot()
	defer snap.Close()
	hdr, err := r.snapshotHeader(snap)
	if err != nil {
		return 0, 0, err
	}
	m := proto.Clone(msg).(*pb.Message)
	m.Snapshot = hdr.snap
	enc, err := proto.Marshal(m)
	if err != nil {
		return 0, 0, err
	}
	header := &rpcpb.RaftMessage{RangeId: r.rangeID, From: from, To: to, Message: enc}
	if err := send(&rpcpb.SnapshotChunk{Header: header}); err != nil {
		return 0, 0, err
	}
	chunk := &rpcpb.SnapshotChunk{}
	size := 0
	var sendErr error
	collect := func(k, v []byte) bool {
		chunk.Kvs = append(chunk.Kvs, &rpcpb.KeyValue{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		nkeys++
		size += len(k) + len(v)
		nbytes += int64(len(k) + len(v))
		if size >= chunkBytes {
			sendErr = send(chunk)
			chunk, size = &rpcpb.SnapshotChunk{}, 0
		}
		return sendErr == nil
	}
	// Every replicated range-local record goes too: the receiver clears
	// them all (keys.ReplicatedSpan). Provisional writes were once left
	// out, and a follower caught up by snapshot resolved a prepared,
	// spilled transaction without its writes.
	spans := [][2][]byte{{hdr.desc.StartKey, hdr.desc.EndKey}}
	for _, p := range [][]byte{keys.PreparedPrefix(r.rangeID), keys.TxnRecordPrefix(r.rangeID), keys.ProvisionalPrefix(r.rangeID)} {
		spans = append(spans, [2][]byte{p, keys.PrefixEnd(p)})
	}
	for _, sp := range spans {
		if err := snap.Scan(sp[0], sp[1], false, collect); err != nil {
			return nkeys, nbytes, err
		}
		if sendErr != nil {
			return nkeys, nbytes, sendErr
		}
	}
	chunk.Done = true
	return nkeys, nbytes, send(chunk)
}

// DecodeSnapshotDesc returns the descriptor carried by a MsgSnap, so the
// store can refuse a snapshot that overlaps another replica.
func DecodeSnapshotDesc(m *pb.Message) (*rpcpb.RangeDescriptor, error) {
	data := &rpcpb.SnapshotData{}
	if err := proto.Unmarshal(m.GetSnapshot().GetData(), data); err != nil {
		return nil, fmt.Errorf("replica: corrupt snapshot: %w", err)
	}
	if data.Desc == nil {
		return nil, fmt.Errorf("replica: snapshot without a descriptor")
	}
	return data.Desc, nil
}

// StagedSnapshot is a received snapshot waiting for Raft to apply it: the
// range's data written to an sstable (with a range deletion of the data
// span first), and its range-local records.
type StagedSnapshot struct {
	Path  string
	Local []*rpcpb.KeyValue
	Keys  int
}

// applySnapshot replaces the replica's state with snap, whose data the
// store staged when it received the stream. The replica's state (range-
// local records, descriptor, applied state, Raft state) is committed in one
// synced batch together with a marker naming the staged sstable; then the
// sstable is ingested, atomically replacing the data span; then the marker
// goes. A crash between the two steps is finished by RecoverSnapshots
// before any replica loads, so the data never lags the applied state.
func (r *Replica) applySnapshot(snap *pb.Snapshot, hs *pb.HardState) error {
	data := &rpcpb.SnapshotData{}
	if err := proto.Unmarshal(snap.GetData(), data); err != nil {
		return fmt.Errorf("range %d: corrupt snapshot: %w", r.rangeID, err)
	}
	md := snap.GetMetadata()
	staged := r.cfg.Host.TakeStagedSnapshot(r.rangeID, md.GetIndex())
	if staged == nil {
		return fmt.Errorf("range %d: no staged data for the snapshot at index %d", r.rangeID, md.GetIndex())
	}
	b := r.cfg.Engine.NewBatch()
	defer b.Close()
	start, end := keys.ReplicatedSpan(r.rangeID)
	if err := b.DeleteRange(start, end); err != nil {
		return err
	}
	for _, kv := range staged.Local {
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
	if err := b.Set(keys.SnapshotIngestKey(r.rangeID), []byte(staged.Path)); err != nil {
		return err
	}
	if err := r.cfg.Engine.Commit(b, true); err != nil {
		return fmt.Errorf("range %d: apply snapshot: %w", r.rangeID, err)
	}
	if err := FinishSnapshotIngest(r.cfg.Engine, r.rangeID, staged.Path); err != nil {
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
	r.cfg.Logger.Info("applied snapshot", "range", r.rangeID, "index", md.GetIndex(), "keys", staged.Keys+len(staged.Local))
	return nil
}

// FinishSnapshotIngest ingests the staged sstable at path for rangeID (if it
// is still there: Pebble removes it once ingested) and clears the marker
// applySnapshot wrote. Ingesting twice gives the same result.
func FinishSnapshotIngest(eng *storage.Engine, rangeID uint64, path string) error {
	if eng.FileExists(path) {
		if err := eng.IngestSST(path); err != nil {
			return err
		}
	}
	b := eng.NewBatch()
	defer b.Close()
	if err := b.Delete(keys.SnapshotIngestKey(rangeID)); err != nil {
		return err
	}
	return eng.Commit(b, false)
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

// statsMaxAge is how stale Stats may be while the range takes writes.
const statsMaxAge = 10 * time.Second

// Stats returns the number of keys and bytes of the range's data. Counting
// scans the range, so a count is reused while nothing was applied since or
// for statsMaxAge: status pages and the allocator ask every second.
func (r *Replica) Stats() (count, size int64) {
	desc := r.Desc()
	if desc == nil {
		return 0, 0
	}
	applied := r.AppliedIndex()
	r.stats.Lock()
	defer r.stats.Unlock()
	if !r.stats.at.IsZero() && (r.stats.applied == applied || time.Since(r.stats.at) < statsMaxAge) {
		return r.stats.count, r.stats.size
	}
	_ = r.cfg.Engine.Scan(desc.StartKey, desc.EndKey, false, func(k, v []byte) bool {
		count++
		size += int64(len(k) + len(v))
		return true
	})
	r.stats.count, r.stats.size, r.stats.applied, r.stats.at = count, size, applied, time.Now()
	return count, size
}
