package store

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// A deadlock cycle in one range: the younger transaction holds a and waits
// for b, held by the older one, which then asks for a. The older one
// wounds the younger, and because the younger is itself queued here — it
// cannot finish within any grace period — it is aborted at once (its wait
// fails with the reason that says so) instead of after WoundDelay; the
// older one gets a.
func TestWoundedWaiterAbortedAtOnce(t *testing.T) {
	tc := newTestCluster(t, 1)
	older, younger := tc.beginSpill(), tc.beginSpill() // begun first: older
	put := func(x *spillTxn, k string) error {
		_, err := x.ops([]byte(k), &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: []byte(k), Value: []byte("v")})
		return err
	}
	if err := put(younger, "a"); err != nil {
		t.Fatal(err)
	}
	if err := put(older, "b"); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- put(younger, "b") }() // younger waits for older
	lh := tc.leaseholder([]byte("a"))
	testutil.SucceedsSoon(t, func() error {
		info := &rpcpb.RangeInfo{}
		lh.TxnStatus(info, time.Now())
		if len(info.LockWaits) == 0 {
			return errors.New("the younger transaction is not queued yet")
		}
		return nil
	})
	if err := put(older, "a"); err != nil {
		t.Fatalf("the older transaction's request for a: %v", err)
	}
	err := <-waited
	var retry *kverr.TxnRetryError
	if !errors.As(err, &retry) || !strings.Contains(err.Error(), "while it waited for a lock") {
		t.Fatalf("the younger transaction's wait ended with %v, want a retry error for being wounded while it waited", err)
	}
}

// A transaction past kv.transaction.max_range_bytes at one range fails with
// a resource-limit error (53200 in SQL) that names the setting and how to
// raise it; raised, the same transaction goes through.
func TestTxnRangeBytesLimit(t *testing.T) {
	var limit atomic.Int64
	limit.Store(64 << 10)
	tc := &testCluster{t: t, tr: newLocalTransport(), spillBytes: 1 << 30, rangeBytes: limit.Load}
	tc.start(1)
	write := func() error {
		x := tc.beginSpill()
		for i := range 2000 {
			k := []byte(fmt.Sprintf("k%05d", i))
			if _, err := x.ops(k, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: k, Value: []byte(strings.Repeat("v", 32))}); err != nil {
				return err
			}
		}
		return nil
	}
	err := write()
	// The failed transaction is rolled back, as its coordinator would.
	if _, aerr := tc.beginSpillWithID(nextSpillTxn).send([]byte("k"), rpcpb.TxnRequest_ABORT, nil); aerr != nil {
		t.Fatal(aerr)
	}
	var rl *kverr.ResourceLimitError
	if !errors.As(err, &rl) || !strings.Contains(err.Error(), "kv.transaction.max_range_bytes (64KiB)") || !strings.Contains(err.Error(), "SET CLUSTER SETTING") {
		t.Fatalf("over the limit: %v", err)
	}
	limit.Store(16 << 20)
	if err := write(); err != nil {
		t.Fatalf("after raising the limit: %v", err)
	}
}

// beginSpillWithID drives the transaction id again (to abort it).
func (tc *testCluster) beginSpillWithID(id uint64) *spillTxn {
	return &spillTxn{tc: tc, meta: &rpcpb.TxnMeta{Id: id, PriorityStart: int64(id)}, regime: map[uint64][2]uint64{}}
}
