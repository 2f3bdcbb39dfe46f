package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// workload is one kind of load of ordo bench. The same SQL runs against
// ordo and PostgreSQL.
type workload interface {
	// setup readies the tables on one connection before the clients
	// connect. init is --init: create and load tables that are too big to
	// load on every run (tpcb's); cheap tables are created on every run.
	setup(ctx context.Context, conn *pgx.Conn, init bool, log io.Writer) error
	// txn runs one transaction of client c.
	txn(ctx context.Context, c *benchClient) error
}

func newWorkload(cfg *benchConfig) workload {
	switch cfg.workload {
	case "tpcb":
		return &tpcbWorkload{scale: cfg.scale, cfg: cfg}
	case "select-only":
		return &tpcbWorkload{scale: cfg.scale, selectOnly: true, cfg: cfg}
	case "registration":
		return &registrationWorkload{names: cfg.names}
	case "kv":
		return &kvWorkload{keys: cfg.keys, readPercent: cfg.readPercent, zipf: cfg.zipf, value: strings.Repeat("v", cfg.valueSize)}
	case "hot-row":
		return hotRowWorkload{}
	}
	panic("bench: unknown workload " + cfg.workload) // validate rejects it first
}

// benchClient is one connection running transactions back to back.
type benchClient struct {
	id   int
	cfg  *benchConfig
	w    workload
	url  string
	conn *pgx.Conn
	rng  *rand.Rand
	zipf *rand.Zipf // kv with --zipf
	seq  int64      // per-client counter for unique values
	mu   struct {
		sync.Mutex
		stats benchStats // since the last harvest
	}
}

func newBenchClient(id int, cfg *benchConfig, w workload) *benchClient {
	c := &benchClient{id: id, cfg: cfg, w: w, url: cfg.urls[id%len(cfg.urls)]}
	c.rng = rand.New(rand.NewPCG(cfg.seed+uint64(id), 0x6f72646f))
	if cfg.zipf > 1 {
		c.zipf = rand.NewZipf(c.rng, cfg.zipf, 1, uint64(cfg.keys-1))
	}
	return c
}

func (c *benchClient) connect(ctx context.Context) error {
	conn, err := benchConnect(ctx, c.cfg, c.url)
	c.conn = conn
	return err
}

func (c *benchClient) close() {
	if c != nil && c.conn != nil {
		_ = c.conn.Close(context.Background())
	}
}

// loop runs transactions until stop is set; one that ends after stop is
// not recorded. A lost connection is counted as an error and reopened.
func (c *benchClient) loop(stop *atomic.Bool) {
	for !stop.Load() {
		if c.conn == nil || c.conn.IsClosed() {
			if err := c.reconnect(stop); err != nil {
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.timeout)
		t0 := time.Now()
		err := c.w.txn(ctx, c)
		d := time.Since(t0)
		cancel()
		if stop.Load() {
			return
		}
		c.mu.Lock()
		c.mu.stats.record(d, err)
		c.mu.Unlock()
	}
}

func (c *benchClient) reconnect(stop *atomic.Bool) error {
	c.close()
	for !stop.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.timeout)
		err := c.connect(ctx)
		cancel()
		if err == nil {
			return nil
		}
		c.mu.Lock()
		c.mu.stats.record(0, err)
		c.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("stopped")
}

// inTxn runs fn inside BEGIN ... COMMIT, rolling back on error.
func inTxn(ctx context.Context, conn *pgx.Conn, fn func(tx pgx.Tx) error) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
		return err
	}
	return tx.Commit(ctx)
}

// execAll runs DDL statements in order.
func execAll(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// copyChunk is the rows per COPY transaction of the loaders. Small, so no
// transaction grows big: ordo's lock table checks a new write against the
// transaction's earlier ones, so a transaction's cost grows faster than its
// size (at 10,000 rows per COPY, most of a scale-10 load was spent there).
const copyChunk = 1000

// copyRows loads n rows made by row into table with COPY, in chunks of one
// transaction each.
func copyRows(ctx context.Context, conn *pgx.Conn, table string, cols []string, n int, row func(i int) []any) error {
	for lo := 0; lo < n; lo += copyChunk {
		if err := copyChunkRows(ctx, conn, table, cols, lo, min(lo+copyChunk, n), row); err != nil {
			return err
		}
	}
	return nil
}

// copyChunkRows is one COPY of rows [lo, hi).
func copyChunkRows(ctx context.Context, conn *pgx.Conn, table string, cols []string, lo, hi int, row func(i int) []any) error {
	src := pgx.CopyFromFunc(func() func() ([]any, error) {
		i := lo
		return func() ([]any, error) {
			if i >= hi {
				return nil, nil
			}
			i++
			return row(i - 1), nil
		}
	}())
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, src); err != nil {
		return fmt.Errorf("copy %s rows %d-%d: %w", table, lo, hi, err)
	}
	return nil
}

