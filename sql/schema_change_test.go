package sql_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/sql"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/kvmem"
)

// startNodes serves n executors ("nodes") over one shared KV store, each
// on its own loopback port, and returns a connection to each.
func startNodes(t *testing.T, n int) []*pgx.Conn {
	t.Helper()
	db := kvmem.New(kvmem.Config{})
	var conns []*pgx.Conn
	for i := range n {
		conns = append(conns, connectTo(t, startNode(t, db, i+1)))
	}
	return conns
}

func startNode(t *testing.T, db kvapi.DB, id int) string {
	t.Helper()
	return startNodeWith(t, sql.Config{DB: db, NodeID: uint16(id)})
}

// startNodeWith serves an executor made with cfg.
func startNodeWith(t *testing.T, cfg sql.Config) string {
	t.Helper()
	srv, err := pgwire.NewServer(pgwire.Config{Executor: sql.NewExecutor(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func connectTo(t *testing.T, addr string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExecOn(t *testing.T, c *pgx.Conn, q string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestSchemaChangeOnOtherNode: a statement prepared on node 2 (pgx caches
// it) sees node 1's committed ALTER TABLE on its next execution.
func TestSchemaChangeOnOtherNode(t *testing.T) {
	ctx := context.Background()
	n := startNodes(t, 2)
	mustExecOn(t, n[0], `CREATE TABLE t (a INT PRIMARY KEY, b TEXT)`)
	const ins = `INSERT INTO t (a, b) VALUES ($1, $2)`
	mustExecOn(t, n[1], ins, 1, "x")
	mustExecOn(t, n[0], `ALTER TABLE t ADD COLUMN c INT NOT NULL DEFAULT 7`)
	mustExecOn(t, n[1], ins, 2, "y")
	var sum int
	if err := n[1].QueryRow(ctx, `SELECT sum(c) FROM t`).Scan(&sum); err != nil || sum != 14 {
		t.Fatalf("sum(c) = %d, %v; want 14", sum, err)
	}
	mustExecOn(t, n[0], `ALTER TABLE t RENAME COLUMN b TO bb`)
	if _, err := n[1].Exec(ctx, ins, 3, "z"); codeOf(err) != "42703" {
		t.Fatalf("insert into renamed column: %v, want 42703", err)
	}
	mustExecOn(t, n[0], `ALTER TABLE t ADD CONSTRAINT small CHECK (a < 10)`)
	if _, err := n[1].Exec(ctx, `INSERT INTO t (a) VALUES ($1)`, 10); codeOf(err) != "23514" {
		t.Fatalf("insert against new check: %v, want 23514", err)
	}
	mustExecOn(t, n[0], `CREATE TABLE p (id INT PRIMARY KEY)`)
	mustExecOn(t, n[0], `ALTER TABLE t ADD COLUMN pid INT REFERENCES p`)
	if _, err := n[1].Exec(ctx, `INSERT INTO t (a, pid) VALUES ($1, $2)`, 5, 1); codeOf(err) != "23503" {
		t.Fatalf("insert against new foreign key: %v, want 23503", err)
	}
	mustExecOn(t, n[1], `INSERT INTO p VALUES (1)`)
	mustExecOn(t, n[1], `INSERT INTO t (a, pid) VALUES ($1, $2)`, 5, 1)
	if _, err := n[0].Exec(ctx, `DELETE FROM p WHERE id = $1`, 1); codeOf(err) != "23503" {
		t.Fatalf("delete of a referenced row: %v, want 23503", err)
	}
}

// TestSchemaChangeUnderWrites: while nodes 2 and 3 insert rows, node 1
// adds and drops columns and adds a constraint. Every acknowledged insert
// is there afterwards, nothing else is, and every row has the added
// column's default.
func TestSchemaChangeUnderWrites(t *testing.T) {
	ctx := context.Background()
	n := startNodes(t, 3)
	mustExecOn(t, n[0], `CREATE TABLE w (k INT PRIMARY KEY, v TEXT)`)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	acked := make([]map[int]bool, 2)
	errs := make(chan error, 2)
	var progress atomic.Int64
	// waitInserts waits for the writers to acknowledge m more rows.
	waitInserts := func(m int64) {
		target := progress.Load() + m
		deadline := time.Now().Add(20 * time.Second)
		for progress.Load() < target {
			if time.Now().After(deadline) {
				t.Fatalf("writers stalled at %d rows", progress.Load())
			}
			select {
			case err := <-errs:
				t.Fatal(err)
			case <-time.After(time.Millisecond):
			}
		}
	}
	for i := range 2 {
		acked[i] = map[int]bool{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; ; k += 2 {
				select {
				case <-stop:
					return
				default:
				}
				_, err := n[i+1].Exec(ctx, `INSERT INTO w (k, v) VALUES ($1, 'v')`, k)
				switch {
				case err == nil:
					acked[i][k] = true
					progress.Add(1)
				case codeOf(err) != "40001" && codeOf(err) != "42P01": // 42P01 between the renames
					errs <- fmt.Errorf("insert %d: %w", k, err)
					return
				}
			}
		}()
	}
	for _, ddl := range []string{
		`ALTER TABLE w ADD COLUMN tmp INT DEFAULT 1`,
		`ALTER TABLE w ADD COLUMN d INT NOT NULL DEFAULT 5`,
		`ALTER TABLE w DROP COLUMN tmp`,
		`ALTER TABLE w ADD CONSTRAINT d_pos CHECK (d > 0)`,
		`ALTER TABLE w RENAME TO w2`,
		`ALTER TABLE w2 RENAME TO w`,
	} {
		if !strings.HasPrefix(ddl, "ALTER TABLE w2") { // w is missing meanwhile
			waitInserts(20)
		}
		for {
			_, err := n[0].Exec(ctx, ddl)
			if err == nil {
				break
			}
			if codeOf(err) != "40001" {
				t.Fatalf("%s: %v", ddl, err)
			}
		}
	}
	waitInserts(20)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rows, err := n[0].Query(ctx, `SELECT k, d FROM w`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for rows.Next() {
		var k, d int
		if err := rows.Scan(&k, &d); err != nil {
			t.Fatal(err)
		}
		if d != 5 {
			t.Fatalf("row %d: d = %d, want 5", k, d)
		}
		got[k] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, m := range acked {
		for k := range m {
			want++
			if !got[k] {
				t.Fatalf("acknowledged row %d is missing", k)
			}
		}
	}
	if len(got) != want {
		t.Fatalf("%d rows, %d acknowledged", len(got), want)
	}
}

// TestForeignKeyUnderConcurrency: children are inserted through one node
// while parents are deleted through another. A child's insert reads its
// parent's key with a shared lock and the delete writes it, so no child
// may outlive its parent; every acknowledged child is there.
func TestForeignKeyUnderConcurrency(t *testing.T) {
	t.Run("scan", func(t *testing.T) { testForeignKeyUnderConcurrency(t, false) })
	t.Run("index", func(t *testing.T) { testForeignKeyUnderConcurrency(t, true) })
}

// testForeignKeyUnderConcurrency finds referencing children by scanning
// the child table, or with index through an index on the foreign key.
func testForeignKeyUnderConcurrency(t *testing.T, index bool) {
	ctx := context.Background()
	n := startNodes(t, 2)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	mustExecOn(t, n[0], `CREATE TABLE p (id INT PRIMARY KEY)`)
	mustExecOn(t, n[0], `CREATE TABLE c (k INT PRIMARY KEY, pid INT NOT NULL REFERENCES p)`)
	if index {
		mustExecOn(t, n[0], `CREATE INDEX c_pid ON c (pid)`)
	}
	mustExecOn(t, n[0], `INSERT INTO p SELECT g FROM generate_series(0, 39) AS g`)
	acked := map[int]bool{}
	orphansRefused, deleted := 0, 0 // each written by one goroutine
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { // children
		defer wg.Done()
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		for k := range 300 {
			_, err := n[0].Exec(ctx, `INSERT INTO c VALUES ($1, $2)`, k, rng.IntN(40))
			if err == nil {
				acked[k] = true
			} else if codeOf(err) == "23503" {
				orphansRefused++
			} else if codeOf(err) != "40001" {
				errs <- fmt.Errorf("insert child %d: %w", k, err)
				return
			}
		}
	}()
	go func() { // parents
		defer wg.Done()
		rng := rand.New(rand.NewPCG(uint64(seed), 2))
		for range 300 {
			tag, err := n[1].Exec(ctx, `DELETE FROM p WHERE id = $1`, rng.IntN(40))
			if err == nil && tag.RowsAffected() == 1 {
				deleted++
			}
			if code := codeOf(err); err != nil && code != "23503" && code != "40001" {
				errs <- fmt.Errorf("delete parent: %w", err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("seed %d: %v", seed, err)
	}
	var orphans, children int
	if err := n[1].QueryRow(ctx, `SELECT count(*) FROM c LEFT JOIN p ON c.pid = p.id WHERE p.id IS NULL`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if err := n[1].QueryRow(ctx, `SELECT count(*) FROM c`).Scan(&children); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 || children != len(acked) {
		t.Fatalf("seed %d: %d orphans, %d children for %d acknowledged inserts", seed, orphans, children, len(acked))
	}
	t.Logf("%d children, %d refused for a missing parent, %d parents deleted", children, orphansRefused, deleted)
	if orphansRefused == 0 || deleted == 0 {
		t.Fatalf("seed %d: the run exercised neither side (%d refused, %d deleted)", seed, orphansRefused, deleted)
	}
}
