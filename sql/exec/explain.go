package exec

import (
	"fmt"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// EXPLAIN shows the plan a statement runs, one text row per line in
// PostgreSQL's indented style, described from the plan tree itself
// (describer). EXPLAIN ANALYZE runs the statement in the session's
// transaction (writes included, as PostgreSQL does) with Ctx.analyze set,
// and adds each operator's actual rows, loops and time.
//
// ordo has no cost model: COSTS is accepted and shows nothing.

// explainOpts are EXPLAIN's options.
type explainOpts struct {
	analyze, verbose, timing, summary bool
}

// ExplainAnalyzes reports whether an EXPLAIN runs its statement (for the
// read-only check, which then applies to the statement).
func ExplainAnalyzes(s *pg.ExplainStmt) bool {
	o, err := explainOptions(s.Options)
	return err == nil && o.analyze
}

// explainOptions reads the option list as PostgreSQL's ExplainQuery does.
func explainOptions(list []*pg.Node) (explainOpts, error) {
	o := explainOpts{timing: true}
	var timingSet, summarySet, wal bool
	for _, n := range list {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		var err error
		switch d.Defname {
		case "analyze":
			o.analyze, err = defBool(d)
		case "verbose":
			o.verbose, err = defBool(d)
		case "costs", "buffers", "settings", "generic_plan", "memory":
			_, err = defBool(d)
		case "wal":
			wal, err = defBool(d)
		case "timing":
			timingSet = true
			o.timing, err = defBool(d)
		case "summary":
			summarySet = true
			o.summary, err = defBool(d)
		case "format":
			err = explainFormat(d)
		default:
			return o, posErr(pgcode.New(pgcode.SyntaxError, "unrecognized EXPLAIN option %q", d.Defname), d.Location)
		}
		if err != nil {
			return o, err
		}
	}
	if wal && !o.analyze {
		return o, pgcode.New(pgcode.InvalidParameterValue, "EXPLAIN option WAL requires ANALYZE")
	}
	if timingSet && o.timing && !o.analyze {
		return o, pgcode.New(pgcode.InvalidParameterValue, "EXPLAIN option TIMING requires ANALYZE")
	}
	if !summarySet {
		o.summary = o.analyze
	}
	return o, nil
}

// defBool reads a Boolean option as PostgreSQL's defGetBoolean.
func defBool(d *pg.DefElem) (bool, error) {
	if d.Arg == nil {
		return true, nil
	}
	if i := d.Arg.GetInteger(); i != nil && (i.Ival == 0 || i.Ival == 1) {
		return i.Ival == 1, nil
	}
	if s := d.Arg.GetString_(); s != nil {
		switch strings.ToLower(s.Sval) {
		case "true", "on":
			return true, nil
		case "false", "off":
			return false, nil
		}
	}
	return false, posErr(pgcode.New(pgcode.SyntaxError, "%s requires a Boolean value", d.Defname), d.Location)
}

func explainFormat(d *pg.DefElem) error {
	v := ""
	if s := d.Arg.GetString_(); s != nil {
		v = strings.ToLower(s.Sval)
	}
	switch v {
	case "text":
		return nil
	case "json", "xml", "yaml":
		return posErr(sqlerr.Unsupported("EXPLAIN (FORMAT %s) is not supported; use FORMAT TEXT", strings.ToUpper(v)), d.Location)
	}
	return posErr(pgcode.New(pgcode.InvalidParameterValue, "unrecognized value for EXPLAIN option \"format\": %q", v), d.Location)
}

// explainPlan is a planned EXPLAIN: the statement's own plan and how
// long planning it took.
type explainPlan struct {
	inner    Plan
	opts     explainOpts
	planning time.Duration
	clock    func() time.Time
}

func (p *Planner) planExplain(s *pg.ExplainStmt) (Plan, error) {
	opts, err := explainOptions(s.Options)
	if err != nil {
		return nil, err
	}
	switch s.Query.Node.(type) {
	case *pg.Node_SelectStmt, *pg.Node_InsertStmt, *pg.Node_UpdateStmt, *pg.Node_DeleteStmt:
	case *pg.Node_ExecuteStmt:
		return nil, sqlerr.Unsupported("EXPLAIN EXECUTE is not supported yet")
	default:
		return nil, sqlerr.Unsupported("EXPLAIN of %s is not supported", stmtName(s.Query))
	}
	clock := p.Clock
	if clock == nil {
		clock = time.Now
	}
	start := clock()
	inner, err := p.Prepare(s.Query)
	if err != nil {
		return nil, err
	}
	return &explainPlan{inner: inner, opts: opts, planning: clock().Sub(start), clock: clock}, nil
}

func stmtName(n *pg.Node) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
}

