package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

func TestInProcessSmoke(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("key%02d", i)
		if _, err := c.Client(i%3).Do(ctx, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: []byte(k), Value: []byte("v" + k)}); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	res, err := c.Client(2).Do(ctx, &rpcpb.Op{Kind: rpcpb.Op_GET, Key: []byte("key07")})
	if err != nil || string(res.Value) != "vkey07" {
		t.Fatalf("get: %v %v", res, err)
	}
	sp, err := c.NodeClient(1).AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: []byte("key15")})
	if err != nil || sp.Error != nil {
		t.Fatalf("split: %v %v", err, sp.GetError())
	}
	rows, err := c.DB(2).Scan(ctx, []byte("key"), []byte("kez"), 0)
	if err != nil || len(rows) != 30 {
		t.Fatalf("scan across split: %d rows, %v", len(rows), err)
	}
	testutil.SucceedsSoon(t, func() error {
		rl, err := c.NodeClient(0).RangeList(ctx, &rpcpb.RangeListRequest{})
		if err != nil {
			return err
		}
		if len(rl.Ranges) != 3 {
			return fmt.Errorf("want 3 ranges in meta, got %d", len(rl.Ranges))
		}
		return nil
	})
	ns, err := c.NodeClient(0).NodeStatus(ctx, &rpcpb.NodeStatusRequest{})
	if err != nil || len(ns.Nodes) != 3 {
		t.Fatalf("node status: %v %v", ns, err)
	}
}

// kv.Dial gives an outside program a client that routes by itself.
func TestDialFromOutside(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, closeDB, err := kv.Dial(ctx, []string{c.Addrs[1]})
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	if err := db.Put(ctx, []byte("out/k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	v, found, err := c.DB(2).Get(ctx, []byte("out/k"))
	if err != nil || !found || string(v) != "v" {
		t.Fatalf("get: %q %v %v", v, found, err)
	}
	swapped, _, _, err := db.CAS(ctx, []byte("out/k"), []byte("v"), []byte("w"))
	if err != nil || !swapped {
		t.Fatalf("cas: %v %v", swapped, err)
	}
	n, err := db.Increment(ctx, []byte("out/ctr"), 5)
	if err != nil || n != 5 {
		t.Fatalf("increment: %d %v", n, err)
	}
}
