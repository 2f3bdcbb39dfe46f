package raftlog_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Initial state of the test group, as WriteInitialState writes a range.
const (
	initIndex = 10
	initTerm  = 5
	logKeep   = 20
)

// dataKey is where the test state machine stores the entry applied at index.
func dataKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("\x04data/"), index)
}

// testNode drives a single-voter raft.RawNode over raftlog.Storage the way
// the replica's Ready loop does: entries and HardState in one batch (synced
// when there are entries or MustSync), each committed entry applied in its
// own unsynced batch with the applied state, truncation in an unsynced batch.
// It records what was durable, for the crash checks.
type testNode struct {
	t   testing.TB
	eng *storage.Engine
	s   *raftlog.Storage
	raw *raft.RawNode

	applied uint64
	// synced holds every entry last written by a synced batch, by index.
	synced map[uint64]*pb.Entry
	// syncedHS is the last HardState written by a synced batch.
	syncedHS *pb.HardState
}

func bootstrapGroup(t testing.TB, eng *storage.Engine) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	for _, err := range []error{
		raftlog.WriteAppliedState(b, rangeID, raftlog.AppliedState{Index: initIndex, Term: initTerm, Conf: &pb.ConfState{Voters: []uint64{1}}}),
		raftlog.WriteTruncatedState(b, rangeID, raftlog.TruncatedState{Index: initIndex, Term: initTerm}),
		raftlog.WriteHardState(b, rangeID, hardState(initTerm, 0, initIndex)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Commit(b, true); err != nil {
		t.Fatal(err)
	}
}

// startNode loads the group from eng and makes it leader.
func startNode(t testing.TB, eng *storage.Engine) *testNode {
	t.Helper()
	s := load(t, eng)
	as, err := raftlog.LoadAppliedState(eng, rangeID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := raft.NewRawNode(&raft.Config{
		ID:              1,
		ElectionTick:    10,
		HeartbeatTick:   1,
		Storage:         s,
		Applied:         as.Index,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 256,
		Logger:          &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs, _, _ := s.InitialState()
	n := &testNode{t: t, eng: eng, s: s, raw: raw, applied: as.Index, synced: map[uint64]*pb.Entry{}, syncedHS: hs}
	first, last := mustFirstLast(s)
	if first <= last {
		es, err := s.Entries(first, last+1, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			n.synced[e.GetIndex()] = e
		}
	}
	if err := raw.Campaign(); err != nil {
		t.Fatal(err)
	}
	n.stabilize()
	if st := raw.BasicStatus(); st.RaftState != raft.StateLeader {
		t.Fatalf("single voter is %v after campaigning", st.RaftState)
	}
	return n
}

// stabilize handles Readies until there are none.
func (n *testNode) stabilize() {
	for n.raw.HasReady() {
		rd := n.raw.Ready()
		if !raft.IsEmptySnap(rd.Snapshot) {
			n.t.Fatal("unexpected snapshot in a single-voter group")
		}
		n.persist(rd)
		n.apply(rd.CommittedEntries)
		n.raw.Advance(rd)
	}
}

func (n *testNode) persist(rd raft.Ready) {
	hasHS := rd.HardState != nil && !raft.IsEmptyHardState(rd.HardState)
	if len(rd.Entries) == 0 && !hasHS {
		return
	}
	sync := rd.MustSync || len(rd.Entries) > 0
	b := n.eng.NewBatch()
	defer b.Close()
	if err := n.s.Append(b, rd.Entries); err != nil {
		n.t.Fatal(err)
	}
	if hasHS {
		if err := n.s.SetHardState(b, rd.HardState); err != nil {
			n.t.Fatal(err)
		}
	}
	if err := n.eng.Commit(b, sync); err != nil {
		n.t.Fatal(err)
	}
	n.s.Persisted(rd.Entries, rd.HardState)
	if !sync {
		return
	}
	// A synced batch makes everything before it durable too (the WAL is
	// written in order), including earlier unsynced HardStates.
	if len(rd.Entries) > 0 {
		for i := rd.Entries[0].GetIndex(); n.synced[i] != nil; i++ {
			delete(n.synced, i)
		}
	}
	for _, e := range rd.Entries {
		n.synced[e.GetIndex()] = e
	}
	if hasHS {
		n.syncedHS = proto.Clone(rd.HardState).(*pb.HardState)
	} else if hs, _, _ := n.s.InitialState(); hs != nil {
		n.syncedHS = hs
	}
}

func (n *testNode) apply(ents []*pb.Entry) {
	for _, e := range ents {
		if e.GetIndex() <= n.applied {
			continue
		}
		b := n.eng.NewBatch()
		if err := b.Set(dataKey(e.GetIndex()), e.GetData()); err != nil {
			n.t.Fatal(err)
		}
		as := raftlog.AppliedState{Index: e.GetIndex(), Term: e.GetTerm(), Conf: &pb.ConfState{Voters: []uint64{1}}}
		if err := raftlog.WriteAppliedState(b, rangeID, as); err != nil {
			n.t.Fatal(err)
		}
		if err := n.eng.Commit(b, false); err != nil {
			n.t.Fatal(err)
		}
		b.Close()
		n.applied = e.GetIndex()
	}
	n.maybeTruncate()
}

func (n *testNode) maybeTruncate() {
	trunc := n.s.Truncated()
	if n.applied < trunc.Index+2*logKeep {
		return
	}
	b := n.eng.NewBatch()
	defer b.Close()
	ts, err := n.s.Truncate(b, n.applied-logKeep)
	if err != nil {
		n.t.Fatal(err)
	}
	if err := n.eng.Commit(b, false); err != nil {
		n.t.Fatal(err)
	}
	n.s.SetTruncated(ts)
}

// propose proposes data and drives the node until it is applied.
func (n *testNode) propose(data []byte) {
	if err := n.raw.Propose(data); err != nil {
		n.t.Fatal(err)
	}
	n.stabilize()
}

// appliedData returns the data of every applied non-empty entry.
func appliedData(t testing.TB, eng *storage.Engine) map[string]int {
	t.Helper()
	out := map[string]int{}
	err := eng.Scan(dataKey(0), dataKey(1<<62), false, func(k, v []byte) bool {
		if len(v) > 0 {
			out[string(v)]++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRawNodeRestarts drives a real single-voter RawNode over the Storage
// through a few hundred proposals with restarts (close, reopen, Load): every
// proposal is applied exactly once and the retained log survives each
// restart unchanged.
func TestRawNodeRestarts(t *testing.T) {
	fs := vfs.NewMem()
	eng := openEngine(t, fs)
	bootstrapGroup(t, eng)
	n := startNode(t, eng)
	rng := rand.New(rand.NewPCG(1, 2))
	const proposals = 300
	for i := 0; i < proposals; i++ {
		n.propose(fmt.Appendf(nil, "p%d", i))
		if rng.IntN(40) != 0 && i != proposals-1 {
			continue
		}
		before := n.synced
		first, last := mustFirstLast(n.s)
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
		eng = openEngine(t, fs)
		n = startNode(t, eng)
		if f, l := mustFirstLast(n.s); f != first || l < last {
			t.Fatalf("after restart log is [%d,%d], was [%d,%d]", f, l, first, last)
		}
		for i := first; i <= last; i++ {
			e, err := n.s.Entries(i, i+1, 1<<40)
			if err != nil || !proto.Equal(e[0], before[i]) {
				t.Fatalf("entry %d after restart = %v, %v; want %v", i, e, err, before[i])
			}
		}
	}
	got := appliedData(t, eng)
	for i := 0; i < proposals; i++ {
		if c := got[fmt.Sprintf("p%d", i)]; c != 1 {
			t.Errorf("proposal %d applied %d times", i, c)
		}
	}
	if len(got) != proposals {
		t.Errorf("%d distinct commands applied, want %d", len(got), proposals)
	}
	if first, _ := mustFirstLast(n.s); first <= initIndex+1 {
		t.Errorf("log never truncated: first index %d", first)
	}
	_ = eng.Close()
}
