package registration

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
	DoubleRegistration Class = "double-registration"
	DuplicateRow       Class = "duplicate-row"
	Lost               Class = "lost"
	Unexpected         Class = "unexpected"
	NoFinalRead        Class = "no-final-read"
)

// Classes lists every class, in the order of a summary.
var Classes = []Class{DoubleRegistration, DuplicateRow, Lost, Unexpected, NoFinalRead}

const maxExamples = 8

// Anomaly is one bad name.
type Anomaly struct {
	Class       Class
	Name        string
	Explanation string
}

// Result is the checker's verdict.
type Result struct {
	Names    int // distinct names attempted
	Attempts int
	// OkInserts are acknowledged registrations, Failed definite failures
	// (mostly 23505), Info unknown outcomes, Recovered info inserts whose
	// row is in the final read.
	OkInserts, Failed, Info, Recovered int
	// Rows is the size of the final read.
	Rows      int
	Counts    map[Class]int
	Anomalies []Anomaly
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
	return fmt.Sprintf("registration: %d names, %d attempts (%d ok, %d fail, %d info, %d recovered), %d rows: %d double registrations, %d duplicate rows, %d lost, %d unexpected: valid=%t",
		r.Names, r.Attempts, r.OkInserts, r.Failed, r.Info, r.Recovered, r.Rows,
		r.Counts[DoubleRegistration], r.Counts[DuplicateRow], r.Counts[Lost], r.Counts[Unexpected], r.Valid())
}

// String is the summary and every kept anomaly.
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "\n\n%s: name %q: %s", a.Class, a.Name, a.Explanation)
	}
	return b.String()
}

func (r *Result) report(class Class, name string, format string, args ...any) {
	r.Counts[class]++
	if r.Counts[class] <= maxExamples {
		r.Anomalies = append(r.Anomalies, Anomaly{Class: class, Name: name, Explanation: fmt.Sprintf(format, args...)})
	}
}

type checker struct {
	res    *Result
	byID   map[int64]*history.Op
	byName map[string][]*history.Op
	final  *history.Op
}

// Check checks a registration history. Nemesis ops are skipped; other ops
// must be inserts or reads. The error reports a malformed history, never an
// anomaly.
func Check(ops []history.Op) (*Result, error) {
	c := &checker{res: &Result{Counts: map[Class]int{}}, byID: map[int64]*history.Op{}, byName: map[string][]*history.Op{}}
	for i := range ops {
		if err := c.add(&ops[i]); err != nil {
			return nil, fmt.Errorf("registration: op %d: %w", ops[i].ID, err)
		}
	}
	c.res.Names = len(c.byName)
	c.checkAcks()
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
	case history.FInsert:
		if prev, dup := c.byID[op.Element]; dup {
			return fmt.Errorf("row id %d used by ops %d and %d", op.Element, prev.ID, op.ID)
		}
		c.byID[op.Element] = op
		c.byName[op.Key] = append(c.byName[op.Key], op)
		c.res.Attempts++
		switch op.Status {
		case history.Ok:
			c.res.OkInserts++
		case history.Fail:
			c.res.Failed++
		case history.Info:
			c.res.Info++
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

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkAcks flags names acknowledged to more than one insert.
func (c *checker) checkAcks() {
	for _, name := range sortedNames(c.byName) {
		var acks []string
		for _, op := range c.byName[name] {
			if op.Status == history.Ok {
				acks = append(acks, fmt.Sprintf("op %d (process %d, row %d, %d–%d ns)", op.ID, op.Process, op.Element, op.InvokeNs, op.CompleteNs))
			}
		}
		if len(acks) > 1 {
			c.res.report(DoubleRegistration, name, "acknowledged %d times: %s", len(acks), strings.Join(acks, ", "))
		}
	}
}

// checkFinal compares the final read's rows with the attempts.
func (c *checker) checkFinal() {
	if c.final == nil {
		c.res.report(NoFinalRead, "", "no ok read: the final state is unchecked")
		return
	}
	c.res.Rows = len(c.final.Rows)
	rows := map[string][]int64{}
	for _, r := range c.final.Rows {
		rows[r.Key] = append(rows[r.Key], r.Element)
	}
	for _, name := range sortedNames(rows) {
		ids := rows[name]
		if len(ids) > 1 {
			c.res.report(DuplicateRow, name, "the final read (op %d) has %d rows for it, ids %v", c.final.ID, len(ids), ids)
		}
		for _, id := range ids {
			c.checkRow(name, id)
		}
	}
	for _, name := range sortedNames(c.byName) {
		for _, op := range c.byName[name] {
			if op.Status == history.Ok && op.CompleteNs < c.final.InvokeNs && !slices.Contains(rows[name], op.Element) {
				c.res.report(Lost, name, "registered by op %d (row %d) but the final read (op %d) has rows %v for it",
					op.ID, op.Element, c.final.ID, rows[name])
			}
		}
	}
}

func (c *checker) checkRow(name string, id int64) {
	op := c.byID[id]
	switch {
	case op == nil:
		c.res.report(Unexpected, name, "row %d was never inserted", id)
	case op.Key != name:
		c.res.report(Unexpected, name, "row %d was inserted (op %d) under the name %q", id, op.ID, op.Key)
	case op.Status == history.Fail:
		c.res.report(Unexpected, name, "row %d is present though its insert (op %d) failed definitely: %s", id, op.ID, op.Error)
	case op.Status == history.Info:
		c.res.Recovered++
	}
}
