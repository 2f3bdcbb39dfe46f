package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/g2"
	"github.com/ordodb/ordo/tests/checker/history"
)

// G2Config tunes the g2 workload. The zero value is the default.
type G2Config struct {
	// Prefix names the two tables, PREFIX_a and PREFIX_b. Default
	// verify_g2.
	Prefix string
}

func (c G2Config) withDefaults() G2Config {
	if c.Prefix == "" {
		c.Prefix = "verify_g2"
	}
	return c
}

// g2Tables are the two tables' suffixes, and the Value of an insert.
var g2Tables = [2]string{"a", "b"}

// G2 is Jepsen's g2 workload over two tables (id INT PRIMARY KEY, k INT,
// v INT) with a secondary index on k. Operations come in pairs, one per
// table, for a fresh key k: each reads the predicate k = $1 AND v % 3 = 0
// over both tables and, if both are empty, inserts (k, k, 30) into its own
// table. Consecutive operations go to different clients, so a pair usually
// runs concurrently. Checked by tests/checker/g2: at most one of a pair
// inserts.
type G2 struct {
	cfg  G2Config
	next atomic.Int64
}

// NewG2 returns a g2 workload.
func NewG2(cfg G2Config) *G2 { return &G2{cfg: cfg.withDefaults()} }

// Name implements Workload.
func (w *G2) Name() string { return G2Name }

func (w *G2) table(t string) string { return w.cfg.Prefix + "_" + t }

// Setup implements Workload.
func (w *G2) Setup(ctx context.Context, conn *pgx.Conn) error {
	var stmts []string
	for _, t := range g2Tables {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+w.table(t),
			"CREATE TABLE "+w.table(t)+" (id INT PRIMARY KEY, k INT NOT NULL, v INT NOT NULL)",
			"CREATE INDEX "+w.table(t)+"_k ON "+w.table(t)+" (k)")
	}
	return execAll(ctx, conn, stmts...)
}

// Next implements Workload.
func (w *G2) Next(*rand.Rand) history.Op {
	n := w.next.Add(1) - 1
	return history.Op{F: history.FInsert, Element: n / 2, Value: g2Tables[n%2]}
}

// Final implements Workload: every row of both tables.
func (w *G2) Final() history.Op { return history.Op{F: history.FRead} }

// Exec implements Workload.
func (w *G2) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	switch op.F {
	case history.FInsert:
		return w.insert(ctx, tx, op)
	case history.FRead:
		op.Rows = []history.Row{}
		for _, t := range g2Tables {
			keys, err := readInts(ctx, tx, "SELECT k FROM "+w.table(t))
			if err != nil {
				return op, err
			}
			for _, k := range keys {
				op.Rows = append(op.Rows, history.Row{Key: t, Element: k})
			}
		}
		return op, nil
	}
	return op, fmt.Errorf("g2: unknown f %q", op.F)
}

func (w *G2) insert(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	for _, t := range g2Tables {
		ids, err := readInts(ctx, tx, "SELECT id FROM "+w.table(t)+" WHERE k = $1 AND v % 3 = 0", op.Element)
		if err != nil || len(ids) > 0 {
			return op, err
		}
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+w.table(op.Value)+" (id, k, v) VALUES ($1, $1, 30)", op.Element)
	op.Swapped = err == nil
	return op, err
}

// Check implements Workload.
func (w *G2) Check(ops []history.Op) (Verdict, error) {
	res, err := g2.Check(ops)
	if err != nil {
		return Verdict{}, err
	}
	v := simpleVerdict(res.Valid(), countsOf(g2.Classes, res.Counts), res.Summary(), res.String())
	v.Figures = fmt.Sprintf("%d key pairs, %d attempts, %d inserted, %d found the predicate taken: %d G2 (both of a pair committed), %d lost, %d unexpected (%s)",
		res.Keys, res.Attempts, res.Inserted, res.Skipped, res.Counts[g2.G2], res.Counts[g2.Lost], res.Counts[g2.Unexpected], v.Level)
	return v, nil
}
