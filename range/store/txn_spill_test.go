package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// Large transactions spill: past the threshold a transaction's pending
// writes at a range are replicated as provisional writes, which the commit
// moves into place and an abort, a lease move or a split deletes.

const spillTestBytes = 2048

// spillTxn drives one transaction against the test cluster's replicas,
// remembering the regime of each range as the coordinator does.
type spillTxn struct {
	tc     *testCluster
	meta   *rpcpb.TxnMeta
	regime map[uint64][2]uint64 // range id → term, generation
}

var nextSpillTxn uint64 = 1000

func (tc *testCluster) beginSpill() *spillTxn {
	nextSpillTxn++
	return &spillTxn{tc: tc, meta: &rpcpb.TxnMeta{Id: nextSpillTxn, PriorityStart: int64(nextSpillTxn)}, regime: map[uint64][2]uint64{}}
}

// leaseholder waits for the replica leading key's range.
func (tc *testCluster) leaseholder(key []byte) *replica.Replica {
	tc.t.Helper()
	var lh *replica.Replica
	testutil.SucceedsSoon(tc.t, func() error {
		for _, s := range tc.stores {
			if r := s.LookupReplica(key); r != nil && r.IsLeaseholder() {
				lh = r
				return nil
			}
		}
		return fmt.Errorf("no leaseholder for %q", key)
	})
	return lh
}

