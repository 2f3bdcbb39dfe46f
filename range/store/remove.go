package store

import (
	"encoding/binary"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/storage"
)

// ReplicaRemoved implements replica.Host: the replica applied a descriptor
// without itself. It is destroyed outside its Ready handling.
func (s *Store) ReplicaRemoved(rangeID, replicaID uint64) {
	go func() {
		if err := s.DestroyReplica(rangeID, replicaID); err != nil {
			s.cfg.Logger.Warn("destroy removed replica", "range", rangeID, "err", err)
		}
	}()
}

// DestroyReplica deletes the store's replica of rangeID, if it is still
// replicaID: its data, its range-local state and its Raft state, in one
// synced batch that also writes a tombstone, so a late message to the old
// replica id cannot bring it back. The caller has established that the
// range's current descriptor no longer holds this replica.
func (s *Store) DestroyReplica(rangeID, replicaID uint64) error {
	r := s.Replica(rangeID)
	if r == nil || r.ReplicaID() != replicaID {
		return nil
	}
	release := r.Quiesce()
	defer release()
	desc := r.Desc()
	b := s.cfg.Engine.NewBatch()
	defer b.Close()
	if desc != nil {
		if err := b.DeleteRange(desc.StartKey, desc.EndKey); err != nil {
			return err
		}
	}
	for _, span := range [][2][]byte{spanOf(keys.ReplicatedSpan(rangeID)), spanOf(keys.UnreplicatedSpan(rangeID))} {
		if err := b.DeleteRange(span[0], span[1]); err != nil {
			return err
		}
	}
	if err := b.Set(keys.RangeTombstoneKey(rangeID), binary.BigEndian.AppendUint64(nil, replicaID+1)); err != nil {
		return err
	}
	if err := s.cfg.Engine.Commit(b, true); err != nil {
		return err
	}
	s.mu.Lock()
	if s.mu.replicas[rangeID] == r {
		delete(s.mu.replicas, rangeID)
	}
	s.mu.Unlock()
	s.dropStaged(rangeID)
	s.cfg.Logger.Info("removed replica destroyed", "range", rangeID, "replica", replicaID)
	return nil
}

func spanOf(start, end []byte) [2][]byte { return [2][]byte{start, end} }

// tombstone returns the smallest replica id of rangeID this store may hold
// (0: no replica of it was ever removed here).
func tombstone(eng *storage.Engine, rangeID uint64) (uint64, error) {
	v, found, err := eng.Get(keys.RangeTombstoneKey(rangeID))
	if err != nil || !found || len(v) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}
