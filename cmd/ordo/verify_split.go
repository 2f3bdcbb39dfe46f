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
// start, at the start of its first secondary index if it has one (a UNIQUE
// or CREATE INDEX entry then lives in another range than its row), and —
// when the workload has at most two tables — its primary index at the
// integer keys 1..splitKeys-1 (the bank's accounts, the first list-append
// and register keys each get a range of their own; bank-multitable's eight
// tables are eight ranges already).
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
	for _, t := range ids {
		for _, k := range splitKeysOf(t, len(ids) > 2) {
			if err := adminSplit(ctx, node, k); err != nil {
				fmt.Fprintf(w, "ordo verify --split: at %s: %v\n", keys.Pretty(k), err)
				continue
			}
			n++
		}
	}
	fmt.Fprintf(w, "ordo verify --split: %d tables, %d splits\n", len(ids), n)
}

// splitKeysOf is where to split t: at its start, at its first secondary
// index if it has one, and — unless the workload has many tables, each of
// which is then a range of its own already — at the integer keys.
func splitKeysOf(t verifyTable, manyTables bool) [][]byte {
	out := [][]byte{keys.TablePrefix(t.id)}
	if t.indexed {
		out = append(out, keys.IndexPrefix(t.id, catalog.PrimaryIndexID+1))
	}
	if manyTables {
		return out
	}
	for v := int64(1); v < splitKeys; v++ {
		out = append(out, encoding.AppendInt(keys.IndexPrefix(t.id, catalog.PrimaryIndexID), v, encoding.Ascending))
	}
	return out
}

// verifyTable is a verify_* table: its descriptor id (pg_class OID) and
// whether it has a secondary index.
type verifyTable struct {
	id      uint64
	indexed bool
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

// verifyTableIDs returns the verify_* tables.
func verifyTableIDs(ctx context.Context, url string) ([]verifyTable, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, "SELECT c.oid, c.relname, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND NOT i.indisprimary) FROM pg_class c WHERE c.relkind = 'r'")
	if err != nil {
		return nil, err
	}
	var out []verifyTable
	for rows.Next() {
		var oid uint32
		var name string
		var indexed bool
		if err := rows.Scan(&oid, &name, &indexed); err != nil {
			return nil, err
		}
		if strings.HasPrefix(name, "verify_") {
			out = append(out, verifyTable{id: uint64(oid), indexed: indexed})
		}
	}
	return out, rows.Err()
}
