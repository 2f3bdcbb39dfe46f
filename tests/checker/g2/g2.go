package g2

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
	G2          Class = "G2"
	Lost        Class = "lost"
	Unexpected  Class = "unexpected"
	NoFinalRead Class = "no-final-read"
)

// Classes lists every class, in the order of a summary.
var Classes = []Class{G2, Lost, Unexpected, NoFinalRead}

const maxExamples = 8

// Anomaly is one bad key.
type Anomaly struct {
	Class       Class
	Key         int64
	Explanation string
}

// Result is the checker's verdict.
type Result struct {
	Keys     int // keys attempted
	Attempts int
	// Inserted counts ok attempts that inserted; Skipped ok attempts that
	// found the predicate non-empty.
	Inserted, Skipped int
	Counts            map[Class]int
	Anomalies         []Anomaly
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
	return fmt.Sprintf("g2: %d keys, %d attempts, %d ok inserts, %d ok skips: %d G2, %d lost, %d unexpected: valid=%t",
		r.Keys, r.Attempts, r.Inserted, r.Skipped, r.Counts[G2], r.Counts[Lost], r.Counts[Unexpected], r.Valid())
}

// String is the summary and every kept anomaly.
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "\n\n%s: key %d: %s", a.Class, a.Key, a.Explanation)
	}
	return b.String()
}

func (r *Result) report(class Class, k int64, format string, args ...any) {
	r.Counts[class]++
	if r.Counts[class] <= maxExamples {
		r.Anomalies = append(r.Anomalies, Anomaly{Class: class, Key: k, Explanation: fmt.Sprintf(format, args...)})
	}
}

type checker struct {
	res      *Result
	attempts map[int64][]*history.Op // by key
	final    *history.Op
}

// Check checks a g2 history. Nemesis ops are skipped; other ops must be
// inserts or reads. The error reports a malformed history, never an
// anomaly.
func Check(ops []history.Op) (*Result, error) {
	c := &checker{res: &Result{Counts: map[Class]int{}}, attempts: map[int64][]*history.Op{}}
	for i := range ops {
		if err := c.add(&ops[i]); err != nil {
			return nil, fmt.Errorf("g2: op %d: %w", ops[i].ID, err)
		}
	}
	c.res.Keys = len(c.attempts)
	flagged := c.checkAcks()
	c.checkFinal(flagged)
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
	case history.FInsert:
		for _, prev := range c.attempts[op.Element] {
			if prev.Value == op.Value {
				return fmt.Errorf("two attempts on table %q for key %d (ops %d, %d)", op.Value, op.Element, prev.ID, op.ID)
			}
		}
		c.attempts[op.Element] = append(c.attempts[op.Element], op)
		c.res.Attempts++
		if op.Status == history.Ok && op.Swapped {
			c.res.Inserted++
		} else if op.Status == history.Ok {
			c.res.Skipped++
		}
	case history.FRead:
		if op.Status == history.Ok && (c.final == nil || op.InvokeNs >= c.final.InvokeNs) {
			c.final = op
		}
	default:
		return fmt.Errorf("unknown f %q", op.F)
	}
	return nil
}

func (c *checker) keys() []int64 {
	keys := make([]int64, 0, len(c.attempts))
	for k := range c.attempts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkAcks flags keys with two ok inserts and returns them.
func (c *checker) checkAcks() map[int64]bool {
	flagged := map[int64]bool{}
	for _, k := range c.keys() {
		var ins []*history.Op
		for _, op := range c.attempts[k] {
			if op.Status == history.Ok && op.Swapped {
				ins = append(ins, op)
			}
		}
		if len(ins) >= 2 {
			flagged[k] = true
			c.res.report(G2, k, "both transactions committed an insert: op %d into table %s (process %d, %d–%d ns) and op %d into table %s (process %d, %d–%d ns); each read the predicate over both tables as empty, so each must precede the other (T1 -rw-> T2 -rw-> T1)",
				ins[0].ID, ins[0].Value, ins[0].Process, ins[0].InvokeNs, ins[0].CompleteNs,
				ins[1].ID, ins[1].Value, ins[1].Process, ins[1].InvokeNs, ins[1].CompleteNs)
		}
	}
	return flagged
}

// checkFinal compares the final read with the attempts.
func (c *checker) checkFinal(flagged map[int64]bool) {
	if c.final == nil {
		c.res.report(NoFinalRead, -1, "no ok read: the final state is unchecked")
		return
	}
	rows := map[int64][]string{} // key -> tables holding a row for it
	for _, r := range c.final.Rows {
		if !slices.Contains(rows[r.Element], r.Key) {
			rows[r.Element] = append(rows[r.Element], r.Key)
		}
	}
	all := c.keys()
	for k := range rows {
		if _, ok := c.attempts[k]; !ok {
			all = append(all, k)
		}
	}
	slices.Sort(all)
	for _, k := range all {
		c.checkKey(k, rows[k], flagged[k])
	}
}

func (c *checker) checkKey(k int64, tables []string, flagged bool) {
	if len(tables) >= 2 && !flagged {
		c.res.report(G2, k, "the final read (op %d) has rows for the key in tables %v: both inserts committed", c.final.ID, tables)
	}
	for _, t := range tables {
		op := c.attempt(k, t)
		switch {
		case op == nil:
			c.res.report(Unexpected, k, "the final read has a row in table %s that no insert attempted", t)
		case op.Status == history.Fail:
			c.res.report(Unexpected, k, "the final read has a row in table %s whose insert (op %d) failed definitely: %s", t, op.ID, op.Error)
		case op.Status == history.Ok && !op.Swapped:
			c.res.report(Unexpected, k, "the final read has a row in table %s though its transaction (op %d) inserted nothing", t, op.ID)
		}
	}
	for _, op := range c.attempts[k] {
		if op.Status == history.Ok && op.Swapped && op.CompleteNs < c.final.InvokeNs && !slices.Contains(tables, op.Value) {
			c.res.report(Lost, k, "the insert into table %s was acknowledged (op %d) but the final read (op %d) has no row for it",
				op.Value, op.ID, c.final.ID)
		}
	}
}

func (c *checker) attempt(k int64, table string) *history.Op {
	for _, op := range c.attempts[k] {
		if op.Value == table {
			return op
		}
	}
	return nil
}
