package sql_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/kvmem"
)

// beginCounter counts the KV transactions begun over a DB.
type beginCounter struct {
	kvapi.DB
	begins atomic.Int64
}

func (d *beginCounter) Begin(ctx context.Context) (kvapi.Txn, error) {
	d.begins.Add(1)
	return d.DB.Begin(ctx)
}

// Many clients on three nodes call nextval at once: every value is handed
// out once, each client's values increase, and after a setval every node
// hands out values past it (no node keeps using a block reserved before).
func TestSequenceNodeCacheConcurrent(t *testing.T) {
	db := kvmem.New(kvmem.Config{})
	addrs := []string{startNode(t, db, 1), startNode(t, db, 2), startNode(t, db, 3)}
	admin := connectTo(t, addrs[0])
	mustExecOn(t, admin, "CREATE SEQUENCE s")
	const perNode, calls = 4, 25 // 100 values a node: its last block of 32 is partly used
	var conns []*pgx.Conn
	for _, a := range addrs {
		for range perNode {
			conns = append(conns, connectTo(t, a))
		}
	}
	got := make([][]int64, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				var v int64
				if err := c.QueryRow(context.Background(), "SELECT nextval('s')").Scan(&v); err != nil {
					errs[i] = err
					return
				}
				got[i] = append(got[i], v)
			}
		}()
	}
	wg.Wait()
	seen := map[int64]int{}
	for i, vs := range got {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		for k, v := range vs {
			if k > 0 && v <= vs[k-1] {
				t.Fatalf("client %d: %d after %d", i, v, vs[k-1])
			}
			if j, dup := seen[v]; dup {
				t.Fatalf("value %d handed to clients %d and %d", v, j, i)
			}
			seen[v] = i
		}
	}
	// Every node now holds a partly used block; setval retires them all.
	mustExecOn(t, conns[0], "SELECT setval('s', 100000)")
	for i, c := range conns {
		var v int64
		if err := c.QueryRow(context.Background(), "SELECT nextval('s')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v <= 100000 || seen[v] != 0 {
			t.Fatalf("client %d (node %d): nextval after setval(100000) is %d", i, i/perNode+1, v)
		}
		seen[v] = i
	}
}

// Inserting into a BIGSERIAL table takes its values from the node's
// cached block: a few KV transactions reserve them, not one per row; and
// one session sees 1, 2, 3, ... as with PostgreSQL.
func TestSequenceNodeCacheReservesBlocks(t *testing.T) {
	db := &beginCounter{DB: kvmem.New(kvmem.Config{})}
	c := connectTo(t, startNode(t, db, 1))
	mustExecOn(t, c, "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, v INT)")
	const rows = 200
	before := db.begins.Load()
	mustExecOn(t, c, fmt.Sprintf("INSERT INTO t (v) SELECT generate_series(1, %d)", rows))
	if n := db.begins.Load() - before; n > rows/16 {
		t.Fatalf("%d KV transactions for an insert of %d rows", n, rows)
	}
	var bad int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM t WHERE id <> v").Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d rows whose id is not its position", bad)
	}
	// A setval in a transaction block: the block's later nextval and the
	// next transaction's continue after it.
	mustExecOn(t, c, "BEGIN")
	mustExecOn(t, c, "SELECT setval('t_id_seq', 1000)")
	var v1, v2 int64
	if err := c.QueryRow(context.Background(), "SELECT nextval('t_id_seq')").Scan(&v1); err != nil {
		t.Fatal(err)
	}
	mustExecOn(t, c, "COMMIT")
	if err := c.QueryRow(context.Background(), "SELECT nextval('t_id_seq')").Scan(&v2); err != nil {
		t.Fatal(err)
	}
	if v1 != 1001 || v2 != 1002 {
		t.Fatalf("after setval(1000): %d, %d", v1, v2)
	}
}
