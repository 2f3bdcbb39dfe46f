package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
	"github.com/ordodb/ordo/txn"
)

// settled reports an error until no replica holds a lock or a prepared
// record.
func (c *InProcess) settled() error {
	for i := range c.Addrs {
		n := c.Node(i)
		if n == nil || n.Store() == nil {
			continue
		}
		for _, r := range n.Store().Replicas() {
			if l := r.LocksHeld(); l > 0 {
				return fmt.Errorf("node %d range %d holds %d locks", i+1, r.RangeID(), l)
			}
			if p := r.PreparedCount(); p > 0 {
				return fmt.Errorf("node %d range %d holds %d prepared records", i+1, r.RangeID(), p)
			}
		}
	}
	return nil
}

// The coordinator dies after every participant prepared (the transaction
// must abort), or after the commit record (it must commit everywhere). Both
// times the participants resolve it by themselves, no lock stays held, and
// atomicity holds.
func TestCoordinatorCrash(t *testing.T) {
	var crashPrepare, crashCommit atomic.Bool
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.TxnKnobs = txn.TestingKnobs{
			CrashAfterPrepare: func(uint64) bool { return crashPrepare.Load() },
			CrashAfterCommit:  func(uint64) bool { return crashCommit.Load() },
		}
	})
	c.splitAt(t, "cc/5")
	c.spreadLeases(t, "cc/1", "cc/7")
	ctx := context.Background()
	write := func(suffix string) error {
		return c.Node(0).Txns().Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
			for _, k := range []string{"cc/1", "cc/7"} {
				if err := tx.Put(ctx, []byte(k), []byte(suffix)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	read := func(k string) string {
		var v []byte
		if err := c.Node(2).Txns().Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
			var err error
			v, _, err = tx.Get(ctx, []byte(k), txn.LockShared)
			return err
		}); err != nil {
			t.Fatalf("read %s: %v", k, err)
		}
		return string(v)
	}
	if err := write("base"); err != nil {
		t.Fatal(err)
	}

	crashPrepare.Store(true)
	err := write("after-prepare")
	crashPrepare.Store(false)
	if !kverr.IsAmbiguous(err) {
		t.Fatalf("crashed coordinator returned %v", err)
	}
	start := time.Now()
	testutil.SucceedsSoon(t, c.settled)
	t.Logf("crash after prepare: resolved in %v", time.Since(start))
	if a, b := read("cc/1"), read("cc/7"); a != "base" || b != "base" {
		t.Fatalf("crash after prepare: read %q, %q; want both base (aborted)", a, b)
	}

	crashCommit.Store(true)
	err = write("after-commit")
	crashCommit.Store(false)
	if err != nil {
		t.Fatalf("commit answered at the commit point: %v", err)
	}
	start = time.Now()
	testutil.SucceedsSoon(t, c.settled)
	t.Logf("crash after commit: resolved in %v", time.Since(start))
	if a, b := read("cc/1"), read("cc/7"); a != "after-commit" || b != "after-commit" {
		t.Fatalf("crash after commit: read %q, %q; want both after-commit", a, b)
	}
}

