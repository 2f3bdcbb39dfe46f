package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/listappend"
)

// ListAppendConfig tunes the list-append workload. The zero value is the
// default.
type ListAppendConfig struct {
	// Table is the table's name. Default verify_append.
	Table string
	// ActiveKeys is how many keys are written at a time. Default 8.
	ActiveKeys int
	// MaxTxnLen is the most micro-operations per transaction. Default 4.
	MaxTxnLen int
	// MaxWritesPerKey retires a key after this many appends, so lists stay
	// short. Default 64.
	MaxWritesPerKey int
}

func (c ListAppendConfig) withDefaults() ListAppendConfig {
	if c.Table == "" {
		c.Table = "verify_append"
	}
	if c.ActiveKeys <= 0 {
		c.ActiveKeys = 8
	}
	if c.MaxTxnLen <= 0 {
		c.MaxTxnLen = 4
	}
	if c.MaxWritesPerKey <= 0 {
		c.MaxWritesPerKey = 64
	}
	return c
}

// ListAppend is Elle's list-append workload over a table (k INT PRIMARY
// KEY, v TEXT): an append is UPDATE … SET v = v || ',' || x, or an INSERT
// when the row is absent; a read is SELECT v. A transaction is 1 to
// MaxTxnLen random reads and appends over the active keys.
type ListAppend struct {
	cfg ListAppendConfig

	mu struct {
		sync.Mutex
		active  []int64       // keys being written
		writes  map[int64]int // appends generated per key
		nextKey int64
		nextVal int64
	}
}

// NewListAppend returns a list-append workload.
func NewListAppend(cfg ListAppendConfig) *ListAppend {
	w := &ListAppend{cfg: cfg.withDefaults()}
	w.mu.writes = map[int64]int{}
	for range w.cfg.ActiveKeys {
		w.mu.active = append(w.mu.active, w.mu.nextKey)
		w.mu.nextKey++
	}
	return w
}

// Name implements Workload.
func (w *ListAppend) Name() string { return ListAppendName }

// Setup implements Workload.
func (w *ListAppend) Setup(ctx context.Context, conn *pgx.Conn) error {
	return execAll(ctx, conn,
		"DROP TABLE IF EXISTS "+w.cfg.Table,
		"CREATE TABLE "+w.cfg.Table+" (k INT PRIMARY KEY, v TEXT NOT NULL)")
}

// Next implements Workload.
func (w *ListAppend) Next(rng *rand.Rand) history.Op {
	n := 1 + rng.IntN(w.cfg.MaxTxnLen)
	mops := make([]history.Mop, 0, n)
	w.mu.Lock()
	defer w.mu.Unlock()
	for range n {
		i := rng.IntN(len(w.mu.active))
		k := w.mu.active[i]
		if rng.IntN(2) == 0 {
			mops = append(mops, history.Read(keyName(k)))
			continue
		}
		w.mu.nextVal++
		mops = append(mops, history.Append(keyName(k), w.mu.nextVal))
		if w.mu.writes[k]++; w.mu.writes[k] >= w.cfg.MaxWritesPerKey {
			w.mu.active[i] = w.mu.nextKey
			w.mu.nextKey++
		}
	}
	return history.Op{F: history.FTxn, Mops: mops}
}

// Final implements Workload: a read of every key ever generated.
func (w *ListAppend) Final() history.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	mops := make([]history.Mop, 0, w.mu.nextKey)
	for k := range w.mu.nextKey {
		mops = append(mops, history.Read(keyName(k)))
	}
	return history.Op{F: history.FTxn, Mops: mops}
}

func keyName(k int64) string { return strconv.FormatInt(k, 10) }

// Exec implements Workload.
func (w *ListAppend) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	mops := make([]history.Mop, len(op.Mops))
	for i, m := range op.Mops {
		k, err := strconv.ParseInt(m.Key, 10, 64)
		if err != nil {
			return op, fmt.Errorf("list-append: key %q: %w", m.Key, err)
		}
		mops[i] = m
		if m.F == history.FAppend {
			err = w.append(ctx, tx, k, m.Val)
		} else {
			mops[i].List, err = w.read(ctx, tx, k)
		}
		if err != nil {
			return op, err
		}
	}
	op.Mops = mops
	return op, nil
}

