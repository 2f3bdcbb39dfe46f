package sets

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
	Lost        Class = "lost"
	Unexpected  Class = "unexpected"
	Duplicate   Class = "duplicate"
	NoFinalRead Class = "no-final-read"
)

// Classes lists every class, in the order of a summary.
var Classes = []Class{Lost, Unexpected, Duplicate, NoFinalRead}

// maxExamples caps the anomalies kept per class.
const maxExamples = 8

// Anomaly is one bad element.
type Anomaly struct {
	Class       Class
	Op          int // op ID of the read, or of the add for Lost
	Element     int64
	Explanation string
}

// Result is the checker's verdict.
type Result struct {
	Adds, OkAdds, InfoAdds int
	// Final is the number of elements in the final read.
	Final int
	// Recovered counts adds of unknown outcome (info, or concurrent with
	// the final read) present in the final read; NotRecovered those absent.
	Recovered, NotRecovered int
	Counts                  map[Class]int
	Anomalies               []Anomaly
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
	return fmt.Sprintf("sets: %d adds (%d ok, %d info), final read of %d: %d lost, %d unexpected, %d duplicate, %d recovered, %d not recovered: valid=%t",
		r.Adds, r.OkAdds, r.InfoAdds, r.Final, r.Counts[Lost], r.Counts[Unexpected], r.Counts[Duplicate],
		r.Recovered, r.NotRecovered, r.Valid())
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

func (r *Result) report(class Class, op int, e int64, format string, args ...any) {
	r.Counts[class]++
	if r.Counts[class] <= maxExamples {
		r.Anomalies = append(r.Anomalies, Anomaly{Class: class, Op: op, Element: e, Explanation: fmt.Sprintf(format, args...)})
	}
}

// Check checks a sets history. Nemesis ops are skipped; other ops must be
// adds or reads. The error reports a malformed history, never an anomaly.
func Check(ops []history.Op) (*Result, error) {
	res := &Result{Counts: map[Class]int{}}
	adds := map[int64]*history.Op{}
	var reads []*history.Op
	for i := range ops {
		op := &ops[i]
		if op.Process == history.NemesisProcess {
			continue
		}
		if op.Status < history.Ok || op.Status > history.Info {
			return nil, fmt.Errorf("sets: op %d: invalid status %d", op.ID, op.Status)
		}
		switch op.F {
		case history.FAdd:
			if prev, dup := adds[op.Element]; dup {
				return nil, fmt.Errorf("sets: ops %d and %d both add %d", prev.ID, op.ID, op.Element)
			}
			adds[op.Element] = op
			res.count(op)
		case history.FRead:
			if op.Status == history.Ok {
				reads = append(reads, op)
			}
		default:
			return nil, fmt.Errorf("sets: op %d: unknown f %q", op.ID, op.F)
		}
	}
	for _, r := range reads {
		res.checkRead(r, adds)
	}
	res.checkFinal(reads, adds)
	return res, nil
}

func (r *Result) count(op *history.Op) {
	r.Adds++
	switch op.Status {
	case history.Ok:
		r.OkAdds++
	case history.Info:
		r.InfoAdds++
	}
}

// checkRead reports elements of read that no add explains, and duplicates.
func (r *Result) checkRead(read *history.Op, adds map[int64]*history.Op) {
	seen := map[int64]bool{}
	for _, e := range read.Elements {
		if seen[e] {
			r.report(Duplicate, read.ID, e, "element %d appears more than once", e)
		}
		seen[e] = true
		add, ok := adds[e]
		switch {
		case !ok:
			r.report(Unexpected, read.ID, e, "element %d was never added", e)
		case add.Status == history.Fail:
			r.report(Unexpected, read.ID, e, "element %d is present though its add (op %d) failed definitely: %s",
				e, add.ID, add.Error)
		case add.InvokeNs > read.CompleteNs:
			r.report(Unexpected, read.ID, e, "element %d is present though its add (op %d) began after the read ended", e, add.ID)
		}
	}
}

// checkFinal checks the last-invoked ok read for lost adds and counts the
// recovered ones.
func (r *Result) checkFinal(reads []*history.Op, adds map[int64]*history.Op) {
	var final *history.Op
	for _, op := range reads {
		if final == nil || op.InvokeNs >= final.InvokeNs {
			final = op
		}
	}
	if final == nil {
		r.report(NoFinalRead, -1, 0, "no ok read: nothing was checked")
		return
	}
	r.Final = len(final.Elements)
	present := map[int64]bool{}
	for _, e := range final.Elements {
		present[e] = true
	}
	elems := make([]int64, 0, len(adds))
	for e := range adds {
		elems = append(elems, e)
	}
	slices.Sort(elems)
	for _, e := range elems {
		add := adds[e]
		switch {
		case add.Status == history.Fail || add.InvokeNs > final.CompleteNs:
		case add.Status == history.Ok && add.CompleteNs < final.InvokeNs:
			if !present[e] {
				r.report(Lost, add.ID, e, "element %d was acknowledged (op %d) but is missing from the final read (op %d)",
					e, add.ID, final.ID)
			}
		case present[e]:
			r.Recovered++
		default:
			r.NotRecovered++
		}
	}
}