// copyRowsParallel is copyRows over loaders connections of their own,
// spread over cfg's URLs, each taking the next chunk.
func copyRowsParallel(ctx context.Context, cfg *benchConfig, loaders int, table string, cols []string, n int, row func(i int) []any) error {
	var next atomic.Int64
	errs := make([]error, loaders)
	var wg sync.WaitGroup
	for l := range loaders {
		wg.Go(func() {
			conn, err := benchConnect(ctx, cfg, cfg.urls[l%len(cfg.urls)])
			if err != nil {
				errs[l] = err
				return
			}
			defer func() { _ = conn.Close(context.Background()) }()
			for ctx.Err() == nil {
				lo := int(next.Add(copyChunk)) - copyChunk
				if lo >= n {
					return
				}
				if err := copyChunkRows(ctx, conn, table, cols, lo, min(lo+copyChunk, n), row); err != nil {
					errs[l] = err
					next.Store(int64(n)) // stop the others
					return
				}
			}
			errs[l] = ctx.Err()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// tpcbWorkload is pgbench's built-in "TPC-B (sort of)" script, or with
// selectOnly its "select only" script, on pgbench's tables.
type tpcbWorkload struct {
	selectOnly bool
	scale      int // read from pgbench_branches, as pgbench does
	cfg        *benchConfig
}

// tpcbLoaders is how many connections load pgbench_accounts at once
// (spread over the URLs).
const tpcbLoaders = 4

const tpcbAccountsPerBranch, tpcbTellersPerBranch = 100000, 10

func (w *tpcbWorkload) setup(ctx context.Context, conn *pgx.Conn, init bool, log io.Writer) error {
	if init {
		return w.load(ctx, conn, log)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pgbench_branches").Scan(&n); err != nil {
		return fmt.Errorf("%w (load the tables first: ordo bench tpcb --init --scale N --url URL)", err)
	}
	if n < 1 {
		return errors.New("pgbench_branches is empty (ordo bench tpcb --init --scale N --url URL)")
	}
	w.scale = n
	return nil
}

// load is pgbench -i: the four tables with their primary keys, loaded with
// COPY, at scale w.scale (--scale).
func (w *tpcbWorkload) load(ctx context.Context, conn *pgx.Conn, log io.Writer) error {
	scale := w.scale
	start := time.Now()
	err := execAll(ctx, conn,
		"DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
		"CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))",
		"CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84))",
		"CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
		"CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))")
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "ordo bench: loading pgbench tables at scale %d\n", scale)
	if err := copyRows(ctx, conn, "pgbench_branches", []string{"bid", "bbalance"}, scale,
		func(i int) []any { return []any{int32(i + 1), int32(0)} }); err != nil {
		return err
	}
	if err := copyRows(ctx, conn, "pgbench_tellers", []string{"tid", "bid", "tbalance"}, tpcbTellersPerBranch*scale,
		func(i int) []any { return []any{int32(i + 1), int32(i/tpcbTellersPerBranch + 1), int32(0)} }); err != nil {
		return err
	}
	err = copyRowsParallel(ctx, w.cfg, tpcbLoaders, "pgbench_accounts", []string{"aid", "bid", "abalance", "filler"}, tpcbAccountsPerBranch*scale,
		func(i int) []any { return []any{int32(i + 1), int32(i/tpcbAccountsPerBranch + 1), int32(0), ""} })
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "ordo bench: loaded %d accounts in %.1f s (COPY of %d rows per transaction, %d connections)\n",
		tpcbAccountsPerBranch*scale, time.Since(start).Seconds(), copyChunk, tpcbLoaders)
	// pgbench -i ends with VACUUM (ANALYZE) of the tables; do the same
	// where the target has VACUUM (PostgreSQL), so its planner has
	// statistics and its visibility map is set, as after pgbench -i.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history"); err != nil {
		fmt.Fprintf(log, "ordo bench: no VACUUM ANALYZE on this target (%v)\n", err)
	}
	return nil
}

func (w *tpcbWorkload) txn(ctx context.Context, c *benchClient) error {
	aid := int32(c.rng.IntN(tpcbAccountsPerBranch*w.scale) + 1)
	if w.selectOnly {
		var bal int32
		return c.conn.QueryRow(ctx, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", aid).Scan(&bal)
	}
	bid := int32(c.rng.IntN(w.scale) + 1)
	tid := int32(c.rng.IntN(tpcbTellersPerBranch*w.scale) + 1)
	delta := int32(c.rng.IntN(10001) - 5000)
	return inTxn(ctx, c.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", delta, aid); err != nil {
			return err
		}
		var bal int32
		if err := tx.QueryRow(ctx, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", aid).Scan(&bal); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2", delta, tid); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2", delta, bid); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
			tid, bid, aid, delta)
		return err
	})
}

