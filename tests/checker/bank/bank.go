package bank

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Class names an anomaly class.
type Class string

// Anomaly classes.
const (
	WrongTotal        Class = "wrong-total"
	NegativeBalance   Class = "negative-balance"
	NilBalance        Class = "nil-balance"
	UnexpectedAccount Class = "unexpected-account"
	NoFinalRead       Class = "no-final-read"
	FinalOutOfBounds  Class = "final-out-of-bounds"
)

// Config describes the bank. The zero value of the optional fields is the
// default.
type Config struct {
	// Initial holds every account's initial balance; the total is their sum.
	Initial map[string]int64
	// AllowNegative accepts negative balances.
	AllowNegative bool
	// MaxExamples caps the anomalies kept per class. Default 8.
	MaxExamples int
}

// Anomaly is one bad read or final-state account.
type Anomaly struct {
	Class       Class
	Op          int // op ID of the read
	Explanation string
}

// Result is the checker's verdict.
type Result struct {
	Total      int64
	OkReads    int
	Transfers  int // transfer ops, any status
	OkTransfer int
	Counts     map[Class]int
	Anomalies  []Anomaly
}

// Valid reports that no anomaly was found.
func (r *Result) Valid() bool {
	for _, n := range r.Counts {
		if n > 0 {
			return false
		}
	}
	return true
}

// Summary is one line.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bank: total=%d, %d ok reads, %d/%d ok transfers: valid=%t",
		r.Total, r.OkReads, r.OkTransfer, r.Transfers, r.Valid())
	classes := make([]Class, 0, len(r.Counts))
	for c := range r.Counts {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	for _, c := range classes {
		fmt.Fprintf(&b, " %s=%d", c, r.Counts[c])
	}
	return b.String()
}

// String is the summary and every kept anomaly.
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "\n%s: op %d: %s", a.Class, a.Op, a.Explanation)
	}
	return b.String()
}

type checker struct {
	cfg   Config
	res   *Result
	reads []*history.Op
	xfers []*history.Op
}

// Check checks a bank history. Nemesis ops are skipped; other ops must be
// reads or transfers between known accounts. The error reports a malformed
// history or config, never an anomaly.
func Check(ops []history.Op, cfg Config) (*Result, error) {
	if len(cfg.Initial) == 0 {
		return nil, fmt.Errorf("bank: no accounts")
	}
	if cfg.MaxExamples <= 0 {
		cfg.MaxExamples = 8
	}
	c := &checker{cfg: cfg, res: &Result{Counts: map[Class]int{}}}
	for _, v := range cfg.Initial {
		c.res.Total += v
	}
	for i := range ops {
		if err := c.add(&ops[i]); err != nil {
			return nil, fmt.Errorf("bank: op %d: %w", ops[i].ID, err)
		}
	}
	for _, op := range c.reads {
		c.checkRead(op)
	}
	c.checkFinal()
	return c.res, nil
}

func (c *checker) add(op *history.Op) error {
	if op.Process == history.NemesisProcess {
		return nil
	}
	if op.Status < history.Ok || op.Status > history.Info {
		return fmt.Errorf("invalid status %d", op.Status)
	}
	switch op.F {
	case history.FRead:
		if op.Status == history.Ok {
			c.reads = append(c.reads, op)
		}
	case history.FTransfer:
		t := op.Transfer
		if t == nil {
			return fmt.Errorf("transfer without a Transfer")
		}
		if _, ok := c.cfg.Initial[t.From]; !ok {
			return fmt.Errorf("transfer from unknown account %q", t.From)
		}
		if _, ok := c.cfg.Initial[t.To]; !ok {
			return fmt.Errorf("transfer to unknown account %q", t.To)
		}
		c.res.Transfers++
		if op.Status == history.Ok {
			c.res.OkTransfer++
		}
		c.xfers = append(c.xfers, op)
	default:
		return fmt.Errorf("unknown f %q", op.F)
	}
	return nil
}

func (c *checker) report(class Class, op int, format string, args ...any) {
	c.res.Counts[class]++
	if c.res.Counts[class] <= c.cfg.MaxExamples {
		c.res.Anomalies = append(c.res.Anomalies, Anomaly{Class: class, Op: op, Explanation: fmt.Sprintf(format, args...)})
	}
}

func (c *checker) checkRead(op *history.Op) {
	c.res.OkReads++
	var sum int64
	for _, a := range sortedKeys(op.Balances) {
		v := op.Balances[a]
		sum += v
		if _, ok := c.cfg.Initial[a]; !ok {
			c.report(UnexpectedAccount, op.ID, "read unexpected account %q = %d", a, v)
		}
		if v < 0 && !c.cfg.AllowNegative {
			c.report(NegativeBalance, op.ID, "account %q = %d", a, v)
		}
	}
	for _, a := range sortedKeys(c.cfg.Initial) {
		if _, ok := op.Balances[a]; !ok {
			c.report(NilBalance, op.ID, "account %q missing from read %v", a, op.Balances)
		}
	}
	if sum != c.res.Total {
		c.report(WrongTotal, op.ID, "balances sum to %d, not %d: %v", sum, c.res.Total, op.Balances)
	}
}

// checkFinal bounds each account of the last-invoked ok read.
func (c *checker) checkFinal() {
	var final *history.Op
	for _, op := range c.reads {
		if final == nil || op.InvokeNs >= final.InvokeNs {
			final = op
		}
	}
	if final == nil {
		c.report(NoFinalRead, -1, "no ok read: the final state is unchecked")
		return
	}
	lo, hi := c.bounds(final)
	for _, a := range sortedKeys(c.cfg.Initial) {
		v, ok := final.Balances[a]
		if ok && (v < lo[a] || v > hi[a]) {
			c.report(FinalOutOfBounds, final.ID,
				"final read has %q = %d, outside [%d, %d] reachable from the initial %d and the transfers: a lost or phantom transfer",
				a, v, lo[a], hi[a], c.cfg.Initial[a])
		}
	}
}

// bounds returns each account's reachable range at the final read.
func (c *checker) bounds(final *history.Op) (lo, hi map[string]int64) {
	lo, hi = map[string]int64{}, map[string]int64{}
	for a, v := range c.cfg.Initial {
		lo[a], hi[a] = v, v
	}
	for _, op := range c.xfers {
		t := op.Transfer
		switch {
		case op.Status == history.Fail || op.InvokeNs > final.CompleteNs:
		case op.Status == history.Ok && op.CompleteNs < final.InvokeNs:
			lo[t.From], hi[t.From] = lo[t.From]-t.Amount, hi[t.From]-t.Amount
			lo[t.To], hi[t.To] = lo[t.To]+t.Amount, hi[t.To]+t.Amount
		default: // may or may not be visible
			widen(lo, hi, t.From, -t.Amount)
			widen(lo, hi, t.To, t.Amount)
		}
	}
	return lo, hi
}

func widen(lo, hi map[string]int64, a string, d int64) {
	if d < 0 {
		lo[a] += d
	} else {
		hi[a] += d
	}
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
