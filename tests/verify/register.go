package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/register"
)

// RegisterConfig tunes the register workload. The zero value is the
// default.
type RegisterConfig struct {
	// Table is the table's name. Default verify_register.
	Table string
	// ActiveKeys is how many keys are used at a time. Default 4.
	ActiveKeys int
	// MaxOpsPerKey retires a key after this many operations, so porcupine
	// stays tractable (testing.md §3.3). Default 200.
	MaxOpsPerKey int
	// CheckTimeout bounds porcupine in total; running out is a failure.
	// Default 60 s.
	CheckTimeout time.Duration
}

func (c RegisterConfig) withDefaults() RegisterConfig {
	if c.Table == "" {
		c.Table = "verify_register"
	}
	if c.ActiveKeys <= 0 {
		c.ActiveKeys = 4
	}
	if c.MaxOpsPerKey <= 0 {
		c.MaxOpsPerKey = 200
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 60 * time.Second
	}
	return c
}

// Register is a set of single-key registers over a table (k INT PRIMARY
// KEY, v TEXT): half the operations read a key (SELECT v), a quarter write
// a unique value (UPDATE, or INSERT when the row is absent), a quarter
// compare-and-set it (UPDATE … WHERE k = $1 AND v = $2). Keys are retired
// after MaxOpsPerKey operations. Checked for linearizability per key by
// porcupine (tests/checker/register).
type Register struct {
	cfg RegisterConfig

	mu struct {
		sync.Mutex
		active  []int64
		ops     map[int64]int
		last    map[int64][]string // recent values generated per key
		nextKey int64
		nextVal int64
	}
}

// NewRegister returns a register workload.
func NewRegister(cfg RegisterConfig) *Register {
	w := &Register{cfg: cfg.withDefaults()}
	w.mu.ops = map[int64]int{}
	w.mu.last = map[int64][]string{}
	for range w.cfg.ActiveKeys {
		w.mu.active = append(w.mu.active, w.mu.nextKey)
		w.mu.nextKey++
	}
	return w
}

// Name implements Workload.
func (w *Register) Name() string { return RegisterName }

// Setup implements Workload.
func (w *Register) Setup(ctx context.Context, conn *pgx.Conn) error {
	return execAll(ctx, conn,
		"DROP TABLE IF EXISTS "+w.cfg.Table,
		"CREATE TABLE "+w.cfg.Table+" (k INT PRIMARY KEY, v TEXT NOT NULL)")
}

// Next implements Workload.
func (w *Register) Next(rng *rand.Rand) history.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := rng.IntN(len(w.mu.active))
	k := w.mu.active[i]
	if w.mu.ops[k]++; w.mu.ops[k] >= w.cfg.MaxOpsPerKey {
		w.mu.active[i] = w.mu.nextKey
		w.mu.nextKey++
	}
	op := history.Op{F: history.FRead, Key: keyName(k)}
	if f := rng.IntN(4); f >= 2 {
		w.mu.nextVal++
		op.F, op.Value = history.FWrite, strconv.FormatInt(w.mu.nextVal, 10)
		if last := w.mu.last[k]; f == 3 && len(last) > 0 {
			op.F, op.Expected = history.FCAS, last[rng.IntN(len(last))]
		}
		w.mu.last[k] = append(w.mu.last[k][max(0, len(w.mu.last[k])-2):], op.Value)
	}
	return op
}

// Final implements Workload: a read of the key generated last.
func (w *Register) Final() history.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	return history.Op{F: history.FRead, Key: keyName(w.mu.nextKey - 1)}
}

// Exec implements Workload.
func (w *Register) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	k, err := strconv.ParseInt(op.Key, 10, 64)
	if err != nil {
		return op, fmt.Errorf("register: key %q: %w", op.Key, err)
	}
	switch op.F {
	case history.FRead:
		err = tx.QueryRow(ctx, "SELECT v FROM "+w.cfg.Table+" WHERE k = $1", k).Scan(&op.Value)
		op.Exists = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	case history.FWrite:
		err = w.write(ctx, tx, k, op.Value)
	case history.FCAS:
		tag, cerr := tx.Exec(ctx, "UPDATE "+w.cfg.Table+" SET v = $3 WHERE k = $1 AND v = $2", k, op.Expected, op.Value)
		op.Swapped, err = tag.RowsAffected() == 1, cerr
	default:
		err = fmt.Errorf("register: unknown f %q", op.F)
	}
	return op, err
}

func (w *Register) write(ctx context.Context, tx pgx.Tx, k int64, v string) error {
	tag, err := tx.Exec(ctx, "UPDATE "+w.cfg.Table+" SET v = $2 WHERE k = $1", k, v)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO "+w.cfg.Table+" (k, v) VALUES ($1, $2)", k, v)
	return err
}

// Check implements Workload: linearizability per key, Unknown (porcupine
// out of time) a failure.
func (w *Register) Check(ops []history.Op) (Verdict, error) {
	p, err := register.Operations(ops)
	if err != nil {
		return Verdict{}, err
	}
	start := time.Now()
	res, cerr := register.Check(p, w.cfg.CheckTimeout)
	took := time.Since(start)
	keys := map[string]bool{}
	for _, op := range p {
		keys[op.Input.(register.Input).Key] = true
	}
	v := Verdict{Valid: cerr == nil, Level: "linearizable",
		Counts: map[string]int{"not-linearizable": 0, "unknown": 0}}
	switch res {
	case porcupine.Illegal:
		bad := register.IllegalKeys(p, w.cfg.CheckTimeout)
		v.Level, v.Counts["not-linearizable"] = "not linearizable", max(1, len(bad))
		v.Explanation = fmt.Sprintf("porcupine found no linearization of the register history; keys proven illegal alone: %s (replay the history with tests/checker/register.CheckVisualize to see the longest partial linearizations)",
			strings.Join(bad, ", "))
	case porcupine.Unknown:
		v.Level, v.Counts["unknown"] = "unknown", 1
		v.Explanation = fmt.Sprintf("porcupine ran out of time (%s): the history is too large or has too many uncertain operations; unknown is a failure", w.cfg.CheckTimeout)
	}
	v.Checker = fmt.Sprintf("register: porcupine %s in %.1f s over %d keys, %d operations checked", res, took.Seconds(), len(keys), len(p))
	v.Figures = fmt.Sprintf("%d keys / %d ops checked, %s per porcupine (%s, %.1f s)", len(keys), len(p), v.Level, res, took.Seconds())
	return v, nil
}