func (e *explainPlan) Columns() []ResultCol { return []ResultCol{{Name: "QUERY PLAN", T: types.Text}} }
func (e *explainPlan) Deps() []Dep          { return e.inner.Deps() }

// Exec describes the plan, running it first under ANALYZE.
func (e *explainPlan) Exec(c *Ctx) (*Result, error) {
	var a *analysis
	var took time.Duration
	if e.opts.analyze {
		a = newAnalysis(e.clock)
		c.analyze = a
		start := e.clock()
		res, err := e.inner.Exec(c)
		took = e.clock().Sub(start)
		c.analyze = nil
		if err != nil {
			return nil, err
		}
		a.tag = res.Tag
		top := a.get(topKey{})
		top.loops, top.rows, top.dur = 1, int64(len(res.Rows)), took
	}
	root := newDescriber(e.opts.verbose).describe(e.inner)
	var lines []string
	e.render(&lines, a, root, 0, false)
	if e.opts.summary {
		lines = append(lines, fmt.Sprintf("Planning Time: %s ms", millis(e.planning)))
		if a != nil {
			lines = append(lines, fmt.Sprintf("Execution Time: %s ms", millis(took)))
		}
	}
	rows := make([]sem.Row, len(lines))
	for i, l := range lines {
		rows[i] = sem.Row{l}
	}
	return &Result{Rows: rows, Tag: "EXPLAIN"}, nil
}

// render appends n's lines: its title (after "->  " for an input) and
// figures, its properties, then its children, indented as PostgreSQL's
// text format.
func (e *explainPlan) render(out *[]string, a *analysis, n *xnode, indent int, arrow bool) {
	head, propIndent := strings.Repeat(" ", indent), indent+2
	if arrow {
		head += "->  "
		propIndent = indent + 6
	}
	*out = append(*out, head+n.title+e.figures(a, n))
	pad := strings.Repeat(" ", propIndent)
	for _, p := range n.props {
		*out = append(*out, pad+p)
	}
	if a != nil && n.extra != nil {
		for _, p := range n.extra(a) {
			*out = append(*out, pad+p)
		}
	}
	for _, k := range n.kids {
		if k.label != "" {
			*out = append(*out, pad+k.label)
			e.render(out, a, k, propIndent+2, true)
			continue
		}
		e.render(out, a, k, propIndent, true)
	}
}

// figures are an operator's actual rows (per loop), loops and time (per
// loop, in ms) under ANALYZE.
func (e *explainPlan) figures(a *analysis, n *xnode) string {
	if a == nil || n.key == nil {
		return ""
	}
	st := a.lookup(n.key)
	if st == nil || st.loops == 0 {
		return "  (never executed)"
	}
	rows := perLoop(st.rows, st.loops)
	if !e.opts.timing {
		return fmt.Sprintf("  (actual rows=%d loops=%d)", rows, st.loops)
	}
	t := millis(st.dur / time.Duration(st.loops))
	return fmt.Sprintf("  (actual time=%s..%s rows=%d loops=%d)", t, t, rows, st.loops)
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}