func (w *ListAppend) append(ctx context.Context, tx pgx.Tx, k, v int64) error {
	val := strconv.FormatInt(v, 10)
	tag, err := tx.Exec(ctx, "UPDATE "+w.cfg.Table+" SET v = v || ',' || $2 WHERE k = $1", k, val)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO "+w.cfg.Table+" (k, v) VALUES ($1, $2)", k, val)
	return err
}

func (w *ListAppend) read(ctx context.Context, tx pgx.Tx, k int64) ([]int64, error) {
	var s string
	err := tx.QueryRow(ctx, "SELECT v FROM "+w.cfg.Table+" WHERE k = $1", k).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return []int64{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseList(s), nil
}

// parseList decodes "1,2,3". An element that is not a positive integer
// becomes Garbage, which no transaction appends, so the checker reports the
// read as a garbage read instead of the client hiding it.
func parseList(s string) []int64 {
	if s == "" {
		return []int64{}
	}
	parts := strings.Split(s, ",")
	out := make([]int64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v <= 0 {
			v = Garbage
		}
		out[i] = v
	}
	return out
}

// Garbage stands for an unparseable list element (appended values are
// positive).
const Garbage int64 = -1

// serializableClasses and strictClasses are every class the list-append
// checker reports, in the order of the summary line.
var (
	serializableClasses = []listappend.Class{listappend.G0, listappend.G1a, listappend.G1b,
		listappend.G1c, listappend.GSingle, listappend.G2Item, listappend.Internal,
		listappend.GarbageRead, listappend.DuplicateAppend, listappend.IncompatibleOrder}
	realtimeClasses = []listappend.Class{
		listappend.G0Process, listappend.G1cProcess, listappend.GSingleProcess, listappend.G2ItemProcess,
		listappend.G0Realtime, listappend.G1cRealtime, listappend.GSingleRealtime, listappend.G2ItemRealtime}
)

// Check implements Workload: strict serializability, with process order.
func (w *ListAppend) Check(ops []history.Op) (Verdict, error) {
	res, err := listappend.Check(ops, listappend.Config{ProcessOrder: true})
	if err != nil {
		return Verdict{}, err
	}
	all := append(append(append([]listappend.Class{}, serializableClasses...), realtimeClasses...), listappend.LostAppend)
	v := Verdict{
		Valid:   res.StrictSerializable(),
		Counts:  countsOf(all, res.Counts),
		Checker: res.Summary(),
	}
	switch {
	case v.Valid:
		v.Level = "strict-serializable"
	case res.Serializable():
		v.Level = "serializable"
	default:
		v.Level = "not serializable"
	}
	if !v.Valid {
		v.Explanation = res.String()
	}
	v.Figures = fmt.Sprintf("%d txns (%d committed), %d keys, %s, %s, %d lost appends (%s)",
		res.Txns, res.Committed, res.Keys,
		classCounts(res.Counts, serializableClasses, "0 G0/G1a/G1b/G1c/G-single/G2-item"),
		realtimeFigure(res.Counts), res.Counts[listappend.LostAppend], v.Level)
	return v, nil
}

// classCounts prints the nonzero counts of classes, or zero when none.
func classCounts(counts map[listappend.Class]int, classes []listappend.Class, zero string) string {
	var parts []string
	for _, c := range classes {
		if n := counts[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", c, n))
		}
	}
	if len(parts) == 0 {
		return zero
	}
	return strings.Join(parts, " ")
}

func realtimeFigure(counts map[listappend.Class]int) string {
	n := 0
	for _, c := range realtimeClasses {
		n += counts[c]
	}
	return fmt.Sprintf("%d realtime/process cycles", n)
}
