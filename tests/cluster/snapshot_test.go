package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
)

// A node that was down while the log moved past its truncation point
// catches up by snapshot after it restarts.
func TestRestartedNodeCatchesUpBySnapshot(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db := c.DB(0)
	if err := db.Put(ctx, []byte("snap/first"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	c.StopNode(2)
	for i := 0; i < 2500; i++ {
		if err := db.Put(ctx, []byte(fmt.Sprintf("snap/%05d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	c.Start(2)
	c.waitReplicasAgree(t, []byte("snap/"))
}

// A range of 100k keys (about 50 MiB) moves to a new node: its snapshot
// streams in chunks, so the receiving process's peak memory grows by far
// less than the range's size. The figures go to the test log.
func TestSnapshotOf100kKeysBoundedMemory(t *testing.T) {
	p := StartSQLProcesses(t, 3).Processes
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The load would split the range by load; this test wants it whole.
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", p.SQLAddrs[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET CLUSTER SETTING kv.range_split.by_load_enabled = false`); err != nil {
		t.Fatal(err)
	}
	const keys, batch = 100_000, 1000
	value := bytes.Repeat([]byte("v"), 500)
	start := time.Now()
	for i := 0; i < keys; i += batch {
		req := &rpcpb.BatchRequest{}
		for j := i; j < i+batch; j++ {
			req.Ops = append(req.Ops, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: []byte(fmt.Sprintf("big/%06d", j)), Value: value})
		}
		testutil.SucceedsSoon(t, func() error {
			resp, err := p.NodeClient(0).Batch(ctx, req)
			if err == nil && resp.Error != nil {
				err = kverr.FromProto(resp.Error)
			}
			return err
		})
	}
	t.Logf("loaded %d keys in %v", keys, time.Since(start).Round(time.Millisecond))
	bigRange := func() *rpcpb.RangeInfo {
		rl, err := p.NodeClient(0).RangeList(ctx, &rpcpb.RangeListRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rl.Ranges {
			if string(r.Desc.StartKey) <= "big/050000" && "big/050000" < string(r.Desc.EndKey) {
				return r
			}
		}
		t.Fatal("no range holds big/050000")
		return nil
	}
	var before *rpcpb.RangeInfo
	testutil.SucceedsSoon(t, func() error { // range sizes are counted at most every 10 s
		if before = bigRange(); before.KeyCount < keys {
			return fmt.Errorf("the range holding the keys has %d keys (split?), want %d", before.KeyCount, keys)
		}
		return nil
	})
	// The new node's block cache is small, so that reading the range
	// (the replicas' checksums) does not hide what the snapshot costs.
	p.ExtraArgs = []string{"--cache", "4194304"}
	n4 := p.AddProcess()
	base := p.PeakRSS(n4)
	// Decommissioning node 2 moves its replicas — the big range's among
	// them — to the new node.
	if _, err := p.NodeClient(0).Decommission(ctx, &rpcpb.DecommissionRequest{NodeId: 2}); err != nil {
		t.Fatal(err)
	}
	moveStart := time.Now()
	testutil.SucceedsWithin(t, 3*time.Minute, func() error {
		r := bigRange()
		if !replica.ContainsNode(r.Desc, uint64(n4+1)) || replica.ContainsNode(r.Desc, 2) {
			return fmt.Errorf("range %d on %v", r.Desc.RangeId, r.Desc.Replicas)
		}
		return ReplicasAgree(ctx, p.dialer, p.Addrs[0])
	})
	moved := time.Since(moveStart)
	peak := p.PeakRSS(n4)
	nodeLog, _ := os.ReadFile(server.StoreDirLog(p.Dirs[n4]))
	if !strings.Contains(string(nodeLog), fmt.Sprintf("keys=%d", keys)) {
		t.Errorf("n%d's log shows no snapshot of the %d keys", n4+1, keys)
	}
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	t.Logf("range %d: %d keys, %.1f MiB; moved to n%d in %v (%.1f MiB/s including the queue's reaction); receiver peak RSS %.1f MiB before, %.1f MiB after (+%.1f MiB)",
		before.Desc.RangeId, before.KeyCount, mib(before.SizeBytes), n4+1, moved.Round(time.Millisecond),
		mib(before.SizeBytes)/moved.Seconds(), mib(base), mib(peak), mib(peak-base))
	if grew := peak - base; grew > before.SizeBytes/2 {
		t.Errorf("receiving a %.1f MiB range grew the receiver's peak RSS by %.1f MiB: the snapshot is not memory-bounded", mib(before.SizeBytes), mib(grew))
	}
}
