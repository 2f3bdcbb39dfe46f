package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/sets"
)

// SetsConfig tunes the sets workload. The zero value is the default.
type SetsConfig struct {
	// Table is the table's name. Default verify_sets.
	Table string
	// ReadPercent is the share of operations that read the whole set
	// during the run (the final read is always taken). Default 2: reads
	// grow with the set, and so does the history.
	ReadPercent int
}

func (c SetsConfig) withDefaults() SetsConfig {
	if c.Table == "" {
		c.Table = "verify_sets"
	}
	if c.ReadPercent <= 0 {
		c.ReadPercent = 2
	}
	return c
}

// Sets adds unique elements to a set, one INSERT INTO … (e) each, into a
// table (e INT PRIMARY KEY); now and then, and once after the run, it reads
// the whole set. Checked by tests/checker/sets: every acknowledged add in
// the final read, nothing that was never added or whose add failed.
type Sets struct {
	cfg  SetsConfig
	next atomic.Int64
}

// NewSets returns a sets workload.
func NewSets(cfg SetsConfig) *Sets { return &Sets{cfg: cfg.withDefaults()} }

// Name implements Workload.
func (w *Sets) Name() string { return SetsName }

// Setup implements Workload.
func (w *Sets) Setup(ctx context.Context, conn *pgx.Conn) error {
	return execAll(ctx, conn,
		"DROP TABLE IF EXISTS "+w.cfg.Table,
		"CREATE TABLE "+w.cfg.Table+" (e INT PRIMARY KEY)")
}

// Next implements Workload.
func (w *Sets) Next(rng *rand.Rand) history.Op {
	if rng.IntN(100) < w.cfg.ReadPercent {
		return history.Op{F: history.FRead}
	}
	return history.Op{F: history.FAdd, Element: w.next.Add(1)}
}

// Final implements Workload.
func (w *Sets) Final() history.Op { return history.Op{F: history.FRead} }

// Exec implements Workload.
func (w *Sets) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	var err error
	switch op.F {
	case history.FAdd:
		_, err = tx.Exec(ctx, "INSERT INTO "+w.cfg.Table+" (e) VALUES ($1)", op.Element)
	case history.FRead:
		op.Elements, err = readInts(ctx, tx, "SELECT e FROM "+w.cfg.Table)
	default:
		err = fmt.Errorf("sets: unknown f %q", op.F)
	}
	return op, err
}

// readInts returns the single INT column of a query's rows, never nil.
func readInts(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out := []int64{}
	var v int64
	_, err = pgx.ForEachRow(rows, []any{&v}, func() error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// Check implements Workload.
func (w *Sets) Check(ops []history.Op) (Verdict, error) {
	res, err := sets.Check(ops)
	if err != nil {
		return Verdict{}, err
	}
	v := simpleVerdict(res.Valid(), countsOf(sets.Classes, res.Counts), res.Summary(), res.String())
	v.Figures = fmt.Sprintf("%d adds (%d ok, %d info), final read of %d: %d lost, %d unexpected, %d duplicate, %d recovered (%s)",
		res.Adds, res.OkAdds, res.InfoAdds, res.Final, res.Counts[sets.Lost],
		res.Counts[sets.Unexpected], res.Counts[sets.Duplicate], res.Recovered, v.Level)
	return v, nil
}

// simpleVerdict is the verdict of a checker with counts by class and a
// valid/invalid level.
func simpleVerdict(valid bool, counts map[string]int, summary, explanation string) Verdict {
	v := Verdict{Valid: valid, Level: "valid", Counts: counts, Checker: summary}
	if !valid {
		v.Level, v.Explanation = "invalid", explanation
	}
	return v
}
