package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/comments"
	"github.com/ordodb/ordo/tests/checker/history"
)

// CommentsConfig tunes the comments workload. The zero value is the
// default.
type CommentsConfig struct {
	// Prefix names the tables PREFIX_0 … PREFIX_{Tables-1}. Default
	// verify_comments.
	Prefix string
	// Tables is the number of tables. Default 8.
	Tables int
}

func (c CommentsConfig) withDefaults() CommentsConfig {
	if c.Prefix == "" {
		c.Prefix = "verify_comments"
	}
	if c.Tables <= 0 {
		c.Tables = 8
	}
	return c
}

// Comments is Jepsen's comments workload: half the operations insert a
// unique id into table id mod Tables (id INT PRIMARY KEY), a blind write;
// half read every table in one transaction. Checked by
// tests/checker/comments: no read sees a write without every write
// acknowledged before that write began, and no read misses a write
// acknowledged before the read began.
type Comments struct {
	cfg  CommentsConfig
	next atomic.Int64
}

// NewComments returns a comments workload.
func NewComments(cfg CommentsConfig) *Comments { return &Comments{cfg: cfg.withDefaults()} }

// Name implements Workload.
func (w *Comments) Name() string { return CommentsName }

func (w *Comments) table(i int64) string { return fmt.Sprintf("%s_%d", w.cfg.Prefix, i) }

// Setup implements Workload.
func (w *Comments) Setup(ctx context.Context, conn *pgx.Conn) error {
	var stmts []string
	for i := range int64(w.cfg.Tables) {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+w.table(i), "CREATE TABLE "+w.table(i)+" (id INT PRIMARY KEY)")
	}
	return execAll(ctx, conn, stmts...)
}

// Next implements Workload.
func (w *Comments) Next(rng *rand.Rand) history.Op {
	if rng.IntN(2) == 0 {
		return history.Op{F: history.FRead}
	}
	return history.Op{F: history.FInsert, Element: w.next.Add(1)}
}

// Final implements Workload.
func (w *Comments) Final() history.Op { return history.Op{F: history.FRead} }

// Exec implements Workload.
func (w *Comments) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	switch op.F {
	case history.FInsert:
		_, err := tx.Exec(ctx, "INSERT INTO "+w.table(op.Element%int64(w.cfg.Tables))+" (id) VALUES ($1)", op.Element)
		return op, err
	case history.FRead:
		op.Elements = []int64{}
		for i := range int64(w.cfg.Tables) {
			ids, err := readInts(ctx, tx, "SELECT id FROM "+w.table(i))
			if err != nil {
				return op, err
			}
			op.Elements = append(op.Elements, ids...)
		}
		return op, nil
	}
	return op, fmt.Errorf("comments: unknown f %q", op.F)
}

// Check implements Workload.
func (w *Comments) Check(ops []history.Op) (Verdict, error) {
	res, err := comments.Check(ops)
	if err != nil {
		return Verdict{}, err
	}
	v := simpleVerdict(res.Valid(), countsOf(comments.Classes, res.Counts), res.Summary(), res.String())
	c := res.Counts
	v.Figures = fmt.Sprintf("%d ok writes of %d over %d tables, %d ok reads: %d missing (saw a write, not one acknowledged before it), %d stale, %d unexpected, %d duplicate (%s)",
		res.OkWrites, res.Writes, w.cfg.Tables, res.OkReads, c[comments.Missing], c[comments.Stale],
		c[comments.Unexpected], c[comments.Duplicate], v.Level)
	return v, nil
}
