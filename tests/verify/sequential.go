package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/sequential"
)

// SequentialConfig tunes the sequential workload. The zero value is the
// default.
type SequentialConfig struct {
	// Table is the tables' name prefix: subkey i of every key lives in
	// Table_i. Default verify_seq.
	Table string
	// Subkeys per key. Default 5.
	Subkeys int
	// Recent is how many of the latest keys reads choose from, so that
	// they meet writes in flight. Default 8.
	Recent int
}

func (c SequentialConfig) withDefaults() SequentialConfig {
	if c.Table == "" {
		c.Table = "verify_seq"
	}
	if c.Subkeys <= 1 {
		c.Subkeys = 5
	}
	if c.Recent <= 0 {
		c.Recent = 8
	}
	return c
}

// Sequential is Jepsen's sequential workload (testing.md R7): half the
// operations write a fresh key, inserting its subkeys 0..Subkeys-1 into
// tables Table_0, Table_1, … in order, each INSERT its own transaction and
// each only after the one before it was acknowledged; half read a recent
// key's subkeys in the reverse order, each SELECT its own transaction.
// With --split every table is its own range. Checked by
// tests/checker/sequential: a read that saw a subkey must see every
// earlier one.
type Sequential struct {
	cfg SequentialConfig
	mu  struct {
		sync.Mutex
		next int64
	}
}

// NewSequential returns a sequential workload.
func NewSequential(cfg SequentialConfig) *Sequential { return &Sequential{cfg: cfg.withDefaults()} }

// Name implements Workload.
func (w *Sequential) Name() string { return SequentialName }

func (w *Sequential) table(i int) string { return fmt.Sprintf("%s_%d", w.cfg.Table, i) }

// Setup implements Workload.
func (w *Sequential) Setup(ctx context.Context, conn *pgx.Conn) error {
	var stmts []string
	for i := range w.cfg.Subkeys {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+w.table(i), "CREATE TABLE "+w.table(i)+" (k INT PRIMARY KEY)")
	}
	return execAll(ctx, conn, stmts...)
}

// Next implements Workload.
func (w *Sequential) Next(rng *rand.Rand) history.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rng.IntN(2) == 0 && w.mu.next > 0 {
		k := w.mu.next - 1 - rng.Int64N(min(w.mu.next, int64(w.cfg.Recent)))
		return history.Op{F: history.FRead, Key: strconv.FormatInt(k, 10)}
	}
	w.mu.next++
	return history.Op{F: history.FWrite, Key: strconv.FormatInt(w.mu.next-1, 10)}
}

// Final implements Workload: a read of the latest key.
func (w *Sequential) Final() history.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	return history.Op{F: history.FRead, Key: strconv.FormatInt(max(0, w.mu.next-1), 10)}
}

// Exec implements Workload; never called: every operation is several
// transactions (ExecConn).
func (w *Sequential) Exec(context.Context, pgx.Tx, history.Op) (history.Op, error) {
	return history.Op{}, errors.New("sequential: operations run on the connection (ExecConn)")
}

// ExecConn implements ConnExecer: each statement is its own transaction.
// A write stops at the first subkey whose insert did not succeed; a read
// lists in Elements the subkeys it found.
func (w *Sequential) ExecConn(ctx context.Context, conn *pgx.Conn, op history.Op) (history.Op, error) {
	k, err := strconv.ParseInt(op.Key, 10, 64)
	if err != nil {
		return op, fmt.Errorf("sequential: key %q: %w", op.Key, err)
	}
	switch op.F {
	case history.FWrite:
		for i := range w.cfg.Subkeys {
			if _, err := conn.Exec(ctx, "INSERT INTO "+w.table(i)+" (k) VALUES ($1)", k); err != nil {
				return op, err
			}
		}
		return op, nil
	case history.FRead:
		op.Elements = []int64{}
		for i := w.cfg.Subkeys - 1; i >= 0; i-- {
			var one int
			err := conn.QueryRow(ctx, "SELECT 1 FROM "+w.table(i)+" WHERE k = $1", k).Scan(&one)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
			case err != nil:
				return op, err
			default:
				op.Elements = append(op.Elements, int64(i))
			}
		}
		return op, nil
	}
	return op, fmt.Errorf("sequential: unknown f %q", op.F)
}

// Check implements Workload.
func (w *Sequential) Check(ops []history.Op) (Verdict, error) {
	res, err := sequential.Check(ops)
	if err != nil {
		return Verdict{}, err
	}
	v := simpleVerdict(res.Valid(), map[string]int{"trailing-nil": res.Bad}, res.Summary(), res.String())
	v.Figures = fmt.Sprintf("%d writes of %d subkeys each, %d ok reads (%d saw subkeys), %d saw a subkey without an earlier one (%s)",
		res.Writes, w.cfg.Subkeys, res.OkReads, res.NonEmpty, res.Bad, v.Level)
	return v, nil
}
