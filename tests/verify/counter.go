package verify

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/counter"
	"github.com/ordodb/ordo/tests/checker/history"
)

// CounterConfig tunes the counter workload. The zero value is the default.
type CounterConfig struct {
	// Table is the table's name. Default verify_counter.
	Table string
}

// Counter is the counter-monotonic workload: one row (k = 0, v) of a table
// (k INT PRIMARY KEY, v INT) starting at 0; half the operations increment
// it (UPDATE … SET v = v + 1 … RETURNING v), half read it. Checked by
// tests/checker/counter: values within what the increments allow, never
// decreasing per process or in real time, no two increments producing the
// same value.
type Counter struct {
	table string
}

// NewCounter returns a counter workload.
func NewCounter(cfg CounterConfig) *Counter {
	if cfg.Table == "" {
		cfg.Table = "verify_counter"
	}
	return &Counter{table: cfg.Table}
}

// Name implements Workload.
func (w *Counter) Name() string { return CounterName }

// Setup implements Workload.
func (w *Counter) Setup(ctx context.Context, conn *pgx.Conn) error {
	return execAll(ctx, conn,
		"DROP TABLE IF EXISTS "+w.table,
		"CREATE TABLE "+w.table+" (k INT PRIMARY KEY, v INT NOT NULL)",
		"INSERT INTO "+w.table+" (k, v) VALUES (0, 0)")
}

// Next implements Workload.
func (w *Counter) Next(rng *rand.Rand) history.Op {
	if rng.IntN(2) == 0 {
		return history.Op{F: history.FRead}
	}
	return history.Op{F: history.FAdd}
}

// Final implements Workload.
func (w *Counter) Final() history.Op { return history.Op{F: history.FRead} }

// Exec implements Workload.
func (w *Counter) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	var err error
	switch op.F {
	case history.FRead:
		err = tx.QueryRow(ctx, "SELECT v FROM "+w.table+" WHERE k = 0").Scan(&op.Count)
	case history.FAdd:
		err = tx.QueryRow(ctx, "UPDATE "+w.table+" SET v = v + 1 WHERE k = 0 RETURNING v").Scan(&op.Count)
	default:
		err = fmt.Errorf("counter: unknown f %q", op.F)
	}
	return op, err
}

// Check implements Workload.
func (w *Counter) Check(ops []history.Op) (Verdict, error) {
	res, err := counter.Check(ops)
	if err != nil {
		return Verdict{}, err
	}
	v := simpleVerdict(res.Valid(), countsOf(counter.Classes, res.Counts), res.Summary(), res.String())
	c := res.Counts
	v.Figures = fmt.Sprintf("%d ok reads, %d ok increments of %d, final %d: %d above attempts, %d below acknowledged, %d non-monotonic (process), %d non-monotonic (real time), %d duplicate increments (%s)",
		res.OkReads, res.OkIncrements, res.Increments, res.Final, c[counter.Over], c[counter.Under],
		c[counter.NonMonotonic], c[counter.NonMonotonicRealtime], c[counter.Duplicate], v.Level)
	return v, nil
}
