package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/testutil"
	"github.com/ordodb/ordo/txn"
)

// splitAt splits the cluster's ranges at keys.
func (c *InProcess) splitAt(t testing.TB, keys ...string) {
	for _, k := range keys {
		resp, err := c.NodeClient(0).AdminSplit(context.Background(), &rpcpb.AdminSplitRequest{SplitKey: []byte(k)})
		if err != nil || resp.Error != nil {
			t.Fatalf("split at %s: %v %v", k, err, resp.GetError())
		}
	}
}

// spreadLeases moves the leases of the ranges holding keys round-robin over
// the nodes.
func (c *InProcess) spreadLeases(t testing.TB, keys ...string) {
	for i, k := range keys {
		target := uint64(i%len(c.Addrs) + 1)
		testutil.SucceedsSoon(t, func() error {
			lh, rangeID, ok := c.leaseholderOf([]byte(k))
			if !ok {
				return fmt.Errorf("no leaseholder for %s", k)
			}
			if uint64(lh+1) == target {
				return nil
			}
			resp, err := c.NodeClient(lh).TransferLease(context.Background(), &rpcpb.TransferLeaseRequest{RangeId: rangeID, TargetNodeId: target})
			if err != nil || resp.Error != nil {
				return fmt.Errorf("transfer: %v %v", err, resp.GetError())
			}
			return fmt.Errorf("lease of %s moving to n%d", k, target)
		})
	}
}

