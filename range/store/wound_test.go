package store

import (
	"errors"
	"strings"
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
