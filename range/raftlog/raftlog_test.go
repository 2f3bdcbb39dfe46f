package raftlog_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

const rangeID = 7

func openEngine(t testing.TB, fs vfs.FS) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(storage.Config{Dir: "/db", FS: fs, CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func load(t testing.TB, eng *storage.Engine) *raftlog.Storage {
	t.Helper()
	s, err := raftlog.Load(eng, rangeID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ent(index, term uint64) *pb.Entry {
	return &pb.Entry{Index: proto.Uint64(index), Term: proto.Uint64(term), Data: fmt.Appendf(nil, "e%d.%d", index, term)}
}

// ents returns entries lo..hi (inclusive) at term.
func ents(lo, hi, term uint64) []*pb.Entry {
	var out []*pb.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, ent(i, term))
	}
	return out
}

func hardState(term, vote, commit uint64) *pb.HardState {
	return &pb.HardState{Term: proto.Uint64(term), Vote: proto.Uint64(vote), Commit: proto.Uint64(commit)}
}

// persist appends es and hs in one batch committed with sync, as the
// replica's Ready loop does, then tells s.
func persist(t testing.TB, eng *storage.Engine, s *raftlog.Storage, es []*pb.Entry, hs *pb.HardState, sync bool) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := s.Append(b, es); err != nil {
		t.Fatal(err)
	}
	if hs != nil {
		if err := s.SetHardState(b, hs); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Commit(b, sync); err != nil {
		t.Fatal(err)
	}
	s.Persisted(es, hs)
}

// terms returns the term of every index in [first-1, last] via Term, and
// checks Entries agrees on the indexes it returns.
func terms(t *testing.T, s *raftlog.Storage) []uint64 {
	t.Helper()
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	var out []uint64
	for i := first - 1; i <= last; i++ {
		term, err := s.Term(i)
		if err != nil {
			t.Fatalf("Term(%d) in [%d,%d]: %v", i, first-1, last, err)
		}
		out = append(out, term)
	}
	if last >= first {
		es, err := s.Entries(first, last+1, math.MaxUint64)
		if err != nil {
			t.Fatalf("Entries(%d,%d): %v", first, last+1, err)
		}
		for j, e := range es {
			if e.GetIndex() != first+uint64(j) || e.GetTerm() != out[j+1] {
				t.Fatalf("entry %d = (%d,%d), Term says %d", first+uint64(j), e.GetIndex(), e.GetTerm(), out[j+1])
			}
			if want := fmt.Sprintf("e%d.%d", e.GetIndex(), e.GetTerm()); string(e.GetData()) != want {
				t.Fatalf("entry %d data %q, want %q", e.GetIndex(), e.GetData(), want)
			}
		}
		if len(es) != int(last-first+1) {
			t.Fatalf("Entries returned %d entries, want %d", len(es), last-first+1)
		}
	}
	return out
}

func TestAppendOverwrite(t *testing.T) {
	type step struct{ lo, hi, term uint64 }
	for _, tc := range []struct {
		name  string
		steps []step
		// want: terms of indexes 0..last.
		want []uint64
	}{
		{"empty", nil, []uint64{0}},
		{"one append", []step{{1, 5, 1}}, []uint64{0, 1, 1, 1, 1, 1}},
		{"extend", []step{{1, 3, 1}, {4, 5, 2}}, []uint64{0, 1, 1, 1, 2, 2}},
		{"shorter conflicting suffix", []step{{1, 5, 1}, {3, 3, 2}}, []uint64{0, 1, 1, 2}},
		{"equal length overwrite", []step{{1, 5, 1}, {4, 5, 3}}, []uint64{0, 1, 1, 1, 3, 3}},
		{"longer overwrite", []step{{1, 5, 1}, {3, 8, 2}}, []uint64{0, 1, 1, 2, 2, 2, 2, 2, 2}},
		{"overwrite from the start", []step{{1, 5, 1}, {1, 2, 4}}, []uint64{0, 4, 4}},
		{"overwrite twice", []step{{1, 9, 1}, {5, 6, 2}, {3, 3, 3}, {4, 7, 4}}, []uint64{0, 1, 1, 3, 4, 4, 4, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			eng := openEngine(t, fs)
			s := load(t, eng)
			for _, st := range tc.steps {
				persist(t, eng, s, ents(st.lo, st.hi, st.term), nil, true)
			}
			check := func(s *raftlog.Storage) {
				t.Helper()
				if got := terms(t, s); !slices.Equal(got, tc.want) {
					t.Fatalf("terms = %v, want %v", got, tc.want)
				}
				last, _ := s.LastIndex()
				if _, err := s.Term(last + 1); !errors.Is(err, raft.ErrUnavailable) {
					t.Errorf("Term(last+1) = %v, want ErrUnavailable", err)
				}
				if _, err := s.Entries(1, last+2, math.MaxUint64); err == nil {
					t.Errorf("Entries past last index succeeded")
				}
				// Nothing of an overwritten suffix remains on disk.
				n := 0
				_ = eng.Scan(keys.RaftLogPrefix(rangeID), keys.PrefixEnd(keys.RaftLogPrefix(rangeID)), false, func(k, v []byte) bool {
					n++
					return true
				})
				if n != int(last) {
					t.Errorf("%d log keys on disk, want %d", n, last)
				}
			}
			check(s)
			// The same view after a restart.
			if err := eng.Close(); err != nil {
				t.Fatal(err)
			}
			eng = openEngine(t, fs)
			defer eng.Close()
			check(load(t, eng))
		})
	}
}

func TestEntriesMaxSize(t *testing.T) {
	eng := openEngine(t, vfs.NewMem())
	defer eng.Close()
	s := load(t, eng)
	persist(t, eng, s, ents(1, 10, 1), nil, true)
	size := uint64(proto.Size(ent(1, 1)))
	for _, tc := range []struct {
		lo, hi, maxSize uint64
		want            int
	}{
		{1, 11, 0, 1}, // always at least one entry
		{1, 11, size, 1},
		{1, 11, 3 * size, 3},
		{1, 11, 3*size + 1, 3},
		{1, 11, math.MaxUint64, 10},
		{4, 6, math.MaxUint64, 2},
		{10, 11, 0, 1},
	} {
		es, err := s.Entries(tc.lo, tc.hi, tc.maxSize)
		if err != nil || len(es) != tc.want {
			t.Errorf("Entries(%d,%d,%d) = %d entries, %v; want %d", tc.lo, tc.hi, tc.maxSize, len(es), err, tc.want)
			continue
		}
		if es[0].GetIndex() != tc.lo {
			t.Errorf("Entries(%d,...) starts at %d", tc.lo, es[0].GetIndex())
		}
	}
}

func TestTruncate(t *testing.T) {
	fs := vfs.NewMem()
	eng := openEngine(t, fs)
	s := load(t, eng)
	persist(t, eng, s, append(ents(1, 5, 1), ents(6, 10, 2)...), hardState(2, 1, 10), true)
	truncate := func(s *raftlog.Storage, index uint64) error {
		b := eng.NewBatch()
		defer b.Close()
		ts, err := s.Truncate(b, index)
		if err != nil {
			return err
		}
		if ts != (raftlog.TruncatedState{Index: index, Term: mustTerm(t, s, index)}) {
			t.Fatalf("Truncate(%d) = %+v", index, ts)
		}
		if err := eng.Commit(b, false); err != nil {
			t.Fatal(err)
		}
		s.SetTruncated(ts)
		return nil
	}
	if err := truncate(s, 11); !errors.Is(err, raft.ErrUnavailable) {
		t.Fatalf("truncate past last = %v, want ErrUnavailable", err)
	}
	if err := truncate(s, 6); err != nil {
		t.Fatal(err)
	}
	check := func(s *raftlog.Storage) {
		t.Helper()
		if first, _ := s.FirstIndex(); first != 7 {
			t.Errorf("FirstIndex = %d, want 7", first)
		}
		if last, _ := s.LastIndex(); last != 10 {
			t.Errorf("LastIndex = %d, want 10", last)
		}
		if got := s.Truncated(); got != (raftlog.TruncatedState{Index: 6, Term: 2}) {
			t.Errorf("Truncated = %+v", got)
		}
		for _, tc := range []struct {
			i    uint64
			term uint64
			err  error
		}{{0, 0, raft.ErrCompacted}, {5, 0, raft.ErrCompacted}, {6, 2, nil}, {7, 2, nil}, {10, 2, nil}, {11, 0, raft.ErrUnavailable}} {
			term, err := s.Term(tc.i)
			if term != tc.term || !errors.Is(err, tc.err) {
				t.Errorf("Term(%d) = %d, %v; want %d, %v", tc.i, term, err, tc.term, tc.err)
			}
		}
		if _, err := s.Entries(6, 8, math.MaxUint64); !errors.Is(err, raft.ErrCompacted) {
			t.Errorf("Entries below first = %v, want ErrCompacted", err)
		}
		if es, err := s.Entries(7, 11, math.MaxUint64); err != nil || len(es) != 4 {
			t.Errorf("Entries(7,11) = %d, %v", len(es), err)
		}
	}
	check(s)
	// Truncating below the truncated index is refused; at it, a no-op.
	if err := truncate(s, 5); !errors.Is(err, raft.ErrCompacted) {
		t.Errorf("truncate below first = %v, want ErrCompacted", err)
	}
	if err := truncate(s, 6); err != nil {
		t.Errorf("truncate at the truncated index: %v", err)
	}
	check(s)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = openEngine(t, fs)
	defer eng.Close()
	s = load(t, eng)
	check(s)
	// Truncating everything leaves an empty log whose last index is the
	// truncated one.
	if err := truncate(s, 10); err != nil {
		t.Fatal(err)
	}
	if f, l := mustFirstLast(s); f != 11 || l != 10 {
		t.Errorf("after full truncation first, last = %d, %d; want 11, 10", f, l)
	}
	if term := mustTerm(t, s, 10); term != 2 {
		t.Errorf("Term(10) = %d", term)
	}
	persist(t, eng, s, ents(11, 12, 3), nil, true)
	if f, l := mustFirstLast(load(t, eng)); f != 11 || l != 12 {
		t.Errorf("after append first, last = %d, %d; want 11, 12", f, l)
	}
}

func mustTerm(t *testing.T, s *raftlog.Storage, i uint64) uint64 {
	t.Helper()
	term, err := s.Term(i)
	if err != nil {
		t.Fatalf("Term(%d): %v", i, err)
	}
	return term
}

func mustFirstLast(s *raftlog.Storage) (uint64, uint64) {
	f, _ := s.FirstIndex()
	l, _ := s.LastIndex()
	return f, l
}

func TestApplySnapshot(t *testing.T) {
	for _, tc := range []struct {
		name          string
		log           []*pb.Entry
		index, term   uint64
		wantLogKeys   int
		appendedAfter []*pb.Entry
	}{
		{"empty log", nil, 20, 3, 0, ents(21, 22, 3)},
		{"behind the snapshot", ents(1, 10, 1), 20, 3, 0, ents(21, 23, 3)},
		{"log past the snapshot is dropped", ents(1, 30, 1), 20, 3, 0, ents(21, 21, 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := vfs.NewMem()
			eng := openEngine(t, fs)
			s := load(t, eng)
			persist(t, eng, s, tc.log, nil, true)
			conf := &pb.ConfState{Voters: []uint64{1, 2, 3}, Learners: []uint64{4}}
			snap := &pb.Snapshot{Metadata: &pb.SnapshotMetadata{Index: proto.Uint64(tc.index), Term: proto.Uint64(tc.term), ConfState: conf}}
			b := eng.NewBatch()
			// The Ready carrying the snapshot has no hard state here: the
			// stored one (commit 0) must still be raised to the snapshot.
			hs, err := s.ApplySnapshot(b, snap, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The replica writes the applied state in the same batch.
			as := raftlog.AppliedState{Index: tc.index, Term: tc.term, Conf: conf}
			if err := raftlog.WriteAppliedState(b, rangeID, as); err != nil {
				t.Fatal(err)
			}
			if err := eng.Commit(b, true); err != nil {
				t.Fatal(err)
			}
			b.Close()
			s.SnapshotApplied(snap, hs)
			check := func(s *raftlog.Storage) {
				t.Helper()
				if f, l := mustFirstLast(s); f != tc.index+1 || l != tc.index {
					t.Errorf("first, last = %d, %d; want %d, %d", f, l, tc.index+1, tc.index)
				}
				if term := mustTerm(t, s, tc.index); term != tc.term {
					t.Errorf("Term(snapshot index) = %d, want %d", term, tc.term)
				}
				if _, err := s.Term(tc.index - 1); !errors.Is(err, raft.ErrCompacted) {
					t.Errorf("Term below snapshot = %v, want ErrCompacted", err)
				}
				if _, err := s.Entries(tc.index, tc.index+1, math.MaxUint64); !errors.Is(err, raft.ErrCompacted) {
					t.Errorf("Entries at snapshot = %v, want ErrCompacted", err)
				}
				hs, cs, err := s.InitialState()
				if err != nil || !proto.Equal(cs, conf) {
					t.Errorf("InitialState conf = %v, %v; want %v", cs, err, conf)
				}
				// Raft refuses to load a commit index below the snapshot.
				if hs.GetCommit() != tc.index || hs.GetTerm() < tc.term {
					t.Errorf("hard state after snapshot = %v; want commit %d, term >= %d", hs, tc.index, tc.term)
				}
			}
			check(s)
			check(load(t, eng))
			persist(t, eng, s, tc.appendedAfter, nil, true)
			last := tc.appendedAfter[len(tc.appendedAfter)-1].GetIndex()
			for _, s := range []*raftlog.Storage{s, load(t, eng)} {
				if f, l := mustFirstLast(s); f != tc.index+1 || l != last {
					t.Errorf("after append first, last = %d, %d; want %d, %d", f, l, tc.index+1, last)
				}
				terms(t, s)
			}
			_ = eng.Close()
		})
	}
}

func TestStateRoundTrip(t *testing.T) {
	eng := openEngine(t, vfs.NewMem())
	defer eng.Close()
	// Absent state reads as empty.
	if hs, err := raftlog.LoadHardState(eng, rangeID); err != nil || !raft.IsEmptyHardState(hs) {
		t.Errorf("absent hard state = %v, %v", hs, err)
	}
	if ts, err := raftlog.LoadTruncatedState(eng, rangeID); err != nil || ts != (raftlog.TruncatedState{}) {
		t.Errorf("absent truncated state = %v, %v", ts, err)
	}
	if as, err := raftlog.LoadAppliedState(eng, rangeID); err != nil || as.Index != 0 || as.Conf == nil {
		t.Errorf("absent applied state = %+v, %v", as, err)
	}
	for _, tc := range []struct {
		name  string
		hs    *pb.HardState
		trunc raftlog.TruncatedState
		as    raftlog.AppliedState
	}{
		{"zero", &pb.HardState{}, raftlog.TruncatedState{}, raftlog.AppliedState{Conf: &pb.ConfState{}}},
		{"small", hardState(5, 1, 10), raftlog.TruncatedState{Index: 10, Term: 5},
			raftlog.AppliedState{Index: 10, Term: 5, Conf: &pb.ConfState{Voters: []uint64{1}}}},
		{"max", hardState(math.MaxUint64, math.MaxUint64, math.MaxUint64),
			raftlog.TruncatedState{Index: math.MaxUint64, Term: math.MaxUint64},
			raftlog.AppliedState{Index: math.MaxUint64, Term: math.MaxUint64, Conf: &pb.ConfState{
				Voters: []uint64{1, 2, 3}, Learners: []uint64{4}, VotersOutgoing: []uint64{1, 2, 5},
				LearnersNext: []uint64{5}, AutoLeave: proto.Bool(true)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := eng.NewBatch()
			defer b.Close()
			for _, err := range []error{
				raftlog.WriteHardState(b, rangeID, tc.hs),
				raftlog.WriteTruncatedState(b, rangeID, tc.trunc),
				raftlog.WriteAppliedState(b, rangeID, tc.as),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := eng.Commit(b, true); err != nil {
				t.Fatal(err)
			}
			hs, err := raftlog.LoadHardState(eng, rangeID)
			if err != nil || !proto.Equal(hs, tc.hs) {
				t.Errorf("hard state = %v, %v; want %v", hs, err, tc.hs)
			}
			ts, err := raftlog.LoadTruncatedState(eng, rangeID)
			if err != nil || ts != tc.trunc {
				t.Errorf("truncated state = %+v, %v; want %+v", ts, err, tc.trunc)
			}
			as, err := raftlog.LoadAppliedState(eng, rangeID)
			if err != nil || as.Index != tc.as.Index || as.Term != tc.as.Term || !proto.Equal(as.Conf, tc.as.Conf) {
				t.Errorf("applied state = %+v, %v; want %+v", as, err, tc.as)
			}
		})
	}
	// Other ranges' state is separate.
	if hs, err := raftlog.LoadHardState(eng, rangeID+1); err != nil || !raft.IsEmptyHardState(hs) {
		t.Errorf("range %d hard state = %v, %v", rangeID+1, hs, err)
	}
}

// TestPersistedHardState checks InitialState follows Persisted, and that an
// empty HardState in a Ready does not clobber the last one.
func TestPersistedHardState(t *testing.T) {
	eng := openEngine(t, vfs.NewMem())
	defer eng.Close()
	s := load(t, eng)
	persist(t, eng, s, ents(1, 2, 1), hardState(1, 1, 2), true)
	s.Persisted(nil, &pb.HardState{})
	s.Persisted(nil, nil)
	for _, s := range []*raftlog.Storage{s, load(t, eng)} {
		hs, _, err := s.InitialState()
		if err != nil || !proto.Equal(hs, hardState(1, 1, 2)) {
			t.Errorf("InitialState hard state = %v, %v", hs, err)
		}
	}
}