// A transaction whose one-phase commit is in flight keeps its locks even if
// recovery decides its coordinator is gone: releasing them before the
// writes apply would let a later transaction overwrite them.
func TestCommittingTxnIsNeverAborted(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx := context.Background()
	tx := c.Node(0).Txns().Begin()
	if err := tx.Put(ctx, []byte("ca/k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	lh, _, ok := c.leaseholderOf([]byte("ca/k"))
	if !ok {
		t.Fatal("no leaseholder")
	}
	r := c.Node(lh).Store().LookupReplica([]byte("ca/k"))
	// Cut the leaseholder off so the commit's proposal cannot commit yet.
	c.Isolate(uint64(lh+1), true)
	done := make(chan error, 1)
	go func() { done <- tx.Commit(ctx) }()
	testutil.SucceedsSoon(t, func() error {
		if !r.TxnCommitting(tx.ID()) {
			return fmt.Errorf("commit not in flight yet")
		}
		return nil
	})
	r.AbortIdle(tx.ID(), "test: coordinator declared gone")
	if !r.TxnCommitting(tx.ID()) || r.LocksHeld() == 0 {
		t.Fatalf("a committing transaction lost its locks (committing=%v locks=%d)", r.TxnCommitting(tx.ID()), r.LocksHeld())
	}
	c.Isolate(uint64(lh+1), false)
	if err := <-done; err != nil && !kverr.IsAmbiguous(err) && !txn.IsRetryable(err) {
		t.Fatalf("commit: %v", err)
	}
}

// Recovery routes by key through each node's range cache, which may be
// behind a split. A committed transaction whose coordinator died must still
// commit everywhere: a stale cache may send QUERY or RESOLVE to a range that
// never held the transaction, and that range must send it on
// (RangeKeyMismatch), not answer "no record" and abort a committed
// transaction.
func TestRecoveryWithStaleRangeCaches(t *testing.T) {
	var crashCommit atomic.Bool
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.TxnKnobs = txn.TestingKnobs{CrashAfterCommit: func(uint64) bool { return crashCommit.Load() }}
	})
	ctx := context.Background()
	c.splitAt(t, "sc/5")
	// The anchor's range led by n1, the participant's by n2; the
	// coordinator runs on n3.
	c.spreadLeases(t, "sc/8", "sc/1")
	for i := range c.Addrs {
		if _, _, err := c.DB(i).Get(ctx, []byte("sc/8")); err != nil {
			t.Fatal(err)
		}
	}
	// Every node's cache now holds [sc/5, end) as one range; split it.
	c.splitAt(t, "sc/7")
	crashCommit.Store(true)
	err := c.Node(2).Txns().Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
		for _, k := range []string{"sc/8", "sc/1"} {
			if err := tx.Put(ctx, []byte(k), []byte("committed")); err != nil {
				return err
			}
		}
		return nil
	})
	crashCommit.Store(false)
	if err != nil {
		t.Fatalf("commit answered at the commit point: %v", err)
	}
	start := time.Now()
	testutil.SucceedsSoon(t, c.settled)
	t.Logf("resolved in %v", time.Since(start))
	for _, k := range []string{"sc/8", "sc/1"} {
		v, _, err := c.DB(0).Get(ctx, []byte(k))
		if err != nil || string(v) != "committed" {
			t.Fatalf("%s = %q, %v; want committed (atomicity)", k, v, err)
		}
	}
}

// An ABORTED tombstone (written when recovery finds a transaction neither
// committed nor live) is collected once the anchor's lease is in a later
// term: no COMMIT of that transaction can apply any more.
func TestTombstonesCollected(t *testing.T) {
	var crashPrepare atomic.Bool
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.TxnKnobs = txn.TestingKnobs{CrashAfterPrepare: func(uint64) bool { return crashPrepare.Load() }}
	})
	ctx := context.Background()
	// Only this test's transfer may move the anchor's lease.
	if _, err := c.pgConn(t, 0).Exec(ctx, `SET CLUSTER SETTING kv.allocator.lease_rebalancing.enabled = false`); err != nil {
		t.Fatal(err)
	}
	c.splitAt(t, "tg/5")
	crashPrepare.Store(true)
	err := c.Node(0).Txns().Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
		for _, k := range []string{"tg/1", "tg/7"} {
			if err := tx.Put(ctx, []byte(k), []byte("x")); err != nil {
				return err
			}
		}
		return nil
	})
	crashPrepare.Store(false)
	if !kverr.IsAmbiguous(err) {
		t.Fatalf("crashed coordinator returned %v", err)
	}
	// The participant's recovery writes the tombstone at the anchor (tg/1).
	records := func() (int, int, uint64) {
		lh, rangeID, ok := c.leaseholderOf([]byte("tg/1"))
		if !ok {
			return -1, 0, 0
		}
		return c.Node(lh).Store().Replica(rangeID).TxnRecordCount(), lh, rangeID
	}
	testutil.SucceedsSoon(t, func() error {
		if err := c.settled(); err != nil {
			return err
		}
		if n, _, _ := records(); n != 1 {
			return fmt.Errorf("%d transaction records at the anchor; want the tombstone", n)
		}
		return nil
	})
	// A new term at the anchor: the tombstone goes.
	_, lh, rangeID := records()
	target := uint64((lh+1)%3 + 1)
	if resp, err := c.NodeClient(lh).TransferLease(ctx, &rpcpb.TransferLeaseRequest{RangeId: rangeID, TargetNodeId: target}); err != nil || resp.Error != nil {
		t.Fatalf("transfer: %v %v", err, resp.GetError())
	}
	testutil.SucceedsSoon(t, func() error {
		if n, _, _ := records(); n != 0 {
			return fmt.Errorf("%d transaction records at the anchor", n)
		}
		return nil
	})
}
