package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// valueFilter is a test filter compiler: spec "=v" matches the rows whose
// value is v, "!" fails on every row, anything else does not compile.
func valueFilter(spec []byte) (replica.Predicate, error) {
	switch {
	case bytes.HasPrefix(spec, []byte("=")):
		want := bytes.Clone(spec[1:])
		return func(_, v []byte) (bool, error) { return bytes.Equal(v, want), nil }, nil
	case string(spec) == "!":
		return func(_, _ []byte) (bool, error) { return false, errors.New("cannot evaluate") }, nil
	}
	return nil, fmt.Errorf("bad spec %q", spec)
}

func filteredScan(start, end, filter string, limit int64) *rpcpb.Op {
	return &rpcpb.Op{Kind: rpcpb.Op_SCAN, Key: []byte(start), EndKey: []byte(end), Limit: limit, Lock: rpcpb.LockMode_LOCK_SHARED, Filter: []byte(filter)}
}

func rowKeys(res *rpcpb.OpResult) string {
	var ks []string
	for _, kv := range res.Rows {
		ks = append(ks, string(kv.Key))
	}
	return strings.Join(ks, " ")
}

// parity writes k00..k19 with values "even" and "odd".
func (tc *testCluster) parity(t *testing.T) {
	for i := range 20 {
		v := []string{"even", "odd"}[i%2]
		if _, err := tc.send([]byte("k"), put(fmt.Sprintf("k%02d", i), v)); err != nil {
			t.Fatal(err)
		}
	}
}

// A filtered transactional scan with a limit returns the first matching
// rows and still locks its whole span: a younger writer of a row past the
// last one returned, which the filter would also have dropped, waits.
func TestFilteredScanLimitLocksSpan(t *testing.T) {
	tc := &testCluster{t: t, tr: newLocalTransport(), filters: valueFilter}
	tc.start(1)
	tc.parity(t)
	reader, writer := tc.beginSpill(), tc.beginSpill()
	res, err := reader.ops([]byte("k"), filteredScan("k", "l", "=odd", 3))
	if err != nil {
		t.Fatal(err)
	}
	// It read on to the next match (k07) to know there is more.
	if got := rowKeys(res[0]); got != "k01 k03 k05" || !res[0].More || res[0].Scanned != 8 {
		t.Fatalf("rows %q more %v scanned %d, want k01 k03 k05, more, 8 read", got, res[0].More, res[0].Scanned)
	}
	done := make(chan error, 1)
	go func() {
		_, err := writer.ops([]byte("k10"), put("k10", "odd"))
		done <- err
	}()
	lh := tc.leaseholder([]byte("k"))
	testutil.SucceedsSoon(t, func() error {
		info := &rpcpb.RangeInfo{}
		lh.TxnStatus(info, time.Now())
		if len(info.LockWaits) == 0 {
			return errors.New("the writer does not wait for the reader's span lock")
		}
		return nil
	})
	if _, err := reader.send([]byte("k"), rpcpb.TxnRequest_ABORT, nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the writer after the reader ended: %v", err)
	}
}

// A transaction's own pending writes are filtered as the stored rows are,
// by their new values; a deleted row is gone, a new row appears.
func TestFilteredScanSeesOwnWrites(t *testing.T) {
	tc := &testCluster{t: t, tr: newLocalTransport(), filters: valueFilter}
	tc.start(1)
	tc.parity(t)
	x := tc.beginSpill()
	for _, op := range []*rpcpb.Op{put("k02", "odd"), put("k03", "even"), {Kind: rpcpb.Op_DELETE, Key: []byte("k05")}, put("k30", "odd")} {
		if _, err := x.ops(op.Key, op); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		limit int64
		want  string
		more  bool
	}{
		{0, "k01 k02 k07 k09 k11 k13 k15 k17 k19 k30", false},
		{2, "k01 k02", true},
		{9, "k01 k02 k07 k09 k11 k13 k15 k17 k19", true},
	} {
		res, err := x.ops([]byte("k"), filteredScan("k", "l", "=odd", tc.limit))
		if err != nil {
			t.Fatal(err)
		}
		if got := rowKeys(res[0]); got != tc.want || res[0].More != tc.more {
			t.Errorf("limit %d: rows %q more %v, want %q more %v", tc.limit, got, res[0].More, tc.want, tc.more)
		}
	}
}

// Without a compiler a node refuses a filter (it never ignores one); a
// spec that does not compile and a failing evaluation are errors too.
func TestFilteredScanErrors(t *testing.T) {
	plain := newTestCluster(t, 1)
	plain.parity(t)
	_, err := plain.beginSpill().ops([]byte("k"), filteredScan("k", "l", "=odd", 0))
	if !errors.Is(err, kverr.ErrBadRequest) {
		t.Fatalf("a transactional filtered scan without a compiler: %v, want BAD_REQUEST", err)
	}
	if _, err := plain.send([]byte("k"), filteredScan("k", "l", "=odd", 0)); !errors.Is(err, kverr.ErrBadRequest) {
		t.Fatalf("a filtered scan without a compiler: %v, want BAD_REQUEST", err)
	}

	tc := &testCluster{t: t, tr: newLocalTransport(), filters: valueFilter}
	tc.start(1)
	tc.parity(t)
	res, err := tc.send([]byte("k"), filteredScan("k", "l", "=even", 2))
	if err != nil || rowKeys(res[0]) != "k00 k02" {
		t.Fatalf("a non-transactional filtered scan: %v, %v", res, err)
	}
	for _, spec := range []string{"?", "!"} {
		if _, err := tc.beginSpill().ops([]byte("k"), filteredScan("k", "l", spec, 0)); !errors.Is(err, kverr.ErrBadRequest) {
			t.Errorf("filter %q: %v, want BAD_REQUEST", spec, err)
		}
	}
}
