package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Snapshots move between nodes as a stream of chunks (rpcpb.SnapshotChunk):
// the sender reads them from an engine snapshot, the receiver writes them
// to an sstable in the store's auxiliary directory and steps the header's
// MsgSnap into Raft only once the whole stream has arrived. Neither side
// holds more than a chunk of the range in memory; the receiver's apply
// ingests the sstable (replica.applySnapshot).

// maxOutgoingSnapshots bounds the snapshots a store sends at once.
const maxOutgoingSnapshots = 2

// snapshotTimeout bounds one snapshot's transfer.
const snapshotTimeout = 10 * time.Minute

// SendSnapshot implements replica.Host: it streams the snapshot in a
// goroutine and reports the outcome to the replica.
func (s *Store) SendSnapshot(r *replica.Replica, msg *pb.Message, from, to *rpcpb.ReplicaDescriptor) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ok := s.sendSnapshot(r, msg, from, to)
		r.ReportSnapshot(to.ReplicaId, ok)
	}()
}

func (s *Store) sendSnapshot(r *replica.Replica, msg *pb.Message, from, to *rpcpb.ReplicaDescriptor) bool {
	select {
	case s.snapSem <- struct{}{}:
		defer func() { <-s.snapSem }()
	case <-s.stop:
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), snapshotTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	limit := newRateLimiter(s.cfg.SnapshotRate())
	var nkeys int
	var nbytes int64
	resp, err := s.cfg.Transport.SendSnapshot(ctx, to.NodeId, func(send func(*rpcpb.SnapshotChunk) error) error {
		var err error
		nkeys, nbytes, err = r.StreamSnapshot(msg, from, to, int(s.cfg.SnapshotChunkBytes()), func(c *rpcpb.SnapshotChunk) error {
			if err := limit.wait(ctx, chunkBytes(c)); err != nil {
				return err
			}
			return send(c)
		})
		return err
	})
	switch {
	case err != nil:
		s.cfg.Logger.Info("snapshot not sent", "range", r.RangeID(), "to", to.NodeId, "err", err)
		return false
	case resp.GetRefused() != "":
		s.cfg.Logger.Info("snapshot refused", "range", r.RangeID(), "to", to.NodeId, "why", resp.GetRefused())
		return false
	}
	d := time.Since(start)
	s.cfg.Logger.Info("snapshot sent", "range", r.RangeID(), "to", to.NodeId, "keys", nkeys, "bytes", nbytes,
		"took", d.Round(time.Millisecond), "MiB/s", fmt.Sprintf("%.1f", float64(nbytes)/(1<<20)/max(d.Seconds(), 1e-6)))
	return true
}

func chunkBytes(c *rpcpb.SnapshotChunk) int {
	n := 0
	for _, kv := range c.Kvs {
		n += len(kv.Key) + len(kv.Value)
	}
	return n
}

// rateLimiter paces a stream to a number of bytes per second (0: no limit).
type rateLimiter struct {
	rate  int64
	start time.Time
	sent  int64
}

func newRateLimiter(rate int64) *rateLimiter { return &rateLimiter{rate: rate, start: time.Now()} }