// send retries while the range has no leaseholder ready to serve (a new
// leader that has not applied an entry of its term yet).
func (x *spillTxn) send(key []byte, kind rpcpb.TxnRequest_Kind, mod func(*rpcpb.TxnRequest)) (*rpcpb.TxnResponse, error) {
	var resp *rpcpb.TxnResponse
	var final error
	err := testutil.Retry(10*time.Second, func() error {
		resp, final = x.sendOnce(key, kind, mod)
		var nl *kverr.NotLeaseholderError
		var km *kverr.RangeKeyMismatchError
		if errors.As(final, &nl) || errors.As(final, &km) {
			return final
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, final
}

func (x *spillTxn) sendOnce(key []byte, kind rpcpb.TxnRequest_Kind, mod func(*rpcpb.TxnRequest)) (*rpcpb.TxnResponse, error) {
	r := x.tc.leaseholder(key)
	rg := x.regime[r.RangeID()]
	req := &rpcpb.TxnRequest{RangeId: r.RangeID(), Txn: x.meta, Kind: kind, Term: rg[0], Generation: rg[1]}
	if mod != nil {
		mod(req)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := r.Txn(ctx, req)
	if err == nil && resp.Term != 0 {
		x.regime[r.RangeID()] = [2]uint64{resp.Term, resp.Generation}
	}
	return resp, err
}

func (x *spillTxn) ops(key []byte, ops ...*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	resp, err := x.send(key, rpcpb.TxnRequest_OPS, func(r *rpcpb.TxnRequest) { r.Ops = ops })
	if err != nil {
		return nil, err
	}
	return resp.Results, nil
}

// writeMany puts n keys prefix%04d with 64-byte values, deleting every
// tenth right after writing it.
func (x *spillTxn) writeMany(t *testing.T, prefix string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		k := []byte(fmt.Sprintf("%s%04d", prefix, i))
		if _, err := x.ops(k, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: k, Value: []byte(value(prefix, i))}); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
		if i%10 == 9 {
			if _, err := x.ops(k, &rpcpb.Op{Kind: rpcpb.Op_DELETE, Key: k}); err != nil {
				t.Fatalf("delete %s: %v", k, err)
			}
		}
	}
}

func value(prefix string, i int) string {
	return fmt.Sprintf("%s-%04d-%s", prefix, i, strings.Repeat("v", 52))
}

// provisionalCount counts the provisional writes of every range on every
// node.
func (tc *testCluster) provisionalCount() int {
	n := 0
	for _, s := range tc.stores {
		start, end := keys.AllRangeDescsSpan()
		_ = s.cfg.Engine.Scan(start, end, false, func(k, _ []byte) bool {
			if id, _, ok := keys.DecodeRangeLocalKey(k[:min(len(k), 11)]); ok {
				if _, _, ok := keys.DecodeProvisionalKey(id, k); ok {
					n++
				}
			}
			return true
		})
	}
	return n
}

func (tc *testCluster) waitNoProvisional() {
	tc.t.Helper()
	testutil.SucceedsSoon(tc.t, func() error {
		if n := tc.provisionalCount(); n > 0 {
			return fmt.Errorf("%d provisional writes left", n)
		}
		return nil
	})
}

// checkCommitted checks on every node that prefix%04d holds its value, or
// nothing for every tenth key.
func (tc *testCluster) checkCommitted(prefix string, n int) {
	tc.t.Helper()
	testutil.SucceedsSoon(tc.t, func() error {
		for _, s := range tc.stores {
			for i := 0; i < n; i++ {
				k := fmt.Sprintf("%s%04d", prefix, i)
				v, found, err := s.cfg.Engine.Get([]byte(k))
				if err != nil {
					return err
				}
				if want := i%10 != 9; found != want || (found && string(v) != value(prefix, i)) {
					r := s.LookupReplica([]byte(k))
					var desc *rpcpb.RangeDescriptor
					prep := -1
					if r != nil {
						desc, prep = r.Desc(), r.PreparedCount()
						a, _, _, _ := r.Checksum()
						prep = prep*1000000 + int(a)
					}
					return fmt.Errorf("node %d: %s = %q (found %t); range %v, prepared %d, provisional %d", s.NodeID(), k, v, found, desc, prep, tc.provisionalCount())
				}
			}
		}
		return nil
	})
}

func (tc *testCluster) checkAbsent(prefix string, n int) {
	tc.t.Helper()
	for _, s := range tc.stores {
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("%s%04d", prefix, i)
			if _, found, _ := s.cfg.Engine.Get([]byte(k)); found {
				tc.t.Fatalf("node %d: %s is there", s.NodeID(), k)
			}
		}
	}
}

func isRetry(err error) bool {
	var r *kverr.TxnRetryError
	return errors.As(err, &r)
}

func TestSpillCommitOnePhase(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	x := tc.beginSpill()
	x.writeMany(t, "a", 200)
	if tc.provisionalCount() == 0 {
		t.Fatal("nothing spilled")
	}
	// The transaction reads its own spilled writes, merged with the
	// pending ones and the store.
	res, err := x.ops([]byte("a0003"), &rpcpb.Op{Kind: rpcpb.Op_GET, Key: []byte("a0003")}, &rpcpb.Op{Kind: rpcpb.Op_GET, Key: []byte("a0009")})
	if err != nil || !res[0].Found || string(res[0].Value) != value("a", 3) || res[1].Found {
		t.Fatalf("own reads: %v %v", res, err)
	}
	res, err = x.ops([]byte("a"), &rpcpb.Op{Kind: rpcpb.Op_SCAN, Key: []byte("a"), EndKey: []byte("b")})
	if err != nil || len(res[0].Rows) != 180 || string(res[0].Rows[179].Value) != value("a", 198) {
		t.Fatalf("own scan: %d rows, %v", len(res[0].GetRows()), err)
	}
	if _, err := x.send([]byte("a"), rpcpb.TxnRequest_COMMIT_ONE_PHASE, func(r *rpcpb.TxnRequest) { r.Wrote = true }); err != nil {
		t.Fatal(err)
	}
	tc.checkCommitted("a", 200)
	tc.waitNoProvisional()
	tc.waitChecksumsEqual(2)
}

// splitAt splits key's range at key, giving the right side rangeID.
func (tc *testCluster) splitAt(key string, rangeID uint64) {
	tc.t.Helper()
	testutil.SucceedsSoon(tc.t, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _, err := tc.leaseholder([]byte(key)).Split(ctx, []byte(key), rangeID)
		return err
	})
}

// commitTwoPhase prepares the participant at pkey, commits at the anchor
// akey and resolves the participant.
func (x *spillTxn) commitTwoPhase(t *testing.T, akey, pkey []byte) {
	t.Helper()
	x.meta.AnchorKey = akey
	if _, err := x.send(pkey, rpcpb.TxnRequest_PREPARE, func(r *rpcpb.TxnRequest) { r.Wrote = true }); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	parts := []*rpcpb.KeySpan{{Key: pkey, LastKey: []byte("p9999")}}
	if _, err := x.send(akey, rpcpb.TxnRequest_COMMIT, func(r *rpcpb.TxnRequest) { r.Wrote, r.Participants = true, parts }); err != nil {
		t.Fatalf("commit: %v", err)
	}
	x.resolve(t, pkey, true)
}

