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
func (w *Bank) Name() string { return BankName }

// Setup implements Workload.
func (w *Bank) Setup(ctx context.Context, conn *pgx.Conn) error {
	stmts := []string{
		"DROP TABLE IF EXISTS " + w.cfg.Table,
		"CREATE TABLE " + w.cfg.Table + " (id INT PRIMARY KEY, balance INT NOT NULL)",
	}
	for i := range w.cfg.Accounts {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (id, balance) VALUES (%d, %d)", w.cfg.Table, i, w.cfg.Initial))
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
	var bal int64
	if err := tx.QueryRow(ctx, "SELECT balance FROM "+w.cfg.Table+" WHERE id = $1", from).Scan(&bal); err != nil {
		return err
	}
	if bal < t.Amount {
		return errInsufficient
	}
	upd := "UPDATE " + w.cfg.Table + " SET balance = balance + $2 WHERE id = $1"
	if _, err := tx.Exec(ctx, upd, from, -t.Amount); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, upd, to, t.Amount)
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
