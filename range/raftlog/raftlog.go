package raftlog

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/storage"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// TruncatedState is the index and term of the last entry removed from the log.
type TruncatedState struct {
	Index, Term uint64
}

// AppliedState is the replicated state of the range's state machine.
type AppliedState struct {
	Index, Term uint64
	Conf        *pb.ConfState
}

// SnapshotFunc builds a snapshot of the range at its current applied state.
type SnapshotFunc func() (*pb.Snapshot, error)

// Storage is raft.Storage for one replica.
type Storage struct {
	eng     *storage.Engine
	rangeID uint64
	snap    SnapshotFunc

	mu struct {
		sync.Mutex
		hs       *pb.HardState
		conf     *pb.ConfState
		applied  AppliedState // as last committed
		trunc    TruncatedState
		last     uint64
		lastTerm uint64
		cache    entryCache
	}
}

var _ raft.Storage = (*Storage)(nil)

// Load reads the persisted Raft state of rangeID.
func Load(eng *storage.Engine, rangeID uint64, snap SnapshotFunc) (*Storage, error) {
	s := &Storage{eng: eng, rangeID: rangeID, snap: snap}
	s.mu.cache.max = entryCacheBytes
	hs, err := LoadHardState(eng, rangeID)
	if err != nil {
		return nil, err
	}
	trunc, err := LoadTruncatedState(eng, rangeID)
	if err != nil {
		return nil, err
	}
	applied, err := LoadAppliedState(eng, rangeID)
	if err != nil {
		return nil, err
	}
	if applied.Index > hs.GetCommit() {
		// The state machine applies committed entries without waiting for
		// the Ready that persists their commit index, so after a crash the
		// applied index may be ahead of the durable commit index. Those
		// entries were committed, and synced in the log before they were
		// applied: the commit index, which Raft need not persist at all,
		// can start at the applied index.
		hs.Commit = proto.Uint64(applied.Index)
	}
	s.mu.hs, s.mu.trunc, s.mu.conf, s.mu.applied = hs, trunc, applied.Conf, applied
	s.mu.last, s.mu.lastTerm = trunc.Index, trunc.Term
	if err := s.loadLastLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Storage) loadLastLocked() error {
	start := keys.RaftLogKey(s.rangeID, s.mu.trunc.Index+1)
	end := keys.PrefixEnd(keys.RaftLogPrefix(s.rangeID))
	var decodeErr error
	err := s.eng.Scan(start, end, true, func(k, v []byte) bool {
		e, err := decodeEntry(logKeyIndex(k), v)
		if err != nil {
			decodeErr = err
			return false
		}
		s.mu.last, s.mu.lastTerm = e.GetIndex(), e.GetTerm()
		return false
	})
	if err != nil {
		return err
	}
	return decodeErr
}

// InitialState implements raft.Storage.
func (s *Storage) InitialState() (*pb.HardState, *pb.ConfState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return proto.Clone(s.mu.hs).(*pb.HardState), proto.Clone(s.mu.conf).(*pb.ConfState), nil
}

// Entries implements raft.Storage.
func (s *Storage) Entries(lo, hi, maxSize uint64) ([]*pb.Entry, error) {
	s.mu.Lock()
	first, last := s.mu.trunc.Index+1, s.mu.last
	if lo < first {
		s.mu.Unlock()
		return nil, raft.ErrCompacted
	}
	if hi > last+1 {
		s.mu.Unlock()
		return nil, fmt.Errorf("raftlog: range %d: entries [%d,%d) past last index %d", s.rangeID, lo, hi, last)
	}
	if ents, ok := s.mu.cache.entries(lo, hi, maxSize); ok {
		s.mu.Unlock()
		return ents, nil
	}
	s.mu.Unlock()
	var (
		out    []*pb.Entry
		size   uint64
		ierr   error
		expect = lo
	)
	err := s.eng.Scan(keys.RaftLogKey(s.rangeID, lo), keys.RaftLogKey(s.rangeID, hi), false, func(k, v []byte) bool {
		if logKeyIndex(k) != expect {
			ierr = raft.ErrUnavailable
			return false
		}
		e, err := decodeEntry(expect, v)
		if err != nil {
			ierr = err
			return false
		}
		size += uint64(len(v))
		if len(out) > 0 && size > maxSize {
			return false
		}
		out = append(out, e)
		expect++
		return true
	})
	if err != nil {
		return nil, err
	}
	if ierr != nil {
		return nil, ierr
	}
	if len(out) == 0 {
		return nil, raft.ErrUnavailable
	}
	return out, nil
}

// Term implements raft.Storage.
func (s *Storage) Term(i uint64) (uint64, error) {
	s.mu.Lock()
	trunc, last, lastTerm := s.mu.trunc, s.mu.last, s.mu.lastTerm
	cached, ok := uint64(0), false
	if i > trunc.Index && i <= last {
		cached, ok = s.mu.cache.term(i)
	}
	s.mu.Unlock()
	if ok {
		return cached, nil
	}
	switch {
	case i == trunc.Index:
		return trunc.Term, nil
	case i < trunc.Index:
		return 0, raft.ErrCompacted
	case i > last:
		return 0, raft.ErrUnavailable
	case i == last:
		return lastTerm, nil
	}
	v, found, err := s.eng.Get(keys.RaftLogKey(s.rangeID, i))
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, raft.ErrUnavailable
	}
	e, err := decodeEntry(i, v)
	if err != nil {
		return 0, err
	}
	return e.GetTerm(), nil
}