func (x *spillTxn) resolve(t *testing.T, key []byte, commit bool) {
	t.Helper()
	resp, err := x.send(key, rpcpb.TxnRequest_RESOLVE, func(r *rpcpb.TxnRequest) { r.Commit, r.Key = commit, key })
	if err != nil {
		t.Fatalf("resolve at %s: %v", key, err)
	}
	if len(resp.Results) != 1 || !resp.Results[0].Found {
		t.Fatalf("resolve at %s found no prepared record: %v", key, resp.Results)
	}
}

func TestSpillCommitTwoPhase(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	tc.splitAt("m", 3)
	x := tc.beginSpill()
	x.writeMany(t, "a", 150)
	x.writeMany(t, "p", 150)
	x.commitTwoPhase(t, []byte("a0000"), []byte("p0000"))
	tc.checkCommitted("a", 150)
	tc.checkCommitted("p", 150)
	tc.waitNoProvisional()
	tc.waitChecksumsEqual(2)
	tc.waitChecksumsEqual(3)
}

func TestSpillAbortCleans(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	x := tc.beginSpill()
	x.writeMany(t, "a", 200)
	if tc.provisionalCount() == 0 {
		t.Fatal("nothing spilled")
	}
	if _, err := x.send([]byte("a"), rpcpb.TxnRequest_ABORT, nil); err != nil {
		t.Fatal(err)
	}
	tc.waitNoProvisional()
	tc.checkAbsent("a", 200)
	// The locks are gone: another transaction writes the keys.
	y := tc.beginSpill()
	y.writeMany(t, "a", 20)
	if _, err := y.send([]byte("a"), rpcpb.TxnRequest_COMMIT_ONE_PHASE, func(r *rpcpb.TxnRequest) { r.Wrote = true }); err != nil {
		t.Fatal(err)
	}
	tc.checkCommitted("a", 20)
}

// A lease move ends the regime; the new leaseholder's regime finds the
// spilled writes of the unprepared transaction and deletes them (the
// recovery loop's TxnWork starts the regime on an idle range), and the
// transaction's commit is refused.
func TestSpillLeaseMoveCleans(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	x := tc.beginSpill()
	x.writeMany(t, "a", 200)
	old := tc.leaseholder([]byte("a"))
	target := uint64(1)
	if old.ReplicaID() == 1 {
		target = 2
	}
	testutil.SucceedsSoon(t, func() error {
		if lh := tc.leaseholder([]byte("a")); lh.ReplicaID() == target {
			return nil
		}
		_ = tc.leaseholder([]byte("a")).TransferLease(target)
		return fmt.Errorf("lease not on node %d yet", target)
	})
	testutil.SucceedsSoon(t, func() error {
		tc.leaseholder([]byte("a")).TxnWork(time.Now(), time.Hour) // recovery loop
		if n := tc.provisionalCount(); n > 0 {
			return fmt.Errorf("%d provisional writes left", n)
		}
		return nil
	})
	if _, err := x.send([]byte("a"), rpcpb.TxnRequest_COMMIT_ONE_PHASE, func(r *rpcpb.TxnRequest) { r.Wrote = true }); !isRetry(err) {
		t.Fatalf("commit after the lease moved: %v, want a retry error", err)
	}
	tc.checkAbsent("a", 200)
}

// A split in the middle of a spilled, unprepared transaction drops its
// provisional writes on both sides; its commit is refused.
func TestSpillSplitUnprepared(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	x := tc.beginSpill()
	x.writeMany(t, "a", 200)
	tc.splitAt("a0100", 3)
	tc.waitNoProvisional()
	if _, err := x.send([]byte("a"), rpcpb.TxnRequest_COMMIT_ONE_PHASE, func(r *rpcpb.TxnRequest) { r.Wrote = true }); !isRetry(err) {
		t.Fatalf("commit after a split: %v, want a retry error", err)
	}
	tc.checkAbsent("a", 200)
}

