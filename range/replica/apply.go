package replica

import (
	"bytes"
	"fmt"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Initial Raft state of a range created by a split: its log starts after
// this index, at this term, as if it had been truncated there.
const (
	splitInitialIndex = 10
	splitInitialTerm  = 5
)

// applier accumulates the effects of applying a run of committed entries.
type applier struct {
	r       *Replica
	b       *storage.Batch
	mark    storage.Mark // the batch before the current entry
	desc    *rpcpb.RangeDescriptor
	applied raftlog.AppliedState
	results map[uint64]result
	splits  []func()
}

// applyCommitted applies entries in one unsynced batch that also records
// the applied index, so a crash replays from the last applied entry. An
// entry that fails deterministically is rolled back to the batch as it was
// before the entry, so it leaves nothing behind. Splits and configuration
// changes end the batch: what follows them sees them committed.
func (r *Replica) applyCommitted(ents []*pb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	a := &applier{r: r, desc: r.Desc(), applied: r.log.Applied(), results: map[uint64]result{}}
	a.b = r.cfg.Engine.NewIndexedBatch()
	defer func() { a.b.Close() }()
	flushed := a.applied.Index
	for _, e := range ents {
		if e.GetIndex() <= a.applied.Index {
			continue // replayed after a snapshot or restart
		}
		a.mark = a.b.Mark()
		if err := a.apply(e); err != nil {
			return fmt.Errorf("range %d: apply index %d: %w", r.rangeID, e.GetIndex(), err)
		}
		if len(a.splits) > 0 || e.GetType() != pb.EntryNormal {
			if err := a.commit(false); err != nil {
				return err
			}
			flushed = a.applied.Index
		}
	}
	if a.applied.Index > flushed {
		if err := a.commit(true); err != nil {
			return err
		}
	}
	r.finishApply(a)
	return nil
}

// commit writes the applied state into the batch and commits it (with the
// log truncation the applied index allows, at the end of a run), then
// starts a new batch.
func (a *applier) commit(last bool) error {
	r := a.r
	if err := raftlog.WriteAppliedState(a.b, r.rangeID, a.applied); err != nil {
		return err
	}
	var trunc raftlog.TruncatedState
	truncated := false
	if last {
		var err error
		if trunc, truncated, err = r.maybeTruncate(a.b, a.applied.Index); err != nil {
			return err
		}
	}
	if err := r.cfg.Engine.Commit(a.b, false); err != nil {
		return fmt.Errorf("range %d: commit apply batch: %w", r.rangeID, err)
	}
	r.log.SetApplied(a.applied)
	if truncated {
		r.log.SetTruncated(trunc)
	}
	for _, finish := range a.splits {
		finish()
	}
	a.splits = a.splits[:0]
	a.b.Close()
	a.b = r.cfg.Engine.NewIndexedBatch()
	return nil
}

// discard drops the current entry's writes, keeping only its application.
func (a *applier) discard() {
	if err := a.b.RollbackTo(a.mark); err != nil {
		panic(fmt.Sprintf("range %d: roll back a failed command: %v", a.r.rangeID, err))
	}
}

func (r *Replica) finishApply(a *applier) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.applied, r.mu.appliedTerm = a.applied.Index, a.applied.Term
	if a.desc != nil && a.desc != r.mu.desc {
		r.setDescLocked(a.desc)
		if r.mu.initialized && ReplicaOf(a.desc, r.cfg.NodeID) == nil {
			r.cfg.Host.ReplicaRemoved(r.rangeID, r.mu.replicaID)
		}
	}
	for id, res := range a.results {
		if p, ok := r.mu.proposals[id]; ok {
			r.observeCommit(p)
			p.done <- res
			delete(r.mu.proposals, id)
		}
	}
	r.settleOverwrittenLocked(a.applied.Index, a.applied.Term)
}