// LastIndex implements raft.Storage.
func (s *Storage) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.last, nil
}

// FirstIndex implements raft.Storage.
func (s *Storage) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.trunc.Index + 1, nil
}

// Snapshot implements raft.Storage.
func (s *Storage) Snapshot() (*pb.Snapshot, error) {
	if s.snap == nil {
		return nil, raft.ErrSnapshotTemporarilyUnavailable
	}
	return s.snap()
}

// Truncated returns the truncated state.
func (s *Storage) Truncated() TruncatedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.trunc
}

// Append writes entries into b, removing any conflicting suffix of the log.
// Call Persisted with the same entries once b is committed.
func (s *Storage) Append(b *storage.Batch, ents []*pb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	s.mu.Lock()
	last := s.mu.last
	s.mu.Unlock()
	for _, e := range ents {
		v, err := proto.Marshal(e)
		if err != nil {
			return fmt.Errorf("raftlog: marshal entry: %w", err)
		}
		if err := b.Set(keys.RaftLogKey(s.rangeID, e.GetIndex()), v); err != nil {
			return err
		}
	}
	newLast := ents[len(ents)-1].GetIndex()
	if newLast < last {
		return b.DeleteRange(keys.RaftLogKey(s.rangeID, newLast+1), keys.RaftLogKey(s.rangeID, last+1))
	}
	return nil
}

// SetHardState writes hs into b.
func (s *Storage) SetHardState(b *storage.Batch, hs *pb.HardState) error {
	return WriteHardState(b, s.rangeID, hs)
}

// Persisted records that a batch with these entries and hard state is durable.
func (s *Storage) Persisted(ents []*pb.Entry, hs *pb.HardState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hs != nil && !raft.IsEmptyHardState(hs) {
		s.mu.hs = proto.Clone(hs).(*pb.HardState)
	}
	if len(ents) > 0 {
		e := ents[len(ents)-1]
		s.mu.last, s.mu.lastTerm = e.GetIndex(), e.GetTerm()
		s.mu.cache.add(ents)
	}
}

// Applied returns the applied state as last committed, so the apply loop
// need not read it back from the engine. Its Conf must not be modified.
func (s *Storage) Applied() AppliedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.applied
}

// SetApplied records an applied state once the batch holding it is committed.
func (s *Storage) SetApplied(as AppliedState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.applied = as
}

// SetConf records the ConfState applied by the state machine.
func (s *Storage) SetConf(cs *pb.ConfState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.conf = proto.Clone(cs).(*pb.ConfState)
}

// Truncate removes log entries up to and including index, writing into b.
// Call Truncated once b is committed.
func (s *Storage) Truncate(b *storage.Batch, index uint64) (TruncatedState, error) {
	term, err := s.Term(index)
	if err != nil {
		return TruncatedState{}, err
	}
	s.mu.Lock()
	old := s.mu.trunc
	s.mu.Unlock()
	ts := TruncatedState{Index: index, Term: term}
	if err := WriteTruncatedState(b, s.rangeID, ts); err != nil {
		return ts, err
	}
	return ts, b.DeleteRange(keys.RaftLogKey(s.rangeID, old.Index+1), keys.RaftLogKey(s.rangeID, index+1))
}

// SetTruncated records a durable truncation (or snapshot application).
func (s *Storage) SetTruncated(ts TruncatedState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ts.Index > s.mu.trunc.Index {
		s.mu.trunc = ts
		s.mu.cache.truncate(ts.Index)
	}
	if s.mu.last < ts.Index {
		s.mu.last, s.mu.lastTerm = ts.Index, ts.Term
	}
}

// ApplySnapshot writes into b the Raft side of installing snap: the log is
// cleared, the truncated state moves to the snapshot, and the hard state is
// written with its commit index raised to the snapshot's. hs is the hard
// state of the Ready that carried snap (nil when it carried none).
//
// The hard state must travel in the same batch: a crash after the snapshot
// is durable but before a later hard state would leave commit below the
// log's first index, a state Raft refuses to load. Call SnapshotApplied
// with the returned hard state once b is committed.
func (s *Storage) ApplySnapshot(b *storage.Batch, snap *pb.Snapshot, hs *pb.HardState) (*pb.HardState, error) {
	md := snap.GetMetadata()
	start, end := keys.RaftLogPrefix(s.rangeID), keys.PrefixEnd(keys.RaftLogPrefix(s.rangeID))
	if err := b.DeleteRange(start, end); err != nil {
		return nil, err
	}
	if err := WriteTruncatedState(b, s.rangeID, TruncatedState{Index: md.GetIndex(), Term: md.GetTerm()}); err != nil {
		return nil, err
	}
	if hs == nil || raft.IsEmptyHardState(hs) {
		s.mu.Lock()
		hs = s.mu.hs
		s.mu.Unlock()
	}
	next := proto.Clone(hs).(*pb.HardState)
	if next.GetCommit() < md.GetIndex() {
		next.Commit = proto.Uint64(md.GetIndex())
	}
	if next.GetTerm() < md.GetTerm() {
		next.Term = proto.Uint64(md.GetTerm())
	}
	return next, WriteHardState(b, s.rangeID, next)
}

