package counter

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Class names an anomaly class.
type Class string

// Anomaly classes.
const (
	Over                 Class = "over"
	Under                Class = "under"
	NonMonotonic         Class = "nonmonotonic-process"
	NonMonotonicRealtime Class = "nonmonotonic-realtime"
	Duplicate            Class = "duplicate-increment"
)

// Classes lists every class, in the order of a summary.
var Classes = []Class{Over, Under, NonMonotonic, NonMonotonicRealtime, Duplicate}

const maxExamples = 8

// Anomaly is one bad observation.
type Anomaly struct {
	Class       Class
	Op          int
	Explanation string
}

// Result is the checker's verdict.
type Result struct {
	Reads, OkReads           int
	Increments, OkIncrements int
	// Final is the value of the ok read invoked last (-1 if none).
	Final     int64
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
	var b strings.Builder
	fmt.Fprintf(&b, "counter: %d/%d ok reads, %d/%d ok increments, final %d:", r.OkReads, r.Reads, r.OkIncrements, r.Increments, r.Final)
	for _, c := range Classes {
		fmt.Fprintf(&b, " %d %s,", r.Counts[c], c)
	}
	fmt.Fprintf(&b, " valid=%t", r.Valid())
	return b.String()
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
	res *Result
	obs []*history.Op // ok reads and increments
	// invokes are the invocation times of increments that may apply;
	// acks the completion times of ok increments. Both sorted.
	invokes, acks []int64
}

// Check checks a counter history. Nemesis ops are skipped; other ops must
// be reads or increments (F add). The error reports a malformed history,
// never an anomaly.
func Check(ops []history.Op) (*Result, error) {
	c := &checker{res: &Result{Counts: map[Class]int{}, Final: -1}}
	for i := range ops {
		if err := c.add(&ops[i]); err != nil {
			return nil, fmt.Errorf("counter: op %d: %w", ops[i].ID, err)
		}
	}
	slices.Sort(c.invokes)
	slices.Sort(c.acks)
	for _, op := range c.obs {
		c.checkBounds(op)
	}
	c.checkProcesses()
	c.checkRealtime()
	c.checkDuplicates()
	c.setFinal()
	return c.res, nil
}

func (c *checker) add(op *history.Op) error {
	if op.Process == history.NemesisProcess {
		return nil
	}
	if op.Status < history.Ok || op.Status > history.Info {
		return fmt.Errorf("invalid status %d", op.Status)
	}
	if op.Status == history.Ok && op.CompleteNs < op.InvokeNs {
		return fmt.Errorf("completes at %d before invoke at %d", op.CompleteNs, op.InvokeNs)
	}
	switch op.F {
	case history.FRead:
		c.res.Reads++
		if op.Status == history.Ok {
			c.res.OkReads++
			c.obs = append(c.obs, op)
		}
	case history.FAdd:
		c.res.Increments++
		if op.Status != history.Fail {
			c.invokes = append(c.invokes, op.InvokeNs)
		}
		if op.Status == history.Ok {
			c.res.OkIncrements++
			c.obs = append(c.obs, op)
			c.acks = append(c.acks, op.CompleteNs)
		}
	default:
		return fmt.Errorf("unknown f %q", op.F)
	}
	return nil
}

// countBefore returns how many of sorted are < t.
func countBefore(sorted []int64, t int64) int64 {
	return int64(sort.Search(len(sorted), func(i int) bool { return sorted[i] >= t }))
}

func (c *checker) checkBounds(op *history.Op) {
	hi := countBefore(c.invokes, op.CompleteNs)
	lo := countBefore(c.acks, op.InvokeNs)
	if op.F == history.FAdd {
		lo++
	}
	if op.Count > hi {
		c.res.report(Over, op.ID, "%s saw %d, but only %d increments had been invoked (and not failed) when it completed",
			op.F, op.Count, hi)
	}
	if op.Count < lo {
		c.res.report(Under, op.ID, "%s saw %d, but %d increments had been acknowledged before it began",
			op.F, op.Count, lo-btoi(op.F == history.FAdd))
	}
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// setFinal records the value of the ok read invoked last.
func (c *checker) setFinal() {
	var final *history.Op
	for _, op := range c.obs {
		if op.F == history.FRead && (final == nil || op.InvokeNs >= final.InvokeNs) {
			final = op
		}
	}
	if final != nil {
		c.res.Final = final.Count
	}
}

// follows reports whether y's value may follow x's: not smaller, and larger
// when y is an increment.
func follows(x, y *history.Op) bool {
	if y.F == history.FAdd {
		return y.Count > x.Count
	}
	return y.Count >= x.Count
}

func (c *checker) checkProcesses() {
	last := map[int]*history.Op{}
	byInvoke := slices.Clone(c.obs)
	slices.SortFunc(byInvoke, func(a, b *history.Op) int { return cmp.Compare(a.InvokeNs, b.InvokeNs) })
	for _, op := range byInvoke {
		if prev := last[op.Process]; prev != nil && !follows(prev, op) {
			c.res.report(NonMonotonic, op.ID, "process %d: %s saw %d after its op %d (%s) saw %d",
				op.Process, op.F, op.Count, prev.ID, prev.F, prev.Count)
		}
		last[op.Process] = op
	}
}

// checkRealtime compares each op with the largest value seen by any op that
// completed before it was invoked.
func (c *checker) checkRealtime() {
	byComplete := slices.Clone(c.obs)
	slices.SortFunc(byComplete, func(a, b *history.Op) int { return cmp.Compare(a.CompleteNs, b.CompleteNs) })
	best := make([]*history.Op, len(byComplete)) // best[i]: max value among byComplete[:i+1]
	for i, op := range byComplete {
		best[i] = op
		if i > 0 && best[i-1].Count >= op.Count {
			best[i] = best[i-1]
		}
	}
	for _, op := range c.obs {
		n := sort.Search(len(byComplete), func(i int) bool { return byComplete[i].CompleteNs >= op.InvokeNs })
		if n == 0 {
			continue
		}
		if prev := best[n-1]; !follows(prev, op) {
			c.res.report(NonMonotonicRealtime, op.ID, "%s (process %d, invoked at %d ns) saw %d, but op %d (%s, process %d) saw %d and completed at %d ns, before",
				op.F, op.Process, op.InvokeNs, op.Count, prev.ID, prev.F, prev.Process, prev.Count, prev.CompleteNs)
		}
	}
}

func (c *checker) checkDuplicates() {
	by := map[int64]*history.Op{}
	for _, op := range c.obs {
		if op.F != history.FAdd {
			continue
		}
		if prev, dup := by[op.Count]; dup {
			c.res.report(Duplicate, op.ID, "increments op %d and op %d both produced %d", prev.ID, op.ID, op.Count)
		}
		by[op.Count] = op
	}
}
