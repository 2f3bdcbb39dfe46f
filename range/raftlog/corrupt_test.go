package raftlog_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"go.etcd.io/raft/v3"
	"google.golang.org/protobuf/proto"
)

func setRaw(t testing.TB, eng *storage.Engine, key, value []byte) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := b.Set(key, value); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b, false); err != nil {
		t.Fatal(err)
	}
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	v, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCorruptStateIsAnError writes damaged values under the Raft keys and
// checks every reader reports an error rather than panicking or making up
// state.
func TestCorruptStateIsAnError(t *testing.T) {
	garbage := []byte{0xff, 0xff, 0xff}
	for _, tc := range []struct {
		name  string
		key   []byte
		value []byte
		// which reads must fail.
		load, entries, term bool
	}{
		{"last entry garbage", keys.RaftLogKey(rangeID, 5), garbage, true, true, true},
		{"middle entry garbage", keys.RaftLogKey(rangeID, 3), garbage, false, true, true},
		{"middle entry truncated", keys.RaftLogKey(rangeID, 3), marshal(t, ent(3, 1))[:3], false, true, true},
		{"last entry with another index", keys.RaftLogKey(rangeID, 5), marshal(t, ent(9, 1)), true, true, false},
		{"middle entry with another index", keys.RaftLogKey(rangeID, 3), marshal(t, ent(4, 1)), false, true, false},
		{"hard state garbage", keys.HardStateKey(rangeID), garbage, true, false, false},
		{"truncated state short", keys.TruncatedStateKey(rangeID), []byte{0, 0, 0, 1}, true, false, false},
		{"truncated state long", keys.TruncatedStateKey(rangeID), make([]byte, 17), true, false, false},
		{"applied state short", keys.AppliedStateKey(rangeID), []byte{1, 2, 3}, true, false, false},
		{"applied state bad conf", keys.AppliedStateKey(rangeID), append(make([]byte, 16), garbage...), true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := openEngine(t, vfs.NewMem())
			defer eng.Close()
			persist(t, eng, load(t, eng), ents(1, 5, 1), hardState(1, 1, 5), true)
			// A Storage loaded before the damage, whose entry cache is
			// empty: it holds only entries that Storage persisted itself.
			s := load(t, eng)
			setRaw(t, eng, tc.key, tc.value)

			_, err := raftlog.Load(eng, rangeID, nil)
			if tc.load && err == nil {
				t.Errorf("Load succeeded over corrupt state")
			}
			if !tc.load && err != nil {
				t.Errorf("Load: %v", err)
			}
			// s still holds the view from before the damage: reads of the
			// damaged entry must fail.
			_, err = s.Entries(1, 6, math.MaxUint64)
			if tc.entries && err == nil {
				t.Errorf("Entries succeeded over a corrupt entry")
			}
			if tc.entries && errors.Is(err, raft.ErrUnavailable) {
				t.Errorf("Entries over a corrupt entry = %v; corruption is not ErrUnavailable", err)
			}
			if tc.term {
				if _, err := s.Term(3); err == nil && bytes.Contains(tc.key, keys.RaftLogKey(rangeID, 3)) {
					t.Errorf("Term of a corrupt entry succeeded")
				}
			}
		})
	}
}

// FuzzRaftEntryDecode stores arbitrary bytes under some of the Raft keys
// (the log entry at index 3, HardState, truncated state, applied state; the
// bits of which choose) and reads them back through every reader: each must
// return an error or a consistent answer, never panic.
func FuzzRaftEntryDecode(f *testing.F) {
	for _, seed := range []struct {
		v     []byte
		which uint8
	}{
		{nil, 0xf},
		{[]byte{0xff}, 1},
		{marshal(f, ent(3, 1)), 1},
		{marshal(f, ent(9, 1)), 1},
		{marshal(f, hardState(1, 1, 3)), 2},
		{append(make([]byte, 16), 0x08, 0x01), 8},
	} {
		f.Add(seed.v, seed.which)
	}
	eng := openEngine(f, vfs.NewMem())
	defer eng.Close()
	f.Fuzz(func(t *testing.T, v []byte, which uint8) {
		b := eng.NewBatch()
		defer b.Close()
		start, end := keys.UnreplicatedSpan(rangeID)
		_ = b.DeleteRange(start, end)
		for _, e := range ents(1, 2, 1) {
			_ = b.Set(keys.RaftLogKey(rangeID, e.GetIndex()), marshal(t, e))
		}
		_ = b.Set(keys.RaftLogKey(rangeID, 3), marshal(t, ent(3, 1)))
		_ = b.Delete(keys.AppliedStateKey(rangeID))
		for bit, k := range [][]byte{
			keys.RaftLogKey(rangeID, 3), keys.HardStateKey(rangeID),
			keys.TruncatedStateKey(rangeID), keys.AppliedStateKey(rangeID),
		} {
			if which&(1<<bit) != 0 {
				_ = b.Set(k, v)
			}
		}
		if err := eng.Commit(b, false); err != nil {
			t.Fatal(err)
		}
		_, _ = raftlog.LoadHardState(eng, rangeID)
		_, _ = raftlog.LoadAppliedState(eng, rangeID)
		trunc, terr := raftlog.LoadTruncatedState(eng, rangeID)
		s, err := raftlog.Load(eng, rangeID, nil)
		if err != nil {
			return
		}
		if terr != nil {
			t.Fatalf("Load succeeded over a corrupt truncated state")
		}
		first, _ := s.FirstIndex()
		last, _ := s.LastIndex()
		if first != trunc.Index+1 {
			t.Fatalf("FirstIndex %d, truncated state %+v", first, trunc)
		}
		// The log holds keys 1..3; the last index must be one of them (or
		// the truncated index), never an index read out of corrupt bytes.
		if last != trunc.Index && (last > 3 || last < trunc.Index) {
			t.Fatalf("LastIndex %d with log keys 1..3 and truncated state %+v", last, trunc)
		}
		_, _, _ = s.InitialState()
		for i := first - 1; i <= last && i-first < 8; i++ {
			_, _ = s.Term(i)
		}
		if last >= first && last-first < 8 {
			es, err := s.Entries(first, last+1, math.MaxUint64)
			for j, e := range es {
				if err == nil && e.GetIndex() != first+uint64(j) {
					t.Fatalf("Entries returned index %d at position %d from %d", e.GetIndex(), j, first)
				}
			}
		}
	})
}
