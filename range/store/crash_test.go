package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// crashCluster is a testCluster whose nodes run on crashable in-memory
// filesystems, so a node can be crashed (its disk cloned as a power loss
// would leave it) and restarted from the clone while the others go on.
type crashCluster struct {
	*testCluster
	mu  sync.Mutex // guards testCluster.stores and fss while writers run
	fss []*vfs.MemFS
}

func newCrashCluster(t *testing.T, nodes int) *crashCluster {
	tc := &testCluster{t: t, tr: &localTransport{stores: map[uint64]*Store{}, cut: map[uint64]bool{}}}
	cc := &crashCluster{testCluster: tc}
	descs := []*rpcpb.RangeDescriptor{userDesc(2, keys.UserMin, keys.MaxKey, nodes)}
	for i := 1; i <= nodes; i++ {
		fs := vfs.NewCrashableMem()
		cc.fss = append(cc.fss, fs)
		eng := tc.openEngine(fs)
		if err := WriteInitialRanges(eng, descs, nil); err != nil {
			t.Fatal(err)
		}
		tc.stores = append(tc.stores, cc.startStore(uint64(i), eng))
	}
	t.Cleanup(tc.stop)
	return cc
}

// startStore is testCluster.startStore, except that the store joins the
// transport only once Start has loaded its replicas: Start fills the replica
// map without the store's lock, so a message delivered during Start would
// race with it (the server likewise publishes its store only after Start).
func (cc *crashCluster) startStore(id uint64, eng *storage.Engine) *Store {
	s := New(Config{NodeID: id, Engine: eng, Transport: cc.tr, TickInterval: 10 * time.Millisecond, LogKeep: 20})
	if err := s.Start(); err != nil {
		cc.t.Fatal(err)
	}
	cc.tr.mu.Lock()
	cc.tr.stores[id] = s
	cc.tr.mu.Unlock()
	return s
}

// crash clones node i's disk keeping unsynced% of what was not synced,
// stops the node and restarts it on an engine opened from the clone.
//
// The node is cut off before the clone: a crashed node sends nothing more,
// whereas the old store, still running until Stop, could acknowledge to the
// leader entries it syncs after the clone was taken, which the restarted
// node would then lack.
func (cc *crashCluster) crash(i int, unsynced int, rng *rand.Rand) {
	cc.t.Helper()
	id := uint64(i + 1)
	cc.tr.mu.Lock()
	cc.tr.cut[id] = true
	cc.tr.mu.Unlock()
	cc.mu.Lock()
	clone := cc.fss[i].CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsynced, RNG: rng})
	old := cc.stores[i]
	cc.stores[i] = nil
	cc.fss[i] = clone
	cc.mu.Unlock()

	old.Stop()
	_ = old.cfg.Engine.Close()
	cc.tr.mu.Lock()
	delete(cc.tr.stores, id)
	cc.tr.cut[id] = false
	cc.tr.mu.Unlock()
	eng := cc.openEngine(clone)
	s := cc.startStore(id, eng)
	cc.mu.Lock()
	cc.stores[i] = s
	cc.mu.Unlock()
}

func (cc *crashCluster) liveStores() []*Store {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return append([]*Store(nil), cc.stores...)
}

// send is testCluster.send over the stores alive at each attempt; it
// returns the error of the attempt that reached a leaseholder.
func (cc *crashCluster) send(ctx context.Context, key []byte, ops ...*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	var res []*rpcpb.OpResult
	var final error
	err := testutil.Retry(10*time.Second, func() error {
		if ctx.Err() != nil {
			final = ctx.Err()
			return nil
		}
		for _, s := range cc.liveStores() {
			if s == nil {
				continue
			}
			r := s.LookupReplica(key)
			if r == nil || !r.IsLeaseholder() {
				continue
			}
			var err error
			res, err = s.Send(ctx, r.RangeID(), ops)
			var nl *kverr.NotLeaseholderError
			var rnf *kverr.RangeNotFoundError
			if errors.As(err, &nl) || errors.As(err, &rnf) {
				continue
			}
			final = err
			return nil
		}
		return fmt.Errorf("no leaseholder for %q", key)
	})
	if err != nil {
		return nil, err
	}
	return res, final
}