func (a *applier) apply(e *pb.Entry) error {
	a.applied.Index, a.applied.Term = e.GetIndex(), e.GetTerm()
	switch e.GetType() {
	case pb.EntryNormal:
		if len(e.GetData()) == 0 {
			return nil // a new leader's empty entry
		}
		cmd := &rpcpb.RaftCommand{}
		if err := proto.Unmarshal(e.GetData(), cmd); err != nil {
			return fmt.Errorf("corrupt command: %w", err)
		}
		return a.applyCommand(cmd)
	case pb.EntryConfChange, pb.EntryConfChangeV2:
		return a.applyConfChange(e)
	}
	return nil
}

func (a *applier) applyConfChange(e *pb.Entry) error {
	var cc pb.ConfChangeI
	if e.GetType() == pb.EntryConfChange {
		c := &pb.ConfChange{}
		if err := proto.Unmarshal(e.GetData(), c); err != nil {
			return err
		}
		cc = c
	} else {
		c := &pb.ConfChangeV2{}
		if err := proto.Unmarshal(e.GetData(), c); err != nil {
			return err
		}
		ok, err := a.applyChangeReplicas(c)
		if err != nil || !ok {
			return err // refused: a no-op for Raft too
		}
		cc = c
	}
	a.r.mu.Lock()
	cs := a.r.mu.raw.ApplyConfChange(cc)
	a.r.mu.Unlock()
	a.applied.Conf = cs
	a.r.log.SetConf(cs)
	return nil
}

func (a *applier) applyCommand(cmd *rpcpb.RaftCommand) error {
	if cmd.Split != nil {
		res, err := a.applySplit(cmd.Split)
		if err != nil {
			return err
		}
		a.results[cmd.Id] = res
		return nil
	}
	if a.desc == nil {
		return fmt.Errorf("command applied to an uninitialised replica")
	}
	if cmd.Txn != nil {
		return a.applyTxn(cmd.Id, cmd.Txn)
	}
	if err := checkOpKeys(a.desc, cmd.Ops); err != nil {
		a.results[cmd.Id] = result{err: err}
		return nil
	}
	out := make([]*rpcpb.OpResult, len(cmd.Ops))
	for i, op := range cmd.Ops {
		res, derr, fatal := evalWrite(a.b, op)
		if fatal != nil {
			return fatal
		}
		if derr != nil {
			a.discard()
			a.results[cmd.Id] = result{err: fmt.Errorf("op %d: %w", i, derr)}
			return nil
		}
		out[i] = res
	}
	a.results[cmd.Id] = result{results: out}
	return nil
}

// applySplit shrinks the range to [start, split) and creates the right-hand
// range [split, end) with the same replicas, all in the apply batch, so the
// split is atomic on each replica. The data does not move: it is already in
// this node's engine.
func (a *applier) applySplit(st *rpcpb.SplitTrigger) (result, error) {
	desc := a.desc
	if desc == nil || desc.Generation != st.ExpectedGeneration || !ContainsKey(desc, st.SplitKey) || bytes.Equal(desc.StartKey, st.SplitKey) {
		return result{err: kverr.BadRequestf("range %d: split at %s no longer applies", a.r.rangeID, keys.Pretty(st.SplitKey))}, nil
	}

	left := proto.Clone(desc).(*rpcpb.RangeDescriptor)
	left.EndKey, left.Generation = bytes.Clone(st.SplitKey), desc.Generation+1
	right := proto.Clone(desc).(*rpcpb.RangeDescriptor)
	right.RangeId, right.StartKey, right.Generation = st.NewRangeId, bytes.Clone(st.SplitKey), desc.Generation+1
	if err := WriteDescriptor(a.b, left); err != nil {
		return result{}, err
	}
	finish := a.r.cfg.Host.BeginSplit(left, right)
	a.splits = append(a.splits, finish)
	if err := WriteInitialState(a.b, right, a.applied.Conf); err != nil {
		return result{}, err
	}
	if err := a.splitRecords(st.SplitKey, right.RangeId); err != nil {
		return result{}, err
	}
	a.desc = left
	return result{split: right}, nil
}

