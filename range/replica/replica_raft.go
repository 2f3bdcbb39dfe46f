package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// HandleReady processes one Raft Ready, if there is one. It returns an error
// only for a failure that must stop the node (a storage failure).
func (r *Replica) HandleReady() error {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	r.mu.Lock()
	if r.mu.destroyed {
		r.mu.Unlock()
		return nil
	}
	r.issueReadsLocked()
	if !r.mu.raw.HasReady() {
		r.mu.Unlock()
		return nil
	}
	rd := r.mu.raw.Ready()
	r.noteProposalIndexesLocked(rd.Entries)
	lost := r.observeStateLocked(rd)
	r.mu.Unlock()
	if lost {
		r.onLeaseLost()
	}

	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := r.applySnapshot(rd.Snapshot, rd.HardState); err != nil {
			return err
		}
	}
	early, late := splitMessages(rd.Messages)
	r.sendMessages(early)
	stable, unstable := splitCommitted(rd.CommittedEntries, rd.Entries)
	if err := r.persistAndApply(rd, stable); err != nil {
		return err
	}
	r.sendMessages(late)
	if err := r.applyCommitted(unstable); err != nil {
		return err
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range rd.ReadStates {
		r.mu.reads.indexKnown(rs.RequestCtx, rs.Index)
	}
	r.mu.raw.Advance(rd)
	r.mu.reads.releaseApplied(r.mu.applied)
	r.issueReadsLocked()
	if r.mu.raw.HasReady() {
		r.cfg.Host.Schedule(r.rangeID)
	}
	return nil
}

// StepMessage feeds a decoded message from the peer replica from into Raft.
func (r *Replica) StepMessage(from *rpcpb.ReplicaDescriptor, msg *pb.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.destroyed {
		return &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	if from != nil {
		r.mu.peers[from.ReplicaId] = from.NodeId
	}
	err := r.mu.raw.Step(msg)
	if err == raft.ErrStepPeerNotFound || err == raft.ErrStepLocalMsg {
		return nil
	}
	return err
}

// observeStateLocked tracks leadership and term; proposals made under a
// leadership or term that ended are ambiguous, pending reads fail.
func (r *Replica) observeStateLocked(rd raft.Ready) (leaseLost bool) {
	if rd.SoftState != nil {
		r.mu.leader = rd.SoftState.Lead
		wasLeader := r.mu.state == raft.StateLeader
		r.mu.state = rd.SoftState.RaftState
		if !wasLeader && r.mu.state == raft.StateLeader {
			r.cfg.Metrics.LeaderChanges.Inc()
		}
		if wasLeader && r.mu.state != raft.StateLeader {
			// Proposals already in the log stay: their index tells their
			// fate once the new leader's log is applied here.
			r.failProposalsLocked(func(p *proposal) bool { return p.index == 0 }, "leadership lost")
			r.mu.reads.failAll(r.notLeaseholderLocked())
			leaseLost = true
		}
	}
	if rd.HardState != nil && rd.HardState.GetTerm() != r.mu.term {
		r.mu.term = rd.HardState.GetTerm()
		term := r.mu.term
		r.failProposalsLocked(func(p *proposal) bool { return p.term < term && p.index == 0 }, "term changed")
	}
	return leaseLost
}

// splitMessages separates the messages that must wait until this Ready's
// entries and hard state are durable — votes for a candidate and
// acknowledgements of appended entries — from the rest, which may go out at
// once. It is the split etcd raft itself makes with AsyncStorageWrites
// (raft.send puts exactly these types in msgsAfterAppend). Sending the rest
// early is what lets the leader's MsgApp reach the followers while the
// leader fsyncs the same entries (Raft thesis §10.2.1): the leader counts
// itself towards a quorum only through its self-acknowledgement, which
// RawNode steps in Advance, after persist.
func splitMessages(msgs []*pb.Message) (early, late []*pb.Message) {
	for _, m := range msgs {
		switch m.GetType() {
		case pb.MsgAppResp, pb.MsgVoteResp, pb.MsgPreVoteResp:
			late = append(late, m)
		default:
			early = append(early, m)
		}
	}
	return early, late
}

// splitCommitted separates the committed entries that an earlier Ready made
// durable from those this Ready appends (a follower may learn that entries
// are committed in the message that carries them; in raft's synchronous
// mode they come out in the same Ready). Committed entries are never
// overwritten, so every one below the first appended index is stable.
func splitCommitted(committed, appended []*pb.Entry) (stable, unstable []*pb.Entry) {
	if len(appended) == 0 {
		return committed, nil
	}
	first := appended[0].GetIndex()
	i := sort.Search(len(committed), func(i int) bool { return committed[i].GetIndex() >= first })
	return committed[:i], committed[i:]
}

// persistAndApply persists rd's entries and hard state while it applies
// stable committed entries: their apply need not wait for this Ready's
// fsync. The unsynced apply batch may then become durable before the hard
// state that carries their commit index; raftlog.Load raises a durable
// commit index that lags the applied index on restart, which is sound
// because only committed entries are applied and each of them was synced
// by an earlier Ready.
func (r *Replica) persistAndApply(rd raft.Ready, stable []*pb.Entry) error {
	if len(stable) == 0 || !needsPersist(rd) {
		if err := r.persist(rd); err != nil {
			return err
		}
		return r.applyCommitted(stable)
	}
	done := make(chan error, 1)
	go func() { done <- r.persist(rd) }()
	aerr := r.applyCommitted(stable)
	perr := <-done
	return errors.Join(perr, aerr)
}

func needsPersist(rd raft.Ready) bool {
	return len(rd.Entries) > 0 || (rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState))
}

