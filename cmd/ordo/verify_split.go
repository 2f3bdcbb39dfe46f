package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/tests/nemesis"
	"google.golang.org/grpc"
)

// --split (local cluster only): as each workload starts, split every
// verify_* table into several ranges, so its transactions span ranges and
// commit with two phases (a small table shares one range otherwise, and
// every transaction over it is one-phase). Each table is split at its
// start, at the start of its first secondary index (a UNIQUE or CREATE
// INDEX entry then lives in another range than its row), and its primary
// index at the integer keys 1..splitKeys-1 (the bank's accounts, the first
// list-append and register keys each get a range of their own).
const splitKeys = 8

// splitWorkloadTables splits the tables of the workload that has just set
// up; a split that fails is reported on w and skipped.
func splitWorkloadTables(ctx context.Context, c *nemesis.Cluster, url string, w io.Writer) {
	ids, err := verifyTableIDs(ctx, url)
	if err != nil {
		fmt.Fprintf(w, "ordo verify --split: %v\n", err)
		return
	}
	conn, err := grpc.NewClient(c.Nodes[0].Addr, rpc.DialOptions()...)
	if err != nil {
		fmt.Fprintf(w, "ordo verify --split: %v\n", err)
		return
	}
	defer func() { _ = conn.Close() }()
	node := rpcpb.NewNodeClient(conn)
	n := 0
	for _, id := range ids {
		for _, k := range splitKeysOf(id) {
			if err := adminSplit(ctx, node, k); err != nil {
				fmt.Fprintf(w, "ordo verify --split: at %s: %v\n", keys.Pretty(k), err)
				continue
			}
			n++
		}
	}
	fmt.Fprintf(w, "ordo verify --split: %d tables, %d splits\n", len(ids), n)
}

func splitKeysOf(tableID uint64) [][]byte {
	out := [][]byte{keys.TablePrefix(tableID), keys.IndexPrefix(tableID, catalog.PrimaryIndexID+1)}
	for v := int64(1); v < splitKeys; v++ {
		out = append(out, encoding.AppendInt(keys.IndexPrefix(tableID, catalog.PrimaryIndexID), v, encoding.Ascending))
	}
	return out
}

func adminSplit(ctx context.Context, node rpcpb.NodeClient, key []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := node.AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: key}, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	if resp.Error != nil {
		return kverr.FromProto(resp.Error)
	}
	return nil
}

// verifyTableIDs returns the descriptor IDs (pg_class OIDs) of the verify_*
// tables.
func verifyTableIDs(ctx context.Context, url string) ([]uint64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, "SELECT oid, relname FROM pg_class WHERE relkind = 'r'")
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for rows.Next() {
		var oid uint32
		var name string
		if err := rows.Scan(&oid, &name); err != nil {
			return nil, err
		}
		if strings.HasPrefix(name, "verify_") {
			ids = append(ids, uint64(oid))
		}
	}
	return ids, rows.Err()
}
