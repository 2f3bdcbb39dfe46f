package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/sql/catalog"
	"google.golang.org/grpc"
)

// kv --ranges N (ordo only; --admin names a node's --listen-addr): after the
// table is loaded, bench_kv is made exactly N ranges of its own — split at
// the table's start and end, and its primary index at the keys i*keys/N for
// i = 1..N-1 — and the ranges' leases are handed out round-robin over the
// nodes holding their replicas (range i to the i-th node id, in order), so
// N ranges on a 3-node cluster have their leaseholders on min(N, 3) nodes.
// The result reports the leaseholders as they are at the end of the run
// (the allocator may move a lease meanwhile).

// benchTableRanges is the range layout of the bench table: its range ids in
// key order and each one's leaseholder node id (0 if unknown).
type benchTableRanges struct {
	rangeIDs     []uint64
	leaseholders []uint64
}

// splitBenchTable splits table into cfg.ranges ranges and spreads their
// leases; it returns the layout it reached.
func splitBenchTable(ctx context.Context, cfg *benchConfig, conn *pgx.Conn, table string, log io.Writer) (*benchTableRanges, error) {
	var oid uint32
	if err := conn.QueryRow(ctx, "SELECT oid FROM pg_class WHERE relname = $1", table).Scan(&oid); err != nil {
		return nil, fmt.Errorf("--ranges: table %s: %w", table, err)
	}
	id := uint64(oid)
	gc, err := grpc.NewClient(cfg.admin, rpc.DialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("--admin %s: %w", cfg.admin, err)
	}
	defer func() { _ = gc.Close() }()
	node := rpcpb.NewNodeClient(gc)

	start, end := keys.TablePrefix(id), keys.TablePrefix(id+1)
	splits := [][]byte{start, end}
	pk := keys.IndexPrefix(id, catalog.PrimaryIndexID)
	for i := 1; i < cfg.ranges; i++ {
		splits = append(splits, encoding.AppendInt(slices.Clone(pk), int64(i*cfg.keys/cfg.ranges), encoding.Ascending))
	}
	for _, k := range splits {
		if err := benchAdminSplit(ctx, node, k); err != nil {
			return nil, fmt.Errorf("--ranges: split at %s: %w", keys.Pretty(k), err)
		}
	}
	layout, nodes, err := benchTableLayout(ctx, node, start, end)
	if err != nil {
		return nil, err
	}
	if len(layout.rangeIDs) != cfg.ranges {
		return nil, fmt.Errorf("--ranges: %s has %d ranges after the splits, want %d", table, len(layout.rangeIDs), cfg.ranges)
	}
	for i, rid := range layout.rangeIDs {
		to := nodes[i%len(nodes)]
		if layout.leaseholders[i] == to {
			continue
		}
		if err := benchTransferLease(ctx, node, rid, to); err != nil {
			fmt.Fprintf(log, "ordo bench: --ranges: lease of r%d to n%d: %v\n", rid, to, err)
		}
	}
	// Wait (a little) until the range list shows the leases where they
	// were sent; report whatever it shows then.
	deadline := time.Now().Add(10 * time.Second)
	for {
		layout, _, err = benchTableLayout(ctx, node, start, end)
		if err != nil {
			return nil, err
		}
		spread := true
		for i := range layout.rangeIDs {
			spread = spread && layout.leaseholders[i] == nodes[i%len(nodes)]
		}
		if spread || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(log, "ordo bench: %s split into %d range(s) %v, leaseholders %v\n", table, len(layout.rangeIDs), layout.rangeIDs, layout.leaseholders)
	return layout, nil
}

// benchTableLayout lists the ranges inside [start, end) and the node ids
// holding replicas of them (sorted).
func benchTableLayout(ctx context.Context, node rpcpb.NodeClient, start, end []byte) (*benchTableRanges, []uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := node.RangeList(ctx, &rpcpb.RangeListRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return nil, nil, fmt.Errorf("range list: %w", err)
	}
	type rng struct {
		start []byte
		id    uint64
		lh    uint64
	}
	var in []rng
	var nodes []uint64
	for _, r := range resp.Ranges {
		d := r.Desc
		if bytes.Compare(d.StartKey, start) < 0 || bytes.Compare(d.StartKey, end) >= 0 {
			continue
		}
		var lh uint64
		if r.IsLeaseholder {
			lh = r.NodeId
		}
		in = append(in, rng{d.StartKey, d.RangeId, lh})
		for _, rd := range d.Replicas {
			if !slices.Contains(nodes, rd.NodeId) {
				nodes = append(nodes, rd.NodeId)
			}
		}
	}
	slices.SortFunc(in, func(a, b rng) int { return bytes.Compare(a.start, b.start) })
	slices.Sort(nodes)
	if len(nodes) == 0 {
		return nil, nil, errors.New("--ranges: no range of the table in the range list")
	}
	out := &benchTableRanges{}
	for _, r := range in {
		out.rangeIDs = append(out.rangeIDs, r.id)
		out.leaseholders = append(out.leaseholders, r.lh)
	}
	return out, nodes, nil
}

// benchAdminSplit splits at key, retrying what a range that has just split
// or moved may answer for a moment.
func benchAdminSplit(ctx context.Context, node rpcpb.NodeClient, key []byte) error {
	var err error
	for try := 0; try < 10; try++ {
		if try > 0 {
			time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		}
		c, cancel := context.WithTimeout(ctx, 15*time.Second)
		var resp *rpcpb.AdminSplitResponse
		resp, err = node.AdminSplit(c, &rpcpb.AdminSplitRequest{SplitKey: key}, grpc.WaitForReady(true))
		cancel()
		if err == nil {
			err = kverr.FromProto(resp.Error)
		}
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func benchTransferLease(ctx context.Context, node rpcpb.NodeClient, rangeID, to uint64) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	resp, err := node.TransferLease(ctx, &rpcpb.TransferLeaseRequest{RangeId: rangeID, TargetNodeId: to}, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	return kverr.FromProto(resp.Error)
}

// benchLeaseholders is the table's layout now (for the result), or nil.
func benchLeaseholders(cfg *benchConfig, layout *benchTableRanges) []uint64 {
	if layout == nil {
		return nil
	}
	gc, err := grpc.NewClient(cfg.admin, rpc.DialOptions()...)
	if err != nil {
		return nil
	}
	defer func() { _ = gc.Close() }()
	// The layout's range ids are fixed (nothing splits the table during
	// the run); look their leaseholders up again.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := rpcpb.NewNodeClient(gc).RangeList(ctx, &rpcpb.RangeListRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return nil
	}
	out := make([]uint64, len(layout.rangeIDs))
	for _, r := range resp.Ranges {
		if i := slices.Index(layout.rangeIDs, r.Desc.RangeId); i >= 0 && r.IsLeaseholder {
			out[i] = r.NodeId
		}
	}
	return out
}