// WriteInitialState writes the starting Raft and applied state of a range
// created by a split (or at bootstrap): the log starts after index 10 at
// term 5.
//
// A split may find Raft state of the range already here: an uninitialised
// replica, created by the new range's messages before this node applied
// the split, has persisted a HardState (the store has stopped it by now:
// Store.BeginSplit). It never has log entries (its empty log matches no
// append, and the leader cannot send entries at or below 10) nor a commit
// index (commit never passes the last index), but it may have voted, and a
// vote must survive: its term and vote are kept, and its commit index
// becomes the split's 10. State beyond that — a descriptor, or a commit
// past 10 — would mean the replica was initialised by a snapshot while this
// node's left-hand side still covered its span, which the store refuses;
// writing over it would lose entries it acknowledged, so it is an error.
func WriteInitialState(b *storage.Batch, desc *rpcpb.RangeDescriptor, conf *pb.ConfState) error {
	hs, err := raftlog.LoadHardState(b, desc.RangeId)
	if err != nil {
		return err
	}
	old, err := LoadDescriptor(b, desc.RangeId)
	if err != nil {
		return err
	}
	if old != nil || hs.GetCommit() > splitInitialIndex {
		return fmt.Errorf("replica: range %d: initial state over an initialised replica (commit %d)", desc.RangeId, hs.GetCommit())
	}
	if err := WriteDescriptor(b, desc); err != nil {
		return err
	}
	as := raftlog.AppliedState{Index: splitInitialIndex, Term: splitInitialTerm, Conf: conf}
	if err := raftlog.WriteAppliedState(b, desc.RangeId, as); err != nil {
		return err
	}
	if err := raftlog.WriteTruncatedState(b, desc.RangeId, raftlog.TruncatedState{Index: splitInitialIndex, Term: splitInitialTerm}); err != nil {
		return err
	}
	if hs.GetTerm() < splitInitialTerm {
		hs = &pb.HardState{Term: proto.Uint64(splitInitialTerm)}
	}
	hs.Commit = proto.Uint64(splitInitialIndex)
	return raftlog.WriteHardState(b, desc.RangeId, hs)
}

// maybeTruncate drops log entries well behind the applied index.
func (r *Replica) maybeTruncate(b *storage.Batch, applied uint64) (raftlog.TruncatedState, bool, error) {
	trunc := r.log.Truncated()
	keep := r.cfg.LogKeep
	if applied < trunc.Index+2*keep {
		return trunc, false, nil
	}
	last, _ := r.log.LastIndex()
	to := applied - keep
	if to > last {
		return trunc, false, nil
	}
	ts, err := r.log.Truncate(b, to)
	if err == raft.ErrCompacted || err == raft.ErrUnavailable {
		return trunc, false, nil
	}
	return ts, err == nil, err
}

// LoadDescriptor reads the range-local descriptor copy; nil if absent.
func LoadDescriptor(rd storage.Reader, rangeID uint64) (*rpcpb.RangeDescriptor, error) {
	v, found, err := rd.Get(keys.RangeDescKey(rangeID))
	if err != nil || !found {
		return nil, err
	}
	desc := &rpcpb.RangeDescriptor{}
	if err := proto.Unmarshal(v, desc); err != nil {
		return nil, fmt.Errorf("replica: range %d: corrupt descriptor: %w", rangeID, err)
	}
	return desc, nil
}

// WriteDescriptor writes the range-local descriptor copy into b.
func WriteDescriptor(b *storage.Batch, desc *rpcpb.RangeDescriptor) error {
	v, err := proto.Marshal(desc)
	if err != nil {
		return err
	}
	return b.Set(keys.RangeDescKey(desc.RangeId), v)
}
