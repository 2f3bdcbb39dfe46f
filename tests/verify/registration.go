package verify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/registration"
)

// RegistrationConfig tunes the registration workload. The zero value is
// the default.
type RegistrationConfig struct {
	// Table is the table's name. Default verify_registration.
	Table string
	// ActiveNames is the size of the pool names are drawn from. Default 4.
	ActiveNames int
	// AttemptsPerName retires a name after this many attempts. Default 8.
	AttemptsPerName int
}

func (c RegistrationConfig) withDefaults() RegistrationConfig {
	if c.Table == "" {
		c.Table = "verify_registration"
	}
	if c.ActiveNames <= 0 {
		c.ActiveNames = 4
	}
	if c.AttemptsPerName <= 0 {
		c.AttemptsPerName = 8
	}
	return c
}

// Registration is the unique-user-names workload: a table (id INT PRIMARY
// KEY, name TEXT NOT NULL UNIQUE), and clients that each INSERT a row with
// a fresh id and a name drawn from a small pool, so several clients race
// for every name; 23505 is a definite failure. A name is retired after
// AttemptsPerName attempts. After the run every row is read. Checked by
// tests/checker/registration: each name acknowledged at most once and
// present exactly once, with the acknowledged insert's id.
type Registration struct {
	cfg RegistrationConfig

	mu struct {
		sync.Mutex
		active   []int64
		attempts map[int64]int
		nextName int64
		nextID   int64
	}
}

// NewRegistration returns a registration workload.
func NewRegistration(cfg RegistrationConfig) *Registration {
	w := &Registration{cfg: cfg.withDefaults()}
	w.mu.attempts = map[int64]int{}
	for range w.cfg.ActiveNames {
		w.mu.active = append(w.mu.active, w.mu.nextName)
		w.mu.nextName++
	}
	return w
}

// Name implements Workload.
func (w *Registration) Name() string { return RegistrationName }

// Setup implements Workload.
func (w *Registration) Setup(ctx context.Context, conn *pgx.Conn) error {
	return execAll(ctx, conn,
		"DROP TABLE IF EXISTS "+w.cfg.Table,
		"CREATE TABLE "+w.cfg.Table+" (id INT PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
}

// Next implements Workload.
func (w *Registration) Next(rng *rand.Rand) history.Op {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := rng.IntN(len(w.mu.active))
	n := w.mu.active[i]
	if w.mu.attempts[n]++; w.mu.attempts[n] >= w.cfg.AttemptsPerName {
		w.mu.active[i] = w.mu.nextName
		w.mu.nextName++
	}
	w.mu.nextID++
	return history.Op{F: history.FInsert, Key: fmt.Sprintf("user%d", n), Element: w.mu.nextID}
}

// Final implements Workload: every row.
func (w *Registration) Final() history.Op { return history.Op{F: history.FRead} }

// Exec implements Workload.
func (w *Registration) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	switch op.F {
	case history.FInsert:
		_, err := tx.Exec(ctx, "INSERT INTO "+w.cfg.Table+" (id, name) VALUES ($1, $2)", op.Element, op.Key)
		return op, err
	case history.FRead:
		rows, err := tx.Query(ctx, "SELECT id, name FROM "+w.cfg.Table)
		if err != nil {
			return op, err
		}
		op.Rows = []history.Row{}
		var r history.Row
		_, err = pgx.ForEachRow(rows, []any{&r.Element, &r.Key}, func() error {
			op.Rows = append(op.Rows, r)
			return nil
		})
		return op, err
	}
	return op, fmt.Errorf("registration: unknown f %q", op.F)
}

// Check implements Workload.
func (w *Registration) Check(ops []history.Op) (Verdict, error) {
	res, err := registration.Check(ops)
	if err != nil {
		return Verdict{}, err
	}
	v := simpleVerdict(res.Valid(), countsOf(registration.Classes, res.Counts), res.Summary(), res.String())
	c := res.Counts
	v.Figures = fmt.Sprintf("%d names, %d attempts (%d registered, %d refused, %d uncertain, %d recovered), %d rows: %d double registrations, %d duplicate rows, %d lost, %d unexpected (%s)",
		res.Names, res.Attempts, res.OkInserts, res.Failed, res.Info, res.Recovered, res.Rows,
		c[registration.DoubleRegistration], c[registration.DuplicateRow], c[registration.Lost], c[registration.Unexpected], v.Level)
	return v, nil
}