func (r *Replica) persist(rd raft.Ready) error {
	if !needsPersist(rd) {
		return nil
	}
	hasHS := rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState)
	b := r.cfg.Engine.NewBatch()
	defer b.Close()
	if err := r.log.Append(b, rd.Entries); err != nil {
		return err
	}
	if hasHS {
		if err := r.log.SetHardState(b, rd.HardState); err != nil {
			return err
		}
	}
	// MustSync: new entries, or a changed vote or term, must be durable
	// before any message that depends on them is sent.
	if err := r.cfg.Engine.Commit(b, rd.MustSync || len(rd.Entries) > 0); err != nil {
		return fmt.Errorf("range %d: persist raft state: %w", r.rangeID, err)
	}
	r.log.Persisted(rd.Entries, rd.HardState)
	return nil
}

func (r *Replica) sendMessages(msgs []*pb.Message) {
	if len(msgs) == 0 {
		return
	}
	r.mu.Lock()
	from := &rpcpb.ReplicaDescriptor{NodeId: r.cfg.NodeID, ReplicaId: r.mu.replicaID}
	type target struct {
		msg  *pb.Message
		node uint64
	}
	targets := make([]target, 0, len(msgs))
	for _, m := range msgs {
		node, ok := r.mu.peers[m.GetTo()]
		if !ok {
			r.mu.raw.ReportUnreachable(m.GetTo())
			continue
		}
		targets = append(targets, target{m, node})
	}
	r.mu.Unlock()
	for _, t := range targets {
		if t.msg.GetType() == pb.MsgSnap {
			// The snapshot's data streams separately, in chunks; Raft
			// hears how it went through ReportSnapshot.
			r.cfg.Host.SendSnapshot(r, t.msg, from, &rpcpb.ReplicaDescriptor{NodeId: t.node, ReplicaId: t.msg.GetTo()})
			continue
		}
		data, err := proto.Marshal(t.msg)
		if err != nil {
			r.cfg.Logger.Error("marshal raft message", "range", r.rangeID, "err", err)
			continue
		}
		sent := r.cfg.Host.SendRaft(&rpcpb.RaftMessage{
			RangeId: r.rangeID,
			From:    from,
			To:      &rpcpb.ReplicaDescriptor{NodeId: t.node, ReplicaId: t.msg.GetTo()},
			Message: data,
		})
		if !sent {
			// A dropped append would leave the follower's progress
			// optimistic; Raft probes it again instead.
			r.mu.Lock()
			r.mu.raw.ReportUnreachable(t.msg.GetTo())
			r.mu.Unlock()
		}
	}
}

// ReportSnapshot tells Raft whether the snapshot streamed to replicaID
// arrived. After a failure Raft sends a new one; after success it waits
// for the follower to acknowledge the snapshot's index.
func (r *Replica) ReportSnapshot(replicaID uint64, ok bool) {
	status := raft.SnapshotFinish
	if !ok {
		status = raft.SnapshotFailure
	}
	r.mu.Lock()
	if !r.mu.destroyed {
		r.mu.raw.ReportSnapshot(replicaID, status)
	}
	r.mu.Unlock()
	r.cfg.Host.Schedule(r.rangeID)
}

// ReportUnreachable tells Raft that sending to nodeID failed.
func (r *Replica) ReportUnreachable(nodeID uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for rid, n := range r.mu.peers {
		if n == nodeID {
			r.mu.raw.ReportUnreachable(rid)
		}
	}
}

// raftLogger adapts slog to raft.Logger; Raft's chatter goes to debug.
// Raft panics (Panic, Fatal) only on a broken invariant; fatal, if set,
// hears of it before the panic, so the node stops even where something up
// the stack recovers panics (a gRPC handler, a pgwire connection) and would
// otherwise go on with a RawNode left half-way through a step.
type raftLogger struct {
	l     *slog.Logger
	fatal func(error)
}

func (l raftLogger) Debug(v ...any)              { l.l.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Debugf(f string, v ...any)   { l.l.Debug(fmt.Sprintf(f, v...)) }
func (l raftLogger) Error(v ...any)              { l.l.Error(fmt.Sprint(v...)) }
func (l raftLogger) Errorf(f string, v ...any)   { l.l.Error(fmt.Sprintf(f, v...)) }
func (l raftLogger) Info(v ...any)               { l.l.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Infof(f string, v ...any)    { l.l.Debug(fmt.Sprintf(f, v...)) }
func (l raftLogger) Warning(v ...any)            { l.l.Warn(fmt.Sprint(v...)) }
func (l raftLogger) Warningf(f string, v ...any) { l.l.Warn(fmt.Sprintf(f, v...)) }
func (l raftLogger) Fatal(v ...any)              { l.die(fmt.Sprint(v...)) }
func (l raftLogger) Fatalf(f string, v ...any)   { l.die(fmt.Sprintf(f, v...)) }
func (l raftLogger) Panic(v ...any)              { l.die(fmt.Sprint(v...)) }
func (l raftLogger) Panicf(f string, v ...any)   { l.die(fmt.Sprintf(f, v...)) }

func (l raftLogger) die(msg string) {
	l.l.Error("raft invariant broken", "err", msg, "stack", string(debug.Stack()))
	if l.fatal != nil {
		l.fatal(fmt.Errorf("raft: %s", msg))
	}
	panic(msg)
}