// A split in the middle of a prepared, spilled participant cuts its
// provisional writes with its record; resolving both halves commits all.
// A follower that meets the new range's leader before it applies the
// split is caught up by a snapshot, which carries the provisional writes.
func TestSpillSplitPrepared(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	tc.splitAt("m", 3)
	x := tc.beginSpill()
	x.writeMany(t, "a", 20)
	x.writeMany(t, "p", 200)
	x.meta.AnchorKey = []byte("a0000")
	if _, err := x.send([]byte("p0000"), rpcpb.TxnRequest_PREPARE, func(r *rpcpb.TxnRequest) { r.Wrote = true }); err != nil {
		t.Fatal(err)
	}
	tc.splitAt("p0100", 4)
	// The right half's new regime holds the prepared writes locked.
	y := tc.beginSpill()
	if _, err := y.send([]byte("p0150"), rpcpb.TxnRequest_OPS, func(r *rpcpb.TxnRequest) {
		r.Ops, r.LockTimeoutMs = []*rpcpb.Op{{Kind: rpcpb.Op_GET, Key: []byte("p0150")}}, 50
	}); err == nil {
		t.Fatal("read a prepared key without waiting")
	}
	parts := []*rpcpb.KeySpan{{Key: []byte("p0000"), LastKey: []byte("p9999")}}
	if _, err := x.send([]byte("a0000"), rpcpb.TxnRequest_COMMIT, func(r *rpcpb.TxnRequest) { r.Wrote, r.Participants = true, parts }); err != nil {
		t.Fatal(err)
	}
	x.resolve(t, []byte("p0000"), true)
	x.resolve(t, []byte("p0100"), true)
	tc.checkCommitted("a", 20)
	tc.checkCommitted("p", 200)
	tc.waitNoProvisional()
	tc.waitChecksumsEqual(4)
}

// ROLLBACK TO a savepoint below spilled writes is refused and aborts the
// transaction at the range; one above them works.
func TestSpillRollbackTo(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	x := tc.beginSpill()
	for i := 0; i < 100; i++ {
		k := []byte(fmt.Sprintf("a%04d", i))
		if _, err := x.ops(k, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: k, Value: []byte(value("a", i)), Seq: 1}); err != nil {
			t.Fatal(err)
		}
	}
	rollback := func(seq uint64) error {
		_, err := x.send([]byte("a"), rpcpb.TxnRequest_ROLLBACK_TO, func(r *rpcpb.TxnRequest) { r.RollbackSeq, r.RollbackUpTo = seq, seq+1 })
		return err
	}
	if err := rollback(1); err != nil {
		t.Fatalf("rollback above the spilled writes: %v", err)
	}
	if err := rollback(0); !isRetry(err) || !strings.Contains(err.Error(), "spill") {
		t.Fatalf("rollback below the spilled writes: %v", err)
	}
	tc.waitNoProvisional()
}

// A follower caught up by a snapshot receives the range's provisional
// writes with it: a spilled transaction committed after the snapshot
// leaves every write on that follower too (the snapshot once carried only
// prepared and transaction records, and the follower committed nothing).
func TestSpillSnapshotCarriesProvisional(t *testing.T) {
	tc := newTestClusterSpill(t, 3, spillTestBytes)
	x := tc.beginSpill()
	x.writeMany(t, "a", 200)
	if tc.provisionalCount() == 0 {
		t.Fatal("nothing spilled")
	}
	lagging := tc.leaseholder([]byte("a")).ReplicaID()%3 + 1
	tc.tr.mu.Lock()
	tc.tr.cut[lagging] = true
	tc.tr.mu.Unlock()
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("z%03d", i)
		if _, err := tc.send([]byte(k), put(k, k)); err != nil {
			t.Fatal(err)
		}
	}
	tc.tr.mu.Lock()
	tc.tr.cut[lagging] = false
	tc.tr.mu.Unlock()
	// Node lagging is behind the truncated log: a snapshot catches it up.
	tc.waitChecksumsEqual(2)
	if _, err := x.send([]byte("a"), rpcpb.TxnRequest_COMMIT_ONE_PHASE, func(r *rpcpb.TxnRequest) { r.Wrote = true }); err != nil {
		t.Fatal(err)
	}
	tc.checkCommitted("a", 200)
	tc.waitNoProvisional()
	tc.waitChecksumsEqual(2)
}
