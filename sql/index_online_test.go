package sql_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/sql"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/kvmem"
)

// onlineCluster is three nodes over one store; node 1 (conns[0]) builds
// indexes in batches of 20 rows and calls afterBatch after each.
type onlineCluster struct {
	db         *kvmem.DB
	conns      []*pgx.Conn
	afterBatch atomic.Pointer[func()]
	batches    atomic.Int64
}

func startOnlineCluster(t *testing.T) *onlineCluster {
	t.Helper()
	oc := &onlineCluster{db: kvmem.New(kvmem.Config{})}
	knobs := sql.TestingKnobs{IndexBackfill: exec.BackfillKnobs{Batch: 20, AfterBatch: func() {
		oc.batches.Add(1)
		if f := oc.afterBatch.Load(); f != nil {
			(*f)()
		}
	}}}
	for i := range 3 {
		cfg := sql.Config{DB: oc.db, NodeID: uint16(i + 1)}
		if i == 0 {
			cfg.TestingKnobs = knobs
		}
		oc.conns = append(oc.conns, connectTo(t, startNodeWith(t, cfg)))
	}
	return oc
}

func (oc *onlineCluster) onBatch(f func()) { oc.afterBatch.Store(&f) }

// indexEntries counts the KV entries of the index named name of table.
func (oc *onlineCluster) indexEntries(t *testing.T, table, name string) int {
	t.Helper()
	ctx := context.Background()
	var tableID, indexOID int64
	q := `SELECT t.oid::int8, i.oid::int8 FROM pg_class t, pg_class i WHERE t.relname = $1 AND i.relname = $2`
	if err := oc.conns[0].QueryRow(ctx, q, table, name).Scan(&tableID, &indexOID); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return oc.countSpan(t, keys.IndexPrefix(uint64(tableID), uint64(indexOID-exec.IndexOID(uint64(tableID), 0))))
}

func (oc *onlineCluster) countSpan(t *testing.T, p []byte) int {
	t.Helper()
	ctx := context.Background()
	txn, err := oc.db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = txn.Rollback(ctx) }()
	kvs, err := txn.Scan(ctx, p, keys.PrefixEnd(p), 0, false, kvapi.LockShared)
	if err != nil {
		t.Fatal(err)
	}
	return len(kvs)
}

// TestCreateIndexUnderWrites: while nodes 2 and 3 insert, update and
// delete rows, node 1 builds an index and a unique index. After every
// backfill batch the writers acknowledge more writes (they are not held
// off for the build), and afterwards each index holds exactly one entry
// per row: the entries number the rows, and a lookup through the index
// (EXPLAIN says so) finds each row.
func TestCreateIndexUnderWrites(t *testing.T) {
	ctx := context.Background()
	oc := startOnlineCluster(t)
	n := oc.conns
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	mustExecOn(t, n[0], `CREATE TABLE w (k INT PRIMARY KEY, v INT, u INT)`)
	mustExecOn(t, n[0], `INSERT INTO w SELECT g, g % 7, g FROM generate_series(0, 199) AS g`)
	var progress atomic.Int64
	stop := make(chan struct{})
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
			for next := 1000 + i; ; next += 2 {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch k := rng.IntN(200); rng.IntN(3) {
				case 0:
					_, err = n[i+1].Exec(ctx, `INSERT INTO w VALUES ($1, $2, $3)`, next, next%7, next)
				case 1:
					_, err = n[i+1].Exec(ctx, `UPDATE w SET v = v + 1, u = u + 100000 WHERE k = $1`, k)
				default:
					_, err = n[i+1].Exec(ctx, `DELETE FROM w WHERE k = $1`, k)
				}
				if err == nil {
					progress.Add(1)
				} else if codeOf(err) != "40001" {
					errs <- fmt.Errorf("seed %d: writer %d: %w", seed, i, err)
					return
				}
			}
		}()
	}
	// After each batch, wait for the writers to acknowledge more writes.
	oc.onBatch(func() {
		target := progress.Load() + 3
		deadline := time.Now().Add(20 * time.Second)
		for progress.Load() < target && time.Now().Before(deadline) {
			select {
			case err := <-errs:
				errs <- err
				return
			case <-time.After(time.Millisecond):
			}
		}
		if progress.Load() < target {
			t.Errorf("seed %d: writers stalled during the index build", seed)
		}
	})
	for _, ddl := range []string{`CREATE INDEX w_v ON w (v)`, `CREATE UNIQUE INDEX w_u ON w (u)`} {
		before, batches := progress.Load(), oc.batches.Load()
		mustExecOn(t, n[0], ddl)
		during := progress.Load() - before
		t.Logf("%s: %d batches, %d writes acknowledged during the build", ddl, oc.batches.Load()-batches, during)
		if oc.batches.Load()-batches < 2 || during == 0 {
			t.Fatalf("seed %d: %s: %d batches, %d writes during the build; want an online build", seed, ddl, oc.batches.Load()-batches, during)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkIndexMatches(t, oc)
}

// checkIndexMatches compares w_v and w_u with the table w.
func checkIndexMatches(t *testing.T, oc *onlineCluster) {
	t.Helper()
	ctx := context.Background()
	c := oc.conns[1]
	for _, q := range []string{`SELECT k FROM w WHERE v = 3`, `SELECT k FROM w WHERE u = 5`} {
		var plan []string
		rows, _ := c.Query(ctx, `EXPLAIN `+q)
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil || !strings.Contains(strings.Join(plan, "\n"), "w_"+q[len(q)-5:len(q)-4]) {
			t.Fatalf("EXPLAIN %s: %v\n%s", q, err, strings.Join(plan, "\n"))
		}
	}
	type row struct{ k, v, u int }
	var all []row
	rows, _ := c.Query(ctx, `SELECT k, v, u FROM w`)
	for rows.Next() {
		var r row
		_ = rows.Scan(&r.k, &r.v, &r.u)
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"w_v", "w_u"} {
		if got := oc.indexEntries(t, "w", name); got != len(all) {
			t.Fatalf("%s has %d entries for %d rows", name, got, len(all))
		}
	}
	byV := map[int][]int{}
	for _, r := range all {
		byV[r.v] = append(byV[r.v], r.k)
		var k int
		if err := c.QueryRow(ctx, `SELECT k FROM w WHERE u = $1`, r.u).Scan(&k); err != nil || k != r.k {
			t.Fatalf("u = %d through w_u: k = %d, %v; want %d", r.u, k, err, r.k)
		}
	}
	for v, want := range byV {
		rows, _ := c.Query(ctx, `SELECT k FROM w WHERE v = $1`, v)
		got, err := pgx.CollectRows(rows, pgx.RowTo[int])
		slices.Sort(got)
		slices.Sort(want)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("v = %d through w_v: %v, %v; want %v", v, got, err, want)
		}
	}
}