func (l *rateLimiter) wait(ctx context.Context, n int) error {
	l.sent += int64(n)
	if l.rate <= 0 {
		return ctx.Err()
	}
	due := l.start.Add(time.Duration(float64(l.sent) / float64(l.rate) * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// ReceiveSnapshot takes a snapshot stream: recv returns its chunks in
// order. The data is staged in an sstable; then the header's MsgSnap is
// stepped into the replica's Raft, which applies the staged data.
func (s *Store) ReceiveSnapshot(recv func() (*rpcpb.SnapshotChunk, error)) (*rpcpb.SnapshotResponse, error) {
	first, err := recv()
	if err != nil {
		return nil, err
	}
	header := first.GetHeader()
	if header == nil || header.To == nil || header.To.NodeId != s.cfg.NodeID {
		return nil, fmt.Errorf("store: snapshot stream without a header for node %d", s.cfg.NodeID)
	}
	msg := &pb.Message{}
	if err := proto.Unmarshal(header.Message, msg); err != nil || msg.GetType() != pb.MsgSnap {
		return nil, fmt.Errorf("store: snapshot header is not a MsgSnap (%v)", err)
	}
	desc, err := replica.DecodeSnapshotDesc(msg)
	if err != nil {
		return nil, err
	}
	index := msg.GetSnapshot().GetMetadata().GetIndex()
	refuse := func(why string) (*rpcpb.SnapshotResponse, error) {
		return &rpcpb.SnapshotResponse{Refused: why}, nil
	}
	if desc.RangeId != header.RangeId {
		return nil, fmt.Errorf("store: snapshot of range %d sent as range %d", desc.RangeId, header.RangeId)
	}
	r, err := s.replicaFor(header)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return refuse("the replica was removed here")
	}
	if ok, err := s.acceptSnapshot(header, msg); err != nil || !ok {
		return refuse("overlaps another replica")
	}
	if r.AppliedIndex() >= index {
		return refuse(fmt.Sprintf("already applied index %d", r.AppliedIndex()))
	}
	staged, nbytes, err := s.stageSnapshot(desc, index, first, recv)
	if err != nil {
		return nil, err
	}
	s.putStaged(desc.RangeId, index, staged)
	applied := s.snapshotApplied(desc.RangeId)
	if err := s.HandleRaftMessage(header); err != nil {
		return nil, err
	}
	// Answer once the snapshot is applied (or Raft passed it by): the
	// sender then reports it finished and the leader's next probe finds
	// the follower caught up, instead of sending the snapshot again.
	t := time.NewTimer(snapshotApplyWait)
	defer t.Stop()
	for r.AppliedIndex() < index {
		select {
		case <-applied:
			applied = s.snapshotApplied(desc.RangeId)
		case <-t.C:
			return &rpcpb.SnapshotResponse{Keys: uint64(staged.Keys + len(staged.Local)), Bytes: uint64(nbytes)}, nil
		case <-s.stop:
			return nil, fmt.Errorf("store: stopping")
		}
	}
	return &rpcpb.SnapshotResponse{Keys: uint64(staged.Keys + len(staged.Local)), Bytes: uint64(nbytes)}, nil
}

// snapshotApplyWait bounds how long a received snapshot's answer waits for
// Raft to apply it.
const snapshotApplyWait = 10 * time.Second

// snapshotApplied returns a channel closed when a snapshot of rangeID is
// next applied here.
func (s *Store) snapshotApplied(rangeID uint64) <-chan struct{} {
	s.stagedMu.Lock()
	defer s.stagedMu.Unlock()
	ch, ok := s.appliedCh[rangeID]
	if !ok {
		ch = make(chan struct{})
		s.appliedCh[rangeID] = ch
	}
	return ch
}

// stageSnapshot writes the stream's data to an sstable that, ingested,
// replaces the range's data span; range-local records are kept aside.
func (s *Store) stageSnapshot(desc *rpcpb.RangeDescriptor, index uint64, first *rpcpb.SnapshotChunk, recv func() (*rpcpb.SnapshotChunk, error)) (*replica.StagedSnapshot, int64, error) {
	name := fmt.Sprintf("snapshot-r%d-i%d-%x.sst", desc.RangeId, index, rand.Uint64())
	w, err := s.cfg.Engine.NewSSTWriter(name)
	if err != nil {
		return nil, 0, err
	}
	ok := false
	defer func() {
		if !ok {
			w.Abort()
		}
	}()
	if err := w.DeleteRange(desc.StartKey, desc.EndKey); err != nil {
		return nil, 0, err
	}
	localStart, localEnd := keys.ReplicatedSpan(desc.RangeId)
	staged := &replica.StagedSnapshot{}
	var nbytes int64
	for c := first; ; {
		for _, kv := range c.Kvs {
			nbytes += int64(len(kv.Key) + len(kv.Value))
			switch {
			case bytes.Compare(kv.Key, desc.StartKey) >= 0 && bytes.Compare(kv.Key, desc.EndKey) < 0:
				if err := w.Set(kv.Key, kv.Value); err != nil {
					return nil, 0, err
				}
				staged.Keys++
			case bytes.Compare(kv.Key, localStart) >= 0 && bytes.Compare(kv.Key, localEnd) < 0:
				staged.Local = append(staged.Local, kv)
			default:
				return nil, 0, fmt.Errorf("store: snapshot of range %d carries key %s outside it", desc.RangeId, keys.Pretty(kv.Key))
			}
		}
		if c.Done {
			break
		}
		if c, err = recv(); err != nil {
			return nil, 0, err
		}
	}
	if staged.Path, err = w.Finish(); err != nil {
		return nil, 0, err
	}
	ok = true
	return staged, nbytes, nil
}

// stagedRange holds a range's received snapshots by index until Raft
// applies one, and the highest index applied from them: a stream that
// arrives after that snapshot was applied (the leader may send another
// while the first is applied) is discarded, not left staged.
type stagedRange struct {
	byIndex map[uint64]*replica.StagedSnapshot
	applied uint64
}

// putStaged records a staged snapshot. One at an index already applied is
// discarded; one at an index already staged replaces it (same data).
func (s *Store) putStaged(rangeID, index uint64, data *replica.StagedSnapshot) {
	var drop []string
	s.stagedMu.Lock()
	sr := s.staged[rangeID]
	if sr == nil {
		sr = &stagedRange{byIndex: map[uint64]*replica.StagedSnapshot{}}
		s.staged[rangeID] = sr
	}
	if index <= sr.applied {
		drop = append(drop, data.Path)
	} else {
		if old := sr.byIndex[index]; old != nil {
			drop = append(drop, old.Path)
		}
		sr.byIndex[index] = data
	}
	s.stagedMu.Unlock()
	for _, p := range drop {
		_ = s.cfg.Engine.RemoveAux(p)
	}
}

// TakeStagedSnapshot implements replica.Host. Staged snapshots of the
// range at or below index are discarded: Raft will not apply them.
func (s *Store) TakeStagedSnapshot(rangeID, index uint64) *replica.StagedSnapshot {
	var drop []string
	s.stagedMu.Lock()
	sr := s.staged[rangeID]
	if sr == nil {
		sr = &stagedRange{byIndex: map[uint64]*replica.StagedSnapshot{}}
		s.staged[rangeID] = sr
	}
	out := sr.byIndex[index]
	delete(sr.byIndex, index)
	sr.applied = max(sr.applied, index)
	for i, st := range sr.byIndex {
		if i <= index {
			drop = append(drop, st.Path)
			delete(sr.byIndex, i)
		}
	}
	s.stagedMu.Unlock()
	for _, p := range drop {
		_ = s.cfg.Engine.RemoveAux(p)
	}
	return out
}

// dropStaged discards the staged snapshots of rangeID (its replica is
// destroyed).
func (s *Store) dropStaged(rangeID uint64) {
	s.stagedMu.Lock()
	sr := s.staged[rangeID]
	delete(s.staged, rangeID)
	s.stagedMu.Unlock()
	if sr != nil {
		for _, st := range sr.byIndex {
			_ = s.cfg.Engine.RemoveAux(st.Path)
		}
	}
}

// recoverSnapshots finishes, before any replica loads, the ingestion of
// snapshots whose state was committed when the node stopped, and deletes
// staged files nothing refers to.
func (s *Store) recoverSnapshots(rangeIDs []uint64) error {
	for _, id := range rangeIDs {
		path, found, err := s.cfg.Engine.Get(keys.SnapshotIngestKey(id))
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if err := replica.FinishSnapshotIngest(s.cfg.Engine, id, string(path)); err != nil {
			return fmt.Errorf("store: finish the snapshot of range %d: %w", id, err)
		}
		s.cfg.Logger.Info("finished a snapshot's ingestion after a restart", "range", id)
	}
	files, err := s.cfg.Engine.AuxFiles()
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := s.cfg.Engine.RemoveAux(f); err != nil {
			return err
		}
	}
	return nil
}
