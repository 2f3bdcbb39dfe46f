package verify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/bank"
	"github.com/ordodb/ordo/tests/checker/history"
)

// BankConfig tunes the bank workload. The zero value is the default.
type BankConfig struct {
	// Table is the table's name. Default verify_bank.
	Table string
	// Accounts is the number of accounts. Default 8.
	Accounts int
	// Initial is each account's initial balance. Default 100.
	Initial int64
	// MaxTransfer is the largest amount moved at once. Default 5.
	MaxTransfer int64
	// MultiTable puts every account in a table of its own (Table_0,
	// Table_1, …, one row each), so a transfer spans two tables and a read
	// eight (testing.md R2, Jepsen's bank-multitable); with --split each
	// table is its own range.
	MultiTable bool
}

func (c BankConfig) withDefaults() BankConfig {
	if c.Table == "" {
		c.Table = "verify_bank"
	}
	if c.Accounts <= 1 {
		c.Accounts = 8
	}
	if c.Initial <= 0 {
		c.Initial = 100
	}
	if c.MaxTransfer <= 0 {
		c.MaxTransfer = 5
	}
	return c
}

// Bank is the bank workload over a table (id INT PRIMARY KEY, balance INT):
// half the operations transfer a random amount between two accounts
// (reading the source's balance first, never overdrawing), half read every
// balance in one SELECT.
type Bank struct {
	cfg BankConfig
}

// NewBank returns a bank workload.
func NewBank(cfg BankConfig) *Bank { return &Bank{cfg: cfg.withDefaults()} }

// errInsufficient fails a transfer the source cannot cover; the transaction
// is rolled back and recorded as fail.
var errInsufficient = errors.New("bank: insufficient funds")

// Name implements Workload.
func (w *Bank) Name() string {
	if w.cfg.MultiTable {
		return BankMultiTableName
	}
	return BankName
}

// table is the table holding account i, and the row's id in it.
func (w *Bank) table(i int) (string, int) {
	if w.cfg.MultiTable {
		return fmt.Sprintf("%s_%d", w.cfg.Table, i), 0
	}
	return w.cfg.Table, i
}

// Setup implements Workload.
func (w *Bank) Setup(ctx context.Context, conn *pgx.Conn) error {
	var stmts []string
	created := map[string]bool{}
	for i := range w.cfg.Accounts {
		t, id := w.table(i)
		if !created[t] {
			created[t] = true
			stmts = append(stmts, "DROP TABLE IF EXISTS "+t, "CREATE TABLE "+t+" (id INT PRIMARY KEY, balance INT NOT NULL)")
		}
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (id, balance) VALUES (%d, %d)", t, id, w.cfg.Initial))
	}
	return execAll(ctx, conn, stmts...)
}

// Next implements Workload.
func (w *Bank) Next(rng *rand.Rand) history.Op {
	if rng.IntN(2) == 0 {
		return history.Op{F: history.FRead}
	}
	from := rng.IntN(w.cfg.Accounts)
	to := (from + 1 + rng.IntN(w.cfg.Accounts-1)) % w.cfg.Accounts
	return history.Op{F: history.FTransfer, Transfer: &history.Transfer{
		From: strconv.Itoa(from), To: strconv.Itoa(to), Amount: 1 + rng.Int64N(w.cfg.MaxTransfer)}}
}

// Final implements Workload.
func (w *Bank) Final() history.Op { return history.Op{F: history.FRead} }

// Exec implements Workload.
func (w *Bank) Exec(ctx context.Context, tx pgx.Tx, op history.Op) (history.Op, error) {
	if op.F == history.FRead {
		b, err := w.readAll(ctx, tx)
		op.Balances = b
		return op, err
	}
	return op, w.transfer(ctx, tx, op.Transfer)
}

func (w *Bank) readAll(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
	if w.cfg.MultiTable {
		// One SELECT per table, as Jepsen's bank-multitable reads.
		out := map[string]int64{}
		for i := range w.cfg.Accounts {
			t, id := w.table(i)
			var bal int64
			err := tx.QueryRow(ctx, "SELECT balance FROM "+t+" WHERE id = $1", id).Scan(&bal)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // a missing account: the checker's nil balance
			}
			if err != nil {
				return nil, err
			}
			out[strconv.Itoa(i)] = bal
		}
		return out, nil
	}
	rows, err := tx.Query(ctx, "SELECT id, balance FROM "+w.cfg.Table)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	var id, bal int64
	_, err = pgx.ForEachRow(rows, []any{&id, &bal}, func() error {
		out[strconv.FormatInt(id, 10)] = bal
		return nil
	})
	return out, err
}

func (w *Bank) transfer(ctx context.Context, tx pgx.Tx, t *history.Transfer) error {
	from, err1 := strconv.Atoi(t.From)
	to, err2 := strconv.Atoi(t.To)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("bank: %w", err)
	}
	ft, fid := w.table(from)
	tt, tid := w.table(to)
	var bal int64
	if err := tx.QueryRow(ctx, "SELECT balance FROM "+ft+" WHERE id = $1", fid).Scan(&bal); err != nil {
		return err
	}
	if bal < t.Amount {
		return errInsufficient
	}
	const upd = "UPDATE %s SET balance = balance + $2 WHERE id = $1"
	if _, err := tx.Exec(ctx, fmt.Sprintf(upd, ft), fid, -t.Amount); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, fmt.Sprintf(upd, tt), tid, t.Amount)
	return err
}

var bankClasses = []bank.Class{bank.WrongTotal, bank.NegativeBalance, bank.NilBalance,
	bank.UnexpectedAccount, bank.NoFinalRead, bank.FinalOutOfBounds}

// Check implements Workload.
func (w *Bank) Check(ops []history.Op) (Verdict, error) {
	initial := map[string]int64{}
	for i := range w.cfg.Accounts {
		initial[strconv.Itoa(i)] = w.cfg.Initial
	}
	res, err := bank.Check(ops, bank.Config{Initial: initial})
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{Valid: res.Valid(), Level: "valid", Counts: countsOf(bankClasses, res.Counts), Checker: res.Summary()}
	if !v.Valid {
		v.Level, v.Explanation = "invalid", res.String()
	}
	c := res.Counts
	pct := 100.0
	if res.OkReads > 0 {
		pct = 100 * float64(res.OkReads-c[bank.WrongTotal]) / float64(res.OkReads)
	}
	v.Figures = fmt.Sprintf("%d ok reads, total=%d in %.0f%% of reads, %d negative/nil/unexpected, %d ok transfers of %d, %d lost or phantom transfers at the final read (%s)",
		res.OkReads, res.Total, pct, c[bank.NegativeBalance]+c[bank.NilBalance]+c[bank.UnexpectedAccount],
		res.OkTransfer, res.Transfers, c[bank.FinalOutOfBounds]+c[bank.NoFinalRead], v.Level)
	return v, nil
}
