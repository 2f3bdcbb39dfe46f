package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// Manual splits under concurrent writes lose nothing, and requests keep
// routing to the right ranges afterwards.
func TestSplitUnderWrites(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	w := &ackedWriter{acked: map[string]string{}}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx, i, c.Client, 3) }()
	}
	splits := []string{"w/0/000300", "w/1", "w/2/000100", "w/3", "w/1/000500"}
	for i, k := range splits {
		waitFor(ctx, 800*time.Millisecond)
		resp, err := c.NodeClient(i%3).AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: []byte(k)})
		if err != nil || resp.Error != nil {
			t.Fatalf("split at %s: %v %v", k, err, resp.GetError())
		}
	}
	wg.Wait()
	w.verify(t, c.Client(1))
	testutil.SucceedsSoon(t, func() error {
		rl, err := c.NodeClient(2).RangeList(context.Background(), &rpcpb.RangeListRequest{})
		if err != nil {
			return err
		}
		if len(rl.Ranges) != 2+len(splits) {
			return fmt.Errorf("meta lists %d ranges, want %d", len(rl.Ranges), 2+len(splits))
		}
		return nil
	})
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(context.Background(), c.dialer, c.Addrs[0]) })
	// A scan across every split sees every acknowledged key.
	rows, err := c.DB(0).Scan(context.Background(), []byte("w/"), []byte("w0"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < len(w.acked) {
		t.Fatalf("scan across splits saw %d rows, %d writes were acknowledged", len(rows), len(w.acked))
	}
}

// A split whose meta update never happened (the node crashed between the
// two steps) is repaired: meta catches up with the ranges' own descriptors.
func TestMetaRepairAfterInterruptedSplit(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.DB(0).Put(ctx, []byte("x/1"), []byte("a")); err != nil {
		t.Fatal(err)
	}
	// Split directly at the replica, skipping the meta update.
	var r interface {
		Split(context.Context, []byte, uint64) (*rpcpb.RangeDescriptor, *rpcpb.RangeDescriptor, error)
	}
	testutil.SucceedsSoon(t, func() error {
		i, _, ok := c.leaseholderOf([]byte("x/"))
		if !ok {
			return fmt.Errorf("no leaseholder")
		}
		r = c.Node(i).Store().LookupReplica([]byte("x/"))
		return nil
	})
	if _, _, err := r.Split(ctx, []byte("x/5"), 1000); err != nil {
		t.Fatal(err)
	}
	// Requests route through RangeKeyMismatch at once...
	if err := c.DB(1).Put(ctx, []byte("x/7"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	// ...and meta is repaired in the background.
	testutil.SucceedsSoon(t, func() error {
		rl, err := c.NodeClient(0).RangeList(ctx, &rpcpb.RangeListRequest{})
		if err != nil {
			return err
		}
		for _, ri := range rl.Ranges {
			if ri.Desc.RangeId == 1000 {
				return nil
			}
		}
		return fmt.Errorf("meta does not list range 1000 yet")
	})
}
