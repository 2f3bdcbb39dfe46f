package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
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
	// WritesPerKey moves writes and reads to a fresh key after this many
	// writes, so reads stay short. Default 100.
	WritesPerKey int
}

func (c CommentsConfig) withDefaults() CommentsConfig {
	if c.Prefix == "" {
		c.Prefix = "verify_comments"
	}
	if c.Tables <= 0 {
		c.Tables = 8
	}
	if c.WritesPerKey <= 0 {
		c.WritesPerKey = 100
	}
	return c
}

// Comments is Jepsen's comments workload over tables (id INT PRIMARY KEY,
// k INT): half the operations insert a unique id into table id mod Tables
// under the current key k, a blind write; half read the current key's ids
// from every table in one transaction. The key moves on every WritesPerKey
// writes. Checked by tests/checker/comments per key: no read sees a write
// without every write acknowledged before that write began, and no read
// misses a write acknowledged before the read began.
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
		stmts = append(stmts, "DROP TABLE IF EXISTS "+w.table(i), "CREATE TABLE "+w.table(i)+" (id INT PRIMARY KEY, k INT NOT NULL)")
	}
	return execAll(ctx, conn, stmts...)
}

// Next implements Workload.
func (w *Comments) Next(rng *rand.Rand) history.Op {
	if rng.IntN(2) == 0 {
		return w.Final()
	}
	id := w.next.Add(1)
	return history.Op{F: history.FInsert, Element: id, Key: keyName((id - 1) / int64(w.cfg.WritesPerKey))}
}

// Final implements Workload: a read of the current key.
func (w *Comments) Final() history.Op {
	return history.Op{F: history.FRead, Key: keyName(w.next.Load() / int64(w.cfg.WritesPerKey))}
}

// Exec implements Workload.
func (w *Comments) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	k, err := strconv.ParseInt(op.Key, 10, 64)
	if err != nil {
		return op, fmt.Errorf("comments: key %q: %w", op.Key, err)
	}
	switch op.F {
	case history.FInsert:
		_, err := tx.Exec(ctx, "INSERT INTO "+w.table(op.Element%int64(w.cfg.Tables))+" (id, k) VALUES ($1, $2)", op.Element, k)
		return op, err
	case history.FRead:
		op.Elements = []int64{}
		for i := range int64(w.cfg.Tables) {
			ids, err := readInts(ctx, tx, "SELECT id FROM "+w.table(i)+" WHERE k = $1", k)
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
	v.Figures = fmt.Sprintf("%d ok writes of %d over %d tables and %d keys, %d ok reads: %d missing (saw a write, not one acknowledged before it), %d stale, %d unexpected, %d duplicate (%s)",
		res.OkWrites, res.Writes, w.cfg.Tables, res.Keys, res.OkReads, c[comments.Missing], c[comments.Stale],
		c[comments.Unexpected], c[comments.Duplicate], v.Level)
	return v, nil
}