// SnapshotApplied moves the in-memory view to an installed snapshot and the
// hard state ApplySnapshot wrote with it.
func (s *Storage) SnapshotApplied(snap *pb.Snapshot, hs *pb.HardState) {
	md := snap.GetMetadata()
	s.mu.Lock()
	defer s.mu.Unlock()
	if hs != nil {
		s.mu.hs = proto.Clone(hs).(*pb.HardState)
	}
	s.mu.trunc = TruncatedState{Index: md.GetIndex(), Term: md.GetTerm()}
	s.mu.last, s.mu.lastTerm = md.GetIndex(), md.GetTerm()
	s.mu.cache.clear()
	s.mu.conf = proto.Clone(md.GetConfState()).(*pb.ConfState)
	s.mu.applied = AppliedState{Index: md.GetIndex(), Term: md.GetTerm(), Conf: s.mu.conf}
}

// decodeEntry decodes the entry stored under log index; an entry that does
// not decode or holds another index is corrupt.
func decodeEntry(index uint64, v []byte) (*pb.Entry, error) {
	e := &pb.Entry{}
	if err := proto.Unmarshal(v, e); err != nil {
		return nil, fmt.Errorf("raftlog: corrupt log entry %d: %w", index, err)
	}
	if e.GetIndex() != index {
		return nil, fmt.Errorf("raftlog: corrupt log entry %d: holds index %d", index, e.GetIndex())
	}
	return e, nil
}

// logKeyIndex is the index of a key from RaftLogKey.
func logKeyIndex(k []byte) uint64 {
	if len(k) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(k)-8:])
}

// LoadHardState reads the HardState of rangeID (empty if none).
func LoadHardState(r storage.Reader, rangeID uint64) (*pb.HardState, error) {
	hs := &pb.HardState{}
	v, found, err := r.Get(keys.HardStateKey(rangeID))
	if err != nil || !found {
		return hs, err
	}
	if err := proto.Unmarshal(v, hs); err != nil {
		return nil, fmt.Errorf("raftlog: range %d: corrupt hard state: %w", rangeID, err)
	}
	return hs, nil
}

// WriteHardState writes hs for rangeID into b.
func WriteHardState(b *storage.Batch, rangeID uint64, hs *pb.HardState) error {
	v, err := proto.Marshal(hs)
	if err != nil {
		return err
	}
	return b.Set(keys.HardStateKey(rangeID), v)
}

// LoadTruncatedState reads the truncated state of rangeID.
func LoadTruncatedState(r storage.Reader, rangeID uint64) (TruncatedState, error) {
	v, found, err := r.Get(keys.TruncatedStateKey(rangeID))
	if err != nil || !found {
		return TruncatedState{}, err
	}
	if len(v) != 16 {
		return TruncatedState{}, fmt.Errorf("raftlog: range %d: corrupt truncated state", rangeID)
	}
	return TruncatedState{Index: binary.BigEndian.Uint64(v), Term: binary.BigEndian.Uint64(v[8:])}, nil
}

// WriteTruncatedState writes ts for rangeID into b.
func WriteTruncatedState(b *storage.Batch, rangeID uint64, ts TruncatedState) error {
	v := binary.BigEndian.AppendUint64(nil, ts.Index)
	v = binary.BigEndian.AppendUint64(v, ts.Term)
	return b.Set(keys.TruncatedStateKey(rangeID), v)
}

// LoadAppliedState reads the applied state of rangeID.
func LoadAppliedState(r storage.Reader, rangeID uint64) (AppliedState, error) {
	as := AppliedState{Conf: &pb.ConfState{}}
	v, found, err := r.Get(keys.AppliedStateKey(rangeID))
	if err != nil || !found {
		return as, err
	}
	if len(v) < 16 {
		return as, fmt.Errorf("raftlog: range %d: corrupt applied state", rangeID)
	}
	as.Index, as.Term = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
	if err := proto.Unmarshal(v[16:], as.Conf); err != nil {
		return as, fmt.Errorf("raftlog: range %d: corrupt conf state: %w", rangeID, err)
	}
	return as, nil
}

// WriteAppliedState writes as for rangeID into b.
func WriteAppliedState(b *storage.Batch, rangeID uint64, as AppliedState) error {
	cs, err := proto.Marshal(as.Conf)
	if err != nil {
		return err
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16+len(cs)), as.Index)
	v = binary.BigEndian.AppendUint64(v, as.Term)
	return b.Set(keys.AppliedStateKey(rangeID), append(v, cs...))
}
