package exec

import (
	"fmt"

	"github.com/ordodb/ordo/sql/kvapi"
)

func (d *describer) scanNode(s *scanNode) (*xnode, []colName) {
	cols := tableCols(s.desc, s.alias)
	rel := relTitle(s.desc, s.alias)
	pk := quoteIdent(s.desc.Table.Primary.Name)
	a, _, _ := s.access()
	n := &xnode{key: s}
	switch a {
	case accessPoint:
		n.title = "Point Lookup on " + rel + " using " + pk
	case accessSecIdx:
		n.title = "Index Scan using " + quoteIdent(s.idx.Name) + " on " + rel
	case accessRange:
		n.title = "Range Scan on " + rel + " using " + pk
	default:
		n.title = "Full Scan on " + rel
	}
	index, rest := s.spanConds()
	f, subs := d.fmtFor(cols)
	if len(index) > 0 {
		n.props = append(n.props, "Index Cond: "+f.expr(andAll(index)))
	}
	if len(rest) > 0 {
		n.props = append(n.props, "Filter: "+f.expr(andAll(rest)))
		n.props = append(n.props, "Filter Pushed Down: "+pushedDown(f, s))
	}
	if s.limit != nil {
		lim := f.expr(uncast(s.limit))
		if s.offset != nil {
			lim += " + " + f.expr(uncast(s.offset))
		}
		n.props = append(n.props, "Limit Pushed Down: "+lim+" rows (the leaseholders stop reading there)")
	}
	if d.verbose || s.lock == kvapi.LockExclusive {
		n.props = append(n.props, "Lock Strength: "+s.lock.String())
	}
	d.attachSubs(n, f, *subs)
	hasFilter := len(rest) > 0
	n.extra = func(a *analysis) []string {
		st := a.lookup(scanReadKey{s})
		if st == nil {
			return nil
		}
		loops := max(a.lookup(s).loopsOrOne(), 1)
		out := []string{fmt.Sprintf("KV Rows Read: %d", perLoop(st.kvRows, loops))}
		if hasFilter {
			out = append(out, fmt.Sprintf("Rows Removed by Filter: %d", perLoop(st.removed, loops)))
		}
		return out
	}
	return n, cols
}

func (st *opStats) loopsOrOne() int64 {
	if st == nil || st.loops == 0 {
		return 1
	}
	return st.loops
}

// perLoop is PostgreSQL's rounding of a total over loops.
func perLoop(total, loops int64) int64 {
	return (total + loops/2) / loops
}

// pushedDown says which of a scan's Filter conjuncts its leaseholders
// evaluate (pushSplit).
func pushedDown(f *exprFmt, s *scanNode) string {
	pushed, gateway := s.pushSplit()
	switch {
	case len(pushed) == 0:
		return "no (evaluated on the gateway)"
	case len(gateway) == 0:
		return "yes (evaluated by the leaseholders)"
	}
	return f.expr(andAll(pushed)) + " (the rest on the gateway)"
}
