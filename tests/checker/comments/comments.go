package comments

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Class names an anomaly class.
type Class string

// Anomaly classes.
const (
	Missing    Class = "missing"
	Stale      Class = "stale"
	Unexpected Class = "unexpected"
	Duplicate  Class = "duplicate"
)

// Classes lists every class, in the order of a summary.
var Classes = []Class{Missing, Stale, Unexpected, Duplicate}

const maxExamples = 8

// Anomaly is one bad read.
type Anomaly struct {
	Class       Class
	Op          int
	Explanation string
}

// Result is the checker's verdict.
type Result struct {
	Keys             int // keys written
	Writes, OkWrites int
	Reads, OkReads   int
	Counts           map[Class]int
	Anomalies        []Anomaly
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
	return fmt.Sprintf("comments: %d keys, %d/%d ok writes, %d/%d ok reads: %d missing, %d stale, %d unexpected, %d duplicate: valid=%t",
		r.Keys, r.OkWrites, r.Writes, r.OkReads, r.Reads, r.Counts[Missing], r.Counts[Stale], r.Counts[Unexpected], r.Counts[Duplicate], r.Valid())
}

// String is the summary and every kept anomaly.
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "\n\n%s: op %d: %s", a.Class, a.Op, a.Explanation)
	}
	return b.String()
}

func (r *Result) report(class Class, op int, format string, args ...any) {
	r.Counts[class]++
	if r.Counts[class] <= maxExamples {
		r.Anomalies = append(r.Anomalies, Anomaly{Class: class, Op: op, Explanation: fmt.Sprintf(format, args...)})
	}
}

type checker struct {
	res    *Result
	writes map[int64]*history.Op
	acked  map[string][]*history.Op // ok writes per key, by completion time
	reads  []*history.Op
}

// Check checks a comments history. Nemesis ops are skipped; other ops must
// be inserts (writes) or reads. The error reports a malformed history,
// never an anomaly.
func Check(ops []history.Op) (*Result, error) {
	c := &checker{res: &Result{Counts: map[Class]int{}}, writes: map[int64]*history.Op{},
		acked: map[string][]*history.Op{}}
	for i := range ops {
		if err := c.add(&ops[i]); err != nil {
			return nil, fmt.Errorf("comments: op %d: %w", ops[i].ID, err)
		}
	}
	keys := map[string]bool{}
	for _, w := range c.writes {
		keys[w.Key] = true
	}
	c.res.Keys = len(keys)
	for _, ws := range c.acked {
		slices.SortFunc(ws, func(a, b *history.Op) int { return cmp.Compare(a.CompleteNs, b.CompleteNs) })
	}
	for _, r := range c.reads {
		c.checkRead(r)
	}
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
		if prev, dup := c.writes[op.Element]; dup {
			return fmt.Errorf("ops %d and %d both write %d", prev.ID, op.ID, op.Element)
		}
		c.writes[op.Element] = op
		c.res.Writes++
		if op.Status == history.Ok {
			c.res.OkWrites++
			c.acked[op.Key] = append(c.acked[op.Key], op)
		}
	case history.FRead:
		c.res.Reads++
		if op.Status == history.Ok {
			c.res.OkReads++
			c.reads = append(c.reads, op)
		}
	default:
		return fmt.Errorf("unknown f %q", op.F)
	}
	return nil
}

// checkRead checks one ok read: its elements, then every acknowledged write
// of its key it had to see.
func (c *checker) checkRead(r *history.Op) {
	seen := map[int64]bool{}
	var latest *history.Op // the seen write invoked last
	for _, e := range r.Elements {
		if seen[e] {
			c.res.report(Duplicate, r.ID, "id %d appears more than once", e)
		}
		seen[e] = true
		w := c.writes[e]
		switch {
		case w == nil:
			c.res.report(Unexpected, r.ID, "id %d was never written", e)
		case w.Key != r.Key:
			c.res.report(Unexpected, r.ID, "id %d was written under key %q (op %d), not the key %q read", e, w.Key, w.ID, r.Key)
		case w.Status == history.Fail:
			c.res.report(Unexpected, r.ID, "id %d is present though its write (op %d) failed definitely", e, w.ID)
		case w.InvokeNs > r.CompleteNs:
			c.res.report(Unexpected, r.ID, "id %d is present though its write (op %d) began after the read ended", e, w.ID)
		case latest == nil || w.InvokeNs > latest.InvokeNs:
			latest = w
		}
	}
	for _, w := range c.acked[r.Key] {
		if seen[w.Element] {
			continue
		}
		switch {
		case w.CompleteNs < r.InvokeNs:
			c.res.report(Stale, r.ID, "the read (process %d, invoked at %d ns) missed id %d, acknowledged at %d ns (op %d)",
				r.Process, r.InvokeNs, w.Element, w.CompleteNs, w.ID)
		case latest != nil && w.CompleteNs < latest.InvokeNs:
			c.res.report(Missing, r.ID, "the read saw id %d (op %d, invoked at %d ns) but not id %d, acknowledged before that at %d ns (op %d)",
				latest.Element, latest.ID, latest.InvokeNs, w.Element, w.CompleteNs, w.ID)
		default:
			return // acked is sorted: no later write had to be seen
		}
	}
}