// writer puts keys one after another until stopped and records those
// whose Send returned success.
type writer struct {
	mu    sync.Mutex
	acked []string
	sent  int
}

func (w *writer) run(ctx context.Context, cc *crashCluster, prefix string, done chan<- struct{}) {
	defer close(done)
	for i := 0; ctx.Err() == nil; i++ {
		k := fmt.Sprintf("%s%05d", prefix, i)
		w.mu.Lock()
		w.sent++
		w.mu.Unlock()
		if _, err := cc.send(ctx, []byte(k), put(k, "v"+k)); err != nil {
			continue // ambiguous or refused: not acknowledged
		}
		w.mu.Lock()
		w.acked = append(w.acked, k)
		w.mu.Unlock()
	}
}

func (w *writer) ackedSoFar() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.acked...)
}

// waitAcked waits until at least n writes were acknowledged.
func (w *writer) waitAcked(t *testing.T, n int) {
	t.Helper()
	testutil.SucceedsWithin(t, 20*time.Second, func() error {
		if got := len(w.ackedSoFar()); got < n {
			return fmt.Errorf("%d of %d writes acknowledged", got, n)
		}
		return nil
	})
}

// checkAcked reads every key back from the cluster.
func (cc *crashCluster) checkAcked(t *testing.T, acked []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, k := range acked {
		res, err := cc.send(ctx, []byte(k), get(k))
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if !res[0].Found || string(res[0].Value) != "v"+k {
			t.Fatalf("acknowledged write %s lost after crash: %v", k, res[0])
		}
	}
}

// TestSingleNodeCrashKeepsAcknowledgedWrites crashes a one-voter store
// while a client writes, restarts it from the crash clone, and reads back
// every write that was acknowledged before the crash. A single voter must
// not acknowledge a write before it is durable (etcd #14370).
func TestSingleNodeCrashKeepsAcknowledgedWrites(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		for _, unsynced := range []int{0, 50} {
			t.Run(fmt.Sprintf("seed=%d/unsynced=%d", seed, unsynced), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, uint64(unsynced)))
				cc := newCrashCluster(t, 1)
				for round := 0; round < 2; round++ {
					w := &writer{}
					ctx, cancel := context.WithCancel(context.Background())
					done := make(chan struct{})
					go w.run(ctx, cc, fmt.Sprintf("r%d/", round), done)
					w.waitAcked(t, 20+rng.IntN(60))
					// Everything acknowledged before the clone must survive it.
					acked := w.ackedSoFar()
					cc.crash(0, unsynced, rng)
					cancel()
					<-done
					cc.checkAcked(t, acked)
					t.Logf("round %d: %d acknowledged of %d sent before the crash", round, len(acked), w.sent)
				}
				// The restarted store still takes writes.
				if _, err := cc.send(context.Background(), []byte("after"), put("after", "vafter")); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestCrashOneOfThree crashes one node of three (any, possibly the leader)
// under writes, restarts it from its crash clone while the others carry on,
// and checks no acknowledged write is lost and the replicas converge.
func TestCrashOneOfThree(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 3))
			cc := newCrashCluster(t, 3)
			w := &writer{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go w.run(ctx, cc, "k", done)
			for crash := 0; crash < 2; crash++ {
				w.waitAcked(t, len(w.ackedSoFar())+20+rng.IntN(40))
				victim := rng.IntN(3)
				cc.crash(victim, 50*rng.IntN(2), rng)
				t.Logf("crashed node %d after %d acknowledged writes", victim+1, len(w.ackedSoFar()))
			}
			// Writes continue past the last restart, enough to truncate the
			// log (LogKeep 20) so a lagging node may need a snapshot.
			w.waitAcked(t, len(w.ackedSoFar())+60)
			cancel()
			<-done
			cc.checkAcked(t, w.ackedSoFar())
			cc.waitChecksumsEqual(2)
		})
	}
}
