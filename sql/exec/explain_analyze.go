package exec

import (
	"time"

	"github.com/ordodb/ordo/sql/sem"
)

// analysis collects the figures of EXPLAIN ANALYZE while a plan runs.
// Ctx.analyze is nil otherwise, and every hook is then one nil check per
// operator run (never per row), so the normal path does not slow down.
//
// Operators materialize, so an operator's first row is ready when its
// last is: the startup time EXPLAIN shows equals the total time. Times
// include the operator's inputs, as PostgreSQL's do.
type analysis struct {
	clock func() time.Time
	stats map[any]*opStats
	// tag is the command tag of the statement analyzed.
	tag string
}

// opStats are one operator's figures over all its runs (loops).
type opStats struct {
	loops, rows int64
	dur         time.Duration
	// removed counts rows a scan read and its filter rejected; kvRows the
	// rows read from the KV layer.
	removed, kvRows int64
}

func newAnalysis(clock func() time.Time) *analysis {
	return &analysis{clock: clock, stats: map[any]*opStats{}}
}

func (a *analysis) get(key any) *opStats {
	st := a.stats[key]
	if st == nil {
		st = &opStats{}
		a.stats[key] = st
	}
	return st
}

// lookup returns the figures of key, nil if it never ran.
func (a *analysis) lookup(key any) *opStats {
	if a == nil {
		return nil
	}
	return a.stats[key]
}

// runNode runs an operator, recording its figures when analyzing.
func runNode(c *Ctx, n node) ([]sem.Row, error) {
	if c.analyze == nil {
		return n.rows(c)
	}
	start := c.analyze.clock()
	rows, err := n.rows(c)
	st := c.analyze.get(n)
	st.loops++
	st.rows += int64(len(rows))
	st.dur += c.analyze.clock().Sub(start)
	return rows, err
}

// scanned records what a scan read and kept.
func (a *analysis) scanned(s *scanNode, read, kept int) {
	if a == nil {
		return
	}
	st := a.get(scanReadKey{s})
	st.kvRows += int64(read)
	st.removed += int64(read - kept)
}

type scanReadKey struct{ s *scanNode }

// stage is a step of a SELECT's execution after its FROM operator.
type stage uint8

const (
	stageWhere    stage = iota // WHERE over a join or subquery
	stageGroup                 // grouping, aggregates and HAVING
	stageDistinct              // DISTINCT
	stageSort                  // ORDER BY
	stageLimit                 // LIMIT and OFFSET
)

type stageKey struct {
	sp *selectPlan
	st stage
}

// selectRun times one execution of a SELECT's stages.
type selectRun struct {
	a     *analysis
	sp    *selectPlan
	start time.Time
}

func (a *analysis) startSelect(sp *selectPlan) *selectRun {
	if a == nil {
		return nil
	}
	return &selectRun{a: a, sp: sp, start: a.clock()}
}

// mark records that stage st ended with n rows.
func (r *selectRun) mark(st stage, n int) {
	if r == nil {
		return
	}
	s := r.a.get(stageKey{r.sp, st})
	s.loops++
	s.rows += int64(n)
	s.dur += r.a.clock().Sub(r.start)
}
