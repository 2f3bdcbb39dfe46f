package raftlog_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"google.golang.org/protobuf/proto"
)

// TestCrashRecovery runs the single-voter group on a crashable in-memory
// filesystem and crashes it at random points: the crash clone keeps what
// was synced and, with UnsyncedDataPercent 50, a random part of the rest.
// After every crash the node must reopen, and
//   - every entry written by a synced batch is still in the log (or below
//     the truncated index);
//   - HardState term and commit never fall below the last synced ones;
//   - the applied index is at most the durable commit and last log index,
//     and the state machine holds every entry up to it;
//
// then the node carries on from the recovered state.
func TestCrashRecovery(t *testing.T) {
	seeds := 50
	if testing.Short() {
		seeds = 10
	}
	for _, unsynced := range []int{0, 50} {
		for seed := 1; seed <= seeds; seed++ {
			t.Run(fmt.Sprintf("unsynced=%d/seed=%d", unsynced, seed), func(t *testing.T) {
				runCrashSeed(t, uint64(seed), unsynced)
			})
		}
	}
}

func runCrashSeed(t *testing.T, seed uint64, unsynced int) {
	rng := rand.New(rand.NewPCG(seed, uint64(unsynced)))
	fs := vfs.NewCrashableMem()
	eng := openEngine(t, fs)
	bootstrapGroup(t, eng)
	n := startNode(t, eng)
	const ops = 300
	crashes := 0
	for i := 0; i < ops; i++ {
		n.propose(fmt.Appendf(nil, "s%d.%d", seed, i))
		if rng.IntN(60) != 0 && i != ops-1 {
			continue
		}
		crashes++
		clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsynced, RNG: rng})
		_ = eng.Close()
		fs = clone
		eng = openEngine(t, fs)
		n = recoverAndCheck(t, n, eng)
	}
	if crashes == 0 {
		t.Fatal("no crash")
	}
	_ = eng.Close()
}

// recoverAndCheck reopens the group on eng after a crash of old and checks
// the invariants against what old had made durable.
func recoverAndCheck(t *testing.T, old *testNode, eng *storage.Engine) *testNode {
	t.Helper()
	hs, err := raftlog.LoadHardState(eng, rangeID)
	if err != nil {
		t.Fatal(err)
	}
	as, err := raftlog.LoadAppliedState(eng, rangeID)
	if err != nil {
		t.Fatal(err)
	}
	s := load(t, eng)
	trunc := s.Truncated()
	first, last := mustFirstLast(s)
	if hs.GetTerm() < old.syncedHS.GetTerm() || hs.GetCommit() < old.syncedHS.GetCommit() {
		t.Fatalf("HardState regressed: %v, last synced %v", hs, old.syncedHS)
	}
	if as.Index > hs.GetCommit() || as.Index > last {
		t.Fatalf("applied index %d beyond durable commit %d or last index %d", as.Index, hs.GetCommit(), last)
	}
	if as.Index < trunc.Index {
		t.Fatalf("applied index %d below truncated index %d", as.Index, trunc.Index)
	}
	for i, want := range old.synced {
		if i <= trunc.Index {
			continue
		}
		if i > last {
			t.Fatalf("synced entry %d lost: log is [%d,%d]", i, first, last)
		}
		es, err := s.Entries(i, i+1, 1<<40)
		if err != nil || !proto.Equal(es[0], want) {
			t.Fatalf("synced entry %d = %v, %v; want %v", i, es, err, want)
		}
	}
	for i := initIndex + 1; i <= int(as.Index); i++ {
		if _, found, err := eng.Get(dataKey(uint64(i))); err != nil || !found {
			t.Fatalf("applied index %d but entry %d's data is missing (%v)", as.Index, i, err)
		}
	}
	return startNode(t, eng)
}
