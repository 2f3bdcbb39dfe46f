package store

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// A node that stopped after a snapshot's state was committed but before
// its sstable was ingested finishes the ingestion when its store starts;
// staged files nothing refers to are deleted.
func TestSnapshotIngestRecoveredAtStart(t *testing.T) {
	tc := &testCluster{t: t, tr: &localTransport{stores: map[uint64]*Store{}, cut: map[uint64]bool{}}}
	eng := tc.openEngine(vfs.NewMem())
	defer eng.Close()
	w, err := eng.NewSSTWriter("snapshot-r9.sst")
	if err != nil {
		t.Fatal(err)
	}
	_ = w.DeleteRange([]byte("\x04a"), []byte("\x04b"))
	for i := 0; i < 100; i++ {
		if err := w.Set([]byte(fmt.Sprintf("\x04a%03d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	path, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := eng.NewSSTWriter("snapshot-stale.sst")
	_ = stale.Set([]byte("\x04zz"), []byte("x"))
	if _, err := stale.Finish(); err != nil {
		t.Fatal(err)
	}
	b := eng.NewBatch()
	_ = b.Set(keys.SnapshotIngestKey(9), []byte(path))
	if err := eng.Commit(b, true); err != nil {
		t.Fatal(err)
	}
	b.Close()

	s := New(Config{NodeID: 1, Engine: eng, Transport: tc.tr})
	if err := s.recoverSnapshots([]uint64{9}); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = eng.Scan([]byte("\x04"), []byte("\x05"), false, func(k, v []byte) bool { n++; return true })
	if n != 100 {
		t.Fatalf("%d keys after recovery, want the snapshot's 100 (and not the stale file's)", n)
	}
	if _, found, _ := eng.Get(keys.SnapshotIngestKey(9)); found {
		t.Fatal("the ingestion marker survived recovery")
	}
	if files, _ := eng.AuxFiles(); len(files) != 0 {
		t.Fatalf("staged files left: %v", files)
	}
	// Recovering again (a crash during recovery) changes nothing.
	if err := s.recoverSnapshots([]uint64{9}); err != nil {
		t.Fatal(err)
	}
}

// A range of 20k keys reaches a cut-off follower as a stream of small
// chunks; the follower ends with the same data.
func TestSnapshotStreamedInChunks(t *testing.T) {
	tc := newTestCluster(t, 3)
	for _, s := range tc.stores {
		s.cfg.SnapshotChunkBytes = func() int64 { return 4 << 10 }
	}
	if _, err := tc.send([]byte("a"), put("a", "1")); err != nil {
		t.Fatal(err)
	}
	tc.tr.mu.Lock()
	tc.tr.cut[3] = true
	tc.tr.mu.Unlock()
	const batch = 500
	for i := 0; i < 20000; i += batch {
		var ops []*rpcpb.Op
		for j := i; j < i+batch; j++ {
			k := fmt.Sprintf("c%06d", j)
			ops = append(ops, put(k, k))
		}
		if _, err := tc.send([]byte("c"), ops...); err != nil {
			t.Fatal(err)
		}
	}
	tc.tr.mu.Lock()
	tc.tr.cut[3] = false
	tc.tr.mu.Unlock()
	tc.waitChecksumsEqual(2)
	testutil.SucceedsSoon(t, func() error {
		if files, _ := tc.stores[2].cfg.Engine.AuxFiles(); len(files) != 0 {
			return fmt.Errorf("staged files left on the follower: %v", files)
		}
		return nil
	})
}

// The leader may stream the same snapshot again while the first copy is
// being applied: a copy staged after its index was applied is discarded
// at once, and applying a snapshot discards the staged ones it passes, so
// no staged file is left behind.
func TestStagedSnapshotsDiscarded(t *testing.T) {
	tc := &testCluster{t: t, tr: &localTransport{stores: map[uint64]*Store{}, cut: map[uint64]bool{}}}
	eng := tc.openEngine(vfs.NewMem())
	defer eng.Close()
	s := New(Config{NodeID: 1, Engine: eng, Transport: tc.tr})
	stage := func(name string) *replica.StagedSnapshot {
		w, err := eng.NewSSTWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Set([]byte("\x04k"), []byte("v"))
		path, err := w.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return &replica.StagedSnapshot{Path: path}
	}
	files := func() int {
		f, _ := eng.AuxFiles()
		return len(f)
	}
	a, b := stage("a.sst"), stage("b.sst")
	s.putStaged(2, 53, a)
	if got := s.TakeStagedSnapshot(2, 53); got != a {
		t.Fatalf("took %v, want the staged snapshot", got)
	}
	s.putStaged(2, 53, b) // a second copy, after the first was applied
	if n := files(); n != 1 {
		t.Fatalf("%d staged files after a late copy; want only the one being applied", n)
	}
	_ = eng.RemoveAux(a.Path)
	c, d := stage("c.sst"), stage("d.sst")
	s.putStaged(2, 60, c)
	s.putStaged(2, 61, d)
	if got := s.TakeStagedSnapshot(2, 61); got != d {
		t.Fatalf("took %v, want the snapshot at 61", got)
	}
	_ = eng.RemoveAux(d.Path)
	if n := files(); n != 0 {
		t.Fatalf("%d staged files left after applying past them", n)
	}
}