// TestCreateUniqueIndexDuplicates: a unique build over duplicates fails
// with 23505 and leaves no index; so does one that meets a duplicate
// inserted during the build ahead of the backfill, while a duplicate of
// a row already backfilled is refused to its writer.
func TestCreateUniqueIndexDuplicates(t *testing.T) {
	ctx := context.Background()
	oc := startOnlineCluster(t)
	n := oc.conns
	mustExecOn(t, n[0], `CREATE TABLE d (k INT PRIMARY KEY, u INT)`)
	mustExecOn(t, n[0], `INSERT INTO d SELECT g, g FROM generate_series(0, 99) AS g`)
	mustExecOn(t, n[0], `INSERT INTO d VALUES (100, 5)`)
	_, err := n[0].Exec(ctx, `CREATE UNIQUE INDEX d_u ON d (u)`)
	checkDuplicated(t, err, "could not create unique index \"d_u\"", "Key (u)=(5) is duplicated.")
	checkNoIndex(t, oc, "d")
	mustExecOn(t, n[0], `DELETE FROM d WHERE k = 100`)

	inserts := make(chan [2]error, 1)
	oc.onBatch(func() {
		oc.afterBatch.Store(nil) // once, after the first batch (rows 0 to 19)
		_, early := n[1].Exec(ctx, `INSERT INTO d VALUES (200, 3)`)
		_, late := n[2].Exec(ctx, `INSERT INTO d VALUES (201, 90)`)
		inserts <- [2]error{early, late}
	})
	_, err = n[0].Exec(ctx, `CREATE UNIQUE INDEX d_u ON d (u)`)
	r := <-inserts
	early, late := r[0], r[1]
	checkDuplicated(t, early, `duplicate key value violates unique constraint "d_u"`, "Key (u)=(3) already exists.")
	if late != nil {
		t.Fatalf("insert of a duplicate not yet backfilled: %v", late)
	}
	checkDuplicated(t, err, "could not create unique index \"d_u\"", "Key (u)=(90) is duplicated.")
	checkNoIndex(t, oc, "d")
	mustExecOn(t, n[0], `DELETE FROM d WHERE k = 201`)
	mustExecOn(t, n[0], `CREATE UNIQUE INDEX d_u ON d (u)`)
	if got := oc.indexEntries(t, "d", "d_u"); got != 100 {
		t.Fatalf("d_u has %d entries, want 100", got)
	}
}

func checkDuplicated(t *testing.T, err error, msg, detail string) {
	t.Helper()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" || pe.Message != msg || pe.Detail != detail {
		t.Fatalf("got %v, want 23505 %s (%s)", err, msg, detail)
	}
}

// checkNoIndex checks that table has no secondary index in the catalog
// nor entries in KV (its first secondary index ID is 2).
func checkNoIndex(t *testing.T, oc *onlineCluster, table string) {
	t.Helper()
	var tableID int64
	var indexes int
	q := `SELECT c.oid::int8, (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) FROM pg_class c WHERE c.relname = $1`
	if err := oc.conns[0].QueryRow(context.Background(), q, table).Scan(&tableID, &indexes); err != nil {
		t.Fatal(err)
	}
	if indexes != 1 { // the primary key
		t.Fatalf("%s has %d indexes after a failed build", table, indexes)
	}
	for id := uint64(2); id < 5; id++ {
		if got := oc.countSpan(t, keys.IndexPrefix(uint64(tableID), id)); got != 0 {
			t.Fatalf("index %d of %s has %d entries after a failed build", id, table, got)
		}
	}
}