// registrationWorkload inserts users with names drawn from a pool: once a
// name is taken, inserting it again fails with 23505 (the table is created
// afresh for each run). A row is an id and a unique username, so each
// insert writes a row and a unique-index entry.
type registrationWorkload struct{ names int }

func (w *registrationWorkload) setup(ctx context.Context, conn *pgx.Conn, _ bool, _ io.Writer) error {
	return execAll(ctx, conn,
		"DROP TABLE IF EXISTS bench_users",
		"CREATE TABLE bench_users (id bigint PRIMARY KEY, username text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())")
}

func (w *registrationWorkload) txn(ctx context.Context, c *benchClient) error {
	c.seq++
	id := int64(c.id)<<40 | c.seq
	name := fmt.Sprintf("user%09d", c.rng.IntN(w.names))
	_, err := c.conn.Exec(ctx, "INSERT INTO bench_users (id, username) VALUES ($1, $2)", id, name)
	return err
}

// kvWorkload is single-row reads and writes by primary key on a table of
// keys rows, loaded afresh before each run.
type kvWorkload struct {
	keys, readPercent int
	zipf              float64
	value             string
}

func (w *kvWorkload) setup(ctx context.Context, conn *pgx.Conn, _ bool, _ io.Writer) error {
	err := execAll(ctx, conn,
		"DROP TABLE IF EXISTS bench_kv",
		"CREATE TABLE bench_kv (k bigint PRIMARY KEY, v text NOT NULL)")
	if err != nil {
		return err
	}
	return copyRows(ctx, conn, "bench_kv", []string{"k", "v"}, w.keys,
		func(i int) []any { return []any{int64(i), w.value} })
}

func (w *kvWorkload) key(c *benchClient) int64 {
	if c.zipf != nil {
		return int64(c.zipf.Uint64())
	}
	return int64(c.rng.IntN(w.keys))
}

func (w *kvWorkload) txn(ctx context.Context, c *benchClient) error {
	k := w.key(c)
	if c.rng.IntN(100) < w.readPercent {
		var v string
		return c.conn.QueryRow(ctx, "SELECT v FROM bench_kv WHERE k = $1", k).Scan(&v)
	}
	_, err := c.conn.Exec(ctx, "UPDATE bench_kv SET v = $2 WHERE k = $1", k, w.value)
	return err
}

// hotRowWorkload increments one counter from every client: the worst case
// for contention, every transaction waits for the one before it.
type hotRowWorkload struct{}

func (hotRowWorkload) setup(ctx context.Context, conn *pgx.Conn, _ bool, _ io.Writer) error {
	return execAll(ctx, conn,
		"DROP TABLE IF EXISTS bench_counter",
		"CREATE TABLE bench_counter (id int PRIMARY KEY, v bigint NOT NULL)",
		"INSERT INTO bench_counter (id, v) VALUES (1, 0)")
}

func (hotRowWorkload) txn(ctx context.Context, c *benchClient) error {
	_, err := c.conn.Exec(ctx, "UPDATE bench_counter SET v = v + 1 WHERE id = $1", int32(1))
	return err
}