func TestTxnBasics(t *testing.T) {
	c := StartInProcess(t, 3)
	c.splitAt(t, "b", "c")
	ctx := context.Background()
	co := c.Node(1).Txns()
	err := co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
		for _, k := range []string{"a1", "b1", "c1"} {
			if err := tx.Put(ctx, []byte(k), []byte("v-"+k)); err != nil {
				return err
			}
		}
		v, found, err := tx.Get(ctx, []byte("b1"), txn.LockShared)
		if err != nil || !found || string(v) != "v-b1" {
			return fmt.Errorf("read own write: %q %v %v", v, found, err)
		}
		rows, err := tx.Scan(ctx, []byte("a"), []byte("d"), 0, false, txn.LockShared)
		if err != nil || len(rows) != 3 {
			return fmt.Errorf("scan own writes: %d rows, %v", len(rows), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Committed across three ranges: every node reads it.
	for i := range c.Addrs {
		for _, k := range []string{"a1", "b1", "c1"} {
			testutil.SucceedsSoon(t, func() error {
				v, found, err := c.DB(i).Get(ctx, []byte(k))
				if err != nil || !found || string(v) != "v-"+k {
					return fmt.Errorf("node %d %s: %q %v %v", i+1, k, v, found, err)
				}
				return nil
			})
		}
	}
	// A rolled-back transaction leaves nothing, and releases its locks.
	tx := co.Begin()
	if err := tx.Put(ctx, []byte("b2"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)
	err = co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
		_, found, err := tx.Get(ctx, []byte("b2"), txn.LockExclusive)
		if found {
			return errors.New("rolled-back write visible")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Insert refuses an existing key.
	err = co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error { return tx.Insert(ctx, []byte("a1"), []byte("y")) })
	if !errors.Is(err, txn.ErrKeyExists) {
		t.Fatalf("insert of an existing key: %v", err)
	}
	// An insert that found its key wrote nothing: a transaction that goes
	// on (INSERT ... ON CONFLICT DO NOTHING) commits, on one range and on
	// several, and its anchor is a range it wrote.
	for _, tc := range []struct{ name, other string }{{"one range", "a3"}, {"two ranges", "c3"}} {
		runCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = co.Run(runCtx, func(ctx context.Context, tx *txn.Txn) error {
			if err := tx.Insert(ctx, []byte("a1"), []byte("y")); !errors.Is(err, txn.ErrKeyExists) {
				return fmt.Errorf("insert of an existing key: %v", err)
			}
			return tx.Put(ctx, []byte(tc.other), []byte("z"))
		})
		cancel()
		if err != nil {
			t.Fatalf("%s: a transaction whose insert found its key: %v", tc.name, err)
		}
		if v, found, err := c.DB(0).Get(ctx, []byte(tc.other)); err != nil || !found || string(v) != "z" {
			t.Fatalf("%s: %s = %q %v %v", tc.name, tc.other, v, found, err)
		}
	}
}

func encodeInt(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
func decodeInt(b []byte) int64 {
	if len(b) != 8 {
		return -1 << 62
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bank: 8 accounts on 4 ranges led by different nodes; transfers and
// full-balance reads run concurrently; every read sees the total.
func TestTxnBank(t *testing.T) {
	c := StartInProcess(t, 3)
	c.splitAt(t, "acct/2", "acct/4", "acct/6")
	c.spreadLeases(t, "acct/0", "acct/2", "acct/4", "acct/6")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	const accounts, initial = 8, 100
	acct := func(i int) []byte { return []byte(fmt.Sprintf("acct/%d", i)) }
	err := c.Node(0).Txns().Run(context.Background(), func(ctx context.Context, tx *txn.Txn) error {
		for i := 0; i < accounts; i++ {
			if err := tx.Put(ctx, acct(i), encodeInt(initial)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var reads, transfers, bad atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			co := c.Node(w % 3).Txns()
			for ctx.Err() == nil {
				if w%2 == 0 {
					total := int64(0)
					err := co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
						rows, err := tx.Scan(ctx, []byte("acct/"), []byte("acct0"), 0, false, txn.LockShared)
						if err != nil {
							return err
						}
						total = 0
						for _, r := range rows {
							total += decodeInt(r.Value)
						}
						return nil
					})
					if err == nil {
						reads.Add(1)
						if total != accounts*initial {
							bad.Add(1)
							t.Errorf("read saw total %d", total)
						}
					}
					continue
				}
				from, to, amt := rng.IntN(accounts), rng.IntN(accounts), int64(rng.IntN(5)+1)
				if from == to {
					continue
				}
				err := co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
					fv, _, err := tx.Get(ctx, acct(from), txn.LockExclusive)
					if err != nil {
						return err
					}
					tv, _, err := tx.Get(ctx, acct(to), txn.LockExclusive)
					if err != nil {
						return err
					}
					if err := tx.Put(ctx, acct(from), encodeInt(decodeInt(fv)-amt)); err != nil {
						return err
					}
					return tx.Put(ctx, acct(to), encodeInt(decodeInt(tv)+amt))
				})
				if err == nil {
					transfers.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d reads, %d transfers", reads.Load(), transfers.Load())
	if reads.Load() < 10 || transfers.Load() < 10 {
		t.Fatalf("too little progress: %d reads, %d transfers", reads.Load(), transfers.Load())
	}
	var total int64
	testutil.SucceedsSoon(t, func() error {
		return c.Node(2).Txns().Run(context.Background(), func(ctx context.Context, tx *txn.Txn) error {
			rows, err := tx.Scan(ctx, []byte("acct/"), []byte("acct0"), 0, false, txn.LockShared)
			total = 0
			for _, r := range rows {
				total += decodeInt(r.Value)
			}
			return err
		})
	})
	if total != accounts*initial {
		t.Fatalf("final total %d", total)
	}
}

// Uniqueness: clients on every node race to insert the same keys; each key
// is inserted exactly once and the losers get ErrKeyExists.
func TestTxnUniqueness(t *testing.T) {
	c := StartInProcess(t, 3)
	c.splitAt(t, "u/500")
	ctx := context.Background()
	const keysN, clients = 1000, 16
	var wins [keysN]atomic.Int32
	var other atomic.Int64
	var wg sync.WaitGroup
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			co := c.Node(cl % 3).Txns()
			for _, i := range rand.New(rand.NewPCG(uint64(cl), 2)).Perm(keysN) {
				k := []byte(fmt.Sprintf("u/%03d", i))
				err := co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
					return tx.Insert(ctx, k, []byte(fmt.Sprint(cl)))
				})
				switch {
				case err == nil:
					wins[i].Add(1)
				case errors.Is(err, txn.ErrKeyExists):
				default:
					other.Add(1)
					t.Errorf("insert %s: %v", k, err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("key %d inserted %d times", i, n)
		}
	}
}

// Hot key: clients increment one counter; the final value equals the
// acknowledged increments and every client makes progress.
func TestTxnHotKey(t *testing.T) {
	c := StartInProcess(t, 3)
	const runFor = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()
	const clients = 32
	var acked [clients]atomic.Int64
	var wg sync.WaitGroup
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			co := c.Node(cl % 3).Txns()
			for ctx.Err() == nil {
				// The run's own context has no deadline shared with the test's
				// clock, so no commit is cut off at the end (that would be an
				// honest ambiguous result, but not what this test measures).
				err := co.Run(context.Background(), func(ctx context.Context, tx *txn.Txn) error {
					v, _, err := tx.Get(ctx, []byte("hot"), txn.LockExclusive)
					if err != nil {
						return err
					}
					n := int64(0)
					if v != nil {
						n = decodeInt(v)
					}
					return tx.Put(ctx, []byte("hot"), encodeInt(n+1))
				})
				if err == nil {
					acked[cl].Add(1)
				} else if kverr.IsAmbiguous(err) {
					t.Errorf("ambiguous increment without faults: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	var sum, lo, hi int64 = 0, 1 << 62, 0
	for i := range acked {
		n := acked[i].Load()
		sum += n
		lo, hi = min(lo, n), max(hi, n)
	}
	var final int64
	if err := c.Node(0).Txns().Run(context.Background(), func(ctx context.Context, tx *txn.Txn) error {
		v, _, err := tx.Get(ctx, []byte("hot"), txn.LockShared)
		final = decodeInt(v)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d increments acknowledged (%.0f/s); per client min %d max %d", sum, float64(sum)/runFor.Seconds(), lo, hi)
	if final != sum {
		t.Fatalf("final counter %d, acknowledged %d", final, sum)
	}
	if lo == 0 {
		t.Fatalf("a client made no progress (min %d, max %d)", lo, hi)
	}
}

// A transaction waiting for a lock is visible, with whom it waits for, in
// the leaseholder's range status.
func TestLockWaitsVisible(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx := context.Background()
	holder := c.Node(0).Txns().Begin()
	if err := holder.Put(ctx, []byte("lw/k"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	waiter := c.Node(1).Txns().Begin()
	done := make(chan error, 1)
	go func() {
		_, _, err := waiter.Get(ctx, []byte("lw/k"), txn.LockExclusive)
		done <- err
	}()
	lh, _, _ := c.leaseholderOf([]byte("lw/k"))
	testutil.SucceedsSoon(t, func() error {
		lr, err := c.NodeClient(lh).LocalRanges(ctx, &rpcpb.LocalRangesRequest{})
		if err != nil {
			return err
		}
		for _, r := range lr.Ranges {
			for _, w := range r.LockWaits {
				if w.TxnId == waiter.ID() && len(w.WaitingOn) == 1 && w.WaitingOn[0] == holder.ID() && string(w.Key) == "lw/k" {
					return nil
				}
			}
		}
		return fmt.Errorf("waiter not listed yet")
	})
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiter after the holder committed: %v", err)
	}
	waiter.Rollback(ctx)
}

// Bank under faults: transfers and full-balance reads for 60 s while
// leaseholders are partitioned, nodes stopped and restarted and leases
// moved; every successful read, and the final state, sums to the total.
func TestTxnBankUnderFaults(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	c := StartInProcess(t, 3)
	c.splitAt(t, "acct/2", "acct/4", "acct/6")
	c.spreadLeases(t, "acct/0", "acct/2", "acct/4", "acct/6")
	const accounts, initial = 8, 100
	acct := func(i int) []byte { return []byte(fmt.Sprintf("acct/%d", i)) }
	if err := c.Node(0).Txns().Run(context.Background(), func(ctx context.Context, tx *txn.Txn) error {
		for i := 0; i < accounts; i++ {
			if err := tx.Put(ctx, acct(i), encodeInt(initial)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum := func(ctx context.Context, tx *txn.Txn) (int64, error) {
		rows, err := tx.Scan(ctx, []byte("acct/"), []byte("acct0"), 0, false, txn.LockShared)
		var total int64
		for _, r := range rows {
			total += decodeInt(r.Value)
		}
		if err == nil && len(rows) != accounts {
			err = fmt.Errorf("read %d accounts", len(rows))
		}
		return total, err
	}
	var reads, transfers atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(w)))
			for ctx.Err() == nil {
				node := c.Node(rng.IntN(3))
				if node == nil || node.Txns() == nil {
					continue
				}
				opCtx, opCancel := context.WithTimeout(ctx, 3*time.Second)
				if w%2 == 0 {
					var total int64
					err := node.Txns().Run(opCtx, func(ctx context.Context, tx *txn.Txn) error {
						var err error
						total, err = sum(ctx, tx)
						return err
					})
					if err == nil {
						reads.Add(1)
						if total != accounts*initial {
							t.Errorf("seed %d: a read saw total %d", seed, total)
						}
					}
					opCancel()
					continue
				}
				from, to, amt := rng.IntN(accounts), rng.IntN(accounts), int64(rng.IntN(5)+1)
				if from != to {
					err := node.Txns().Run(opCtx, func(ctx context.Context, tx *txn.Txn) error {
						fv, _, err := tx.Get(ctx, acct(from), txn.LockExclusive)
						if err != nil {
							return err
						}
						tv, _, err := tx.Get(ctx, acct(to), txn.LockExclusive)
						if err != nil {
							return err
						}
						if err := tx.Put(ctx, acct(from), encodeInt(decodeInt(fv)-amt)); err != nil {
							return err
						}
						return tx.Put(ctx, acct(to), encodeInt(decodeInt(tv)+amt))
					})
					if err == nil {
						transfers.Add(1)
					}
				}
				opCancel()
			}
		}()
	}
	rec := history.NewRecorder(func() int64 { return 0 })
	faults := nemesis(ctx, t, c, rec, rand.New(rand.NewPCG(uint64(seed), 98)), func(rng *rand.Rand) string { return string(acct(rng.IntN(accounts))) })
	wg.Wait()
	t.Logf("seed %d: %d faults, %d ok reads, %d ok transfers", seed, faults, reads.Load(), transfers.Load())
	if faults < 10 || reads.Load() < 50 || transfers.Load() < 50 {
		t.Fatalf("run invalid: %d faults, %d reads, %d transfers", faults, reads.Load(), transfers.Load())
	}
	var total int64
	testutil.SucceedsSoon(t, func() error {
		return c.Node(0).Txns().Run(context.Background(), func(ctx context.Context, tx *txn.Txn) error {
			var err error
			total, err = sum(ctx, tx)
			return err
		})
	})
	if total != accounts*initial {
		t.Fatalf("seed %d: final total %d", seed, total)
	}
	testutil.SucceedsSoon(t, c.settled)
}
