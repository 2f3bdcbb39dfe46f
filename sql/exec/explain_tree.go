package exec

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/sem"
)

// xnode is one operator as EXPLAIN shows it.
type xnode struct {
	// label introduces a child that is not an input (SubPlan 1, CTE x).
	label string
	title string
	props []string
	kids  []*xnode
	// key finds the operator's figures in the analysis; nil when the
	// operator is not instrumented (its line then carries none).
	key any
	// extra are lines shown only with ANALYZE.
	extra func(a *analysis) []string
}

// describer turns a plan into xnodes. Everything it shows is read from
// the plan the statement runs, never planned again.
type describer struct {
	verbose bool
	subIDs  map[*sem.Subquery]int
	subs    []*sem.Subquery
	ctes    []*cte
	cteSeen map[*cte]bool
	// outer are the columns of the queries enclosing the subquery being
	// described, innermost last (for sem.OuterRef).
	outer [][]colName
}

func newDescriber(verbose bool) *describer {
	return &describer{verbose: verbose, subIDs: map[*sem.Subquery]int{}, cteSeen: map[*cte]bool{}}
}

// describe returns the tree of a plan, its CTEs listed under the root.
func (d *describer) describe(p Plan) *xnode {
	root := d.plan(p)
	for i := 0; i < len(d.ctes); i++ {
		ct := d.ctes[i]
		n := d.cteNode(ct)
		n.label = "CTE " + quoteIdent(ct.name)
		root.kids = append(root.kids, n)
	}
	return root
}

func (d *describer) plan(p Plan) *xnode {
	switch x := p.(type) {
	case *selectPlan:
		n, _ := d.selectNode(x)
		return n
	case *insertPlan:
		return d.insertNode(x)
	case *mutatePlan:
		return d.mutateNode(x)
	}
	return &xnode{title: "Result"}
}

func (d *describer) cteNode(ct *cte) *xnode {
	base, _ := d.selectNode(ct.plan)
	if ct.rec == nil {
		return base
	}
	rec, _ := d.selectNode(ct.rec)
	title := "Recursive Union"
	if ct.unionAll {
		title += " All"
	}
	return &xnode{title: title, kids: []*xnode{base, rec}}
}

// subplanRef names a subquery expression: a SubPlan runs for every row it
// is evaluated on, an InitPlan once per execution.
func (d *describer) subplanRef(x *sem.Subquery) string {
	id, ok := d.subIDs[x]
	if !ok {
		d.subs = append(d.subs, x)
		id = len(d.subs)
		d.subIDs[x] = id
	}
	if x.Correlated {
		return fmt.Sprintf("SubPlan %d", id)
	}
	return fmt.Sprintf("InitPlan %d", id)
}

// attachSubs lists under n the subqueries f met, each described with f's
// columns as its outer scope.
func (d *describer) attachSubs(n *xnode, f *exprFmt, found []*sem.Subquery) {
	seen := map[*sem.Subquery]bool{}
	for _, s := range found {
		sp, ok := s.Plan.(*subPlan)
		if !ok || seen[s] {
			continue
		}
		seen[s] = true
		d.outer = append(d.outer, f.cols)
		k, _ := d.selectNode(sp.plan)
		d.outer = d.outer[:len(d.outer)-1]
		k.label = d.subplanRef(s)
		n.kids = append(n.kids, k)
	}
}

func (d *describer) outerCol(x *sem.OuterRef) string {
	if x.Depth < 1 || x.Depth > len(d.outer) {
		return x.String()
	}
	cols := d.outer[len(d.outer)-x.Depth]
	if x.Idx >= len(cols) {
		return x.String()
	}
	c := cols[x.Idx]
	if c.table != "" {
		return quoteIdent(c.table) + "." + quoteIdent(c.name)
	}
	return quoteIdent(c.name)
}

// fmtFor returns a formatter over cols that collects subqueries.
func (d *describer) fmtFor(cols []colName) (*exprFmt, *[]*sem.Subquery) {
	f := newExprFmt(d, cols)
	subs := &[]*sem.Subquery{}
	f.subs = subs
	return f, subs
}

// selectNode describes a SELECT: its FROM operator, then the stages
// Exec runs over its rows (WHERE over a join, grouping, DISTINCT, ORDER
// BY, LIMIT), each stage the parent of the one before.
func (d *describer) selectNode(sp *selectPlan) (*xnode, []colName) {
	n, cols := d.node(sp.src)
	if sp.where != nil {
		f, subs := d.fmtFor(cols)
		n = &xnode{title: "Filter", props: []string{"Filter: " + f.expr(sp.where)}, kids: []*xnode{n},
			key: stageKey{sp, stageWhere}}
		d.attachSubs(n, f, *subs)
	}
	f, subs := d.fmtFor(cols)
	if sp.grouping {
		n = d.groupNode(sp, f, n)
	}
	proj := make([]string, len(sp.proj))
	for i, e := range sp.proj {
		proj[i] = f.expr(e)
	}
	if d.verbose {
		n.props = append(n.props, "Output: "+strings.Join(proj[:len(sp.cols)], ", "))
	}
	d.attachSubs(n, f, *subs)
	if sp.distinct {
		n = &xnode{title: "HashAggregate", props: []string{"Group Key: " + strings.Join(proj[:len(sp.cols)], ", ")},
			kids: []*xnode{n}, key: stageKey{sp, stageDistinct}}
	}
	if len(sp.order) > 0 {
		n = &xnode{title: "Sort", props: []string{"Sort Key: " + sortKeys(sp.order, proj)}, kids: []*xnode{n},
			key: stageKey{sp, stageSort}}
	}
	if sp.limit != nil || sp.offset != nil {
		n = d.limitNode(sp, n)
	}
	out := make([]colName, len(sp.cols))
	for i, c := range sp.cols {
		out[i] = colName{name: c.Name}
	}
	return n, out
}

func (d *describer) groupNode(sp *selectPlan, f *exprFmt, input *xnode) *xnode {
	plain := newExprFmt(d, f.cols)
	plain.subs = f.subs
	f.agg = func(i int) string {
		if i < len(sp.groupBy) {
			return plain.expr(sp.groupBy[i])
		}
		if i-len(sp.groupBy) < len(sp.aggs) {
			return aggString(plain, sp.aggs[i-len(sp.groupBy)])
		}
		return fmt.Sprintf("agg%d", i)
	}
	n := &xnode{title: "Aggregate", kids: []*xnode{input}, key: stageKey{sp, stageGroup}}
	if len(sp.groupBy) > 0 {
		n.title = "HashAggregate"
		n.props = append(n.props, "Group Key: "+plain.list(sp.groupBy))
	}
	if sp.having != nil {
		n.props = append(n.props, "Filter: "+f.expr(sp.having))
	}
	return n
}

func aggString(f *exprFmt, a *sem.AggSpec) string {
	arg := "*"
	if a.Arg != nil {
		arg = f.expr(a.Arg)
	}
	if a.Distinct {
		arg = "DISTINCT " + arg
	}
	if a.Sep != nil {
		arg += ", " + f.expr(a.Sep)
	}
	s := a.Name + "(" + arg + ")"
	if a.Filter != nil {
		s += " FILTER (WHERE " + f.expr(a.Filter) + ")"
	}
	return s
}

func sortKeys(keys []sortKey, proj []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		s := proj[k.col]
		if k.desc {
			s += " DESC"
		}
		if k.nullsFirst != k.desc {
			if k.nullsFirst {
				s += " NULLS FIRST"
			} else {
				s += " NULLS LAST"
			}
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}

// uncast drops the cast LIMIT and OFFSET get to bigint.
func uncast(e sem.Expr) sem.Expr {
	if c, ok := e.(*sem.Cast); ok {
		return c.Arg
	}
	return e
}

func (d *describer) limitNode(sp *selectPlan, input *xnode) *xnode {
	f := newExprFmt(d, nil)
	n := &xnode{title: "Limit", kids: []*xnode{input}, key: stageKey{sp, stageLimit}}
	if sp.limit != nil {
		n.props = append(n.props, "Count: "+f.expr(uncast(sp.limit)))
	}
	if sp.offset != nil {
		n.props = append(n.props, "Offset: "+f.expr(uncast(sp.offset)))
	}
	return n
}

// node describes a FROM operator and names the columns of its rows.
func (d *describer) node(n node) (*xnode, []colName) {
	switch x := n.(type) {
	case *scanNode:
		return d.scanNode(x)
	case *joinNode:
		return d.joinNode(x)
	case *usingNode:
		// The merged columns are computed on the join's rows.
		k, cols := d.node(x.src)
		merged := make([]colName, len(x.lcols))
		for i, c := range x.lcols {
			merged[i] = colName{name: cols[c].name}
		}
		return k, append(merged, cols...)
	case *subqueryNode:
		k, cols := d.selectNode(x.plan)
		out := &xnode{title: "Subquery Scan", kids: []*xnode{k}, key: n}
		if x.alias != "" {
			out.title += " on " + quoteIdent(x.alias)
		}
		return out, withTable(cols, x.alias)
	case *viewNode:
		// As PostgreSQL, which inlines a view's query into the plan.
		k, cols := d.selectNode(x.plan)
		if len(cols) > x.width {
			cols = cols[:x.width]
		}
		return k, cols
	case *cteScanNode:
		return d.cteScan(x)
	case *setOpNode:
		return d.setOpNode(x)
	case *valuesNode:
		if len(x.exprs) == 1 && len(x.exprs[0]) == 0 {
			return &xnode{title: "Result", key: n}, nil
		}
		cols := make([]colName, len(x.exprs[0]))
		for i := range cols {
			cols[i] = colName{table: "*VALUES*", name: fmt.Sprintf("column%d", i+1)}
		}
		return &xnode{title: `Values Scan on "*VALUES*"`, key: n}, cols
	case *seriesNode:
		return &xnode{title: "Function Scan on generate_series", key: n}, []colName{{name: "generate_series"}}
	case *unnestNode:
		return &xnode{title: "Function Scan on unnest", key: n}, []colName{{name: "unnest"}}
	case *vtableNode:
		cols := make([]colName, len(x.v.cols))
		for i, c := range x.v.cols {
			cols[i] = colName{table: x.name, name: c.name}
		}
		return &xnode{title: "Virtual Table Scan on " + quoteIdent(x.name), key: n}, cols
	}
	return &xnode{title: strings.TrimPrefix(fmt.Sprintf("%T", n), "*exec."), key: n}, nil
}

func withTable(cols []colName, table string) []colName {
	out := make([]colName, len(cols))
	for i, c := range cols {
		out[i] = colName{table: table, name: c.name}
	}
	return out
}

func (d *describer) cteScan(x *cteScanNode) (*xnode, []colName) {
	cols := make([]colName, len(x.ct.cols))
	for i, c := range x.ct.cols {
		cols[i] = colName{table: x.alias, name: c.Name}
	}
	rel := quoteIdent(x.ct.name)
	if x.alias != x.ct.name {
		rel += " " + quoteIdent(x.alias)
	}
	if x.work {
		return &xnode{title: "WorkTable Scan on " + rel, key: x}, cols
	}
	if !d.cteSeen[x.ct] {
		d.cteSeen[x.ct] = true
		d.ctes = append(d.ctes, x.ct)
	}
	return &xnode{title: "CTE Scan on " + rel, key: x}, cols
}

func (d *describer) setOpNode(x *setOpNode) (*xnode, []colName) {
	l, cols := d.selectNode(x.left)
	r, _ := d.selectNode(x.right)
	name := setOpName(x.op)
	title := "HashSetOp " + name[:1] + strings.ToLower(name[1:])
	if x.op == pg.SetOperation_SETOP_UNION && x.all {
		title = "Append"
	} else if x.all {
		title += " All"
	}
	return &xnode{title: title, kids: []*xnode{l, r}, key: x}, cols
}

// joinNode describes a join: a hash join on its equality conjuncts
// between the sides (Hash Cond; the rest is the Join Filter), else a
// nested loop evaluating the whole condition on every pair.
func (d *describer) joinNode(jn *joinNode) (*xnode, []colName) {
	l, lc := d.node(jn.left)
	r, rc := d.node(jn.right)
	cols := append(append([]colName{}, lc...), rc...)
	f, subs := d.fmtFor(cols)
	f.qualify = true
	n := &xnode{title: "Nested Loop", kids: []*xnode{l, r}, key: jn}
	kind := joinKindName(jn.kind)
	if len(jn.lkeys) > 0 {
		n.title = "Hash " + strings.TrimPrefix(kind+" Join", " ")
		hash, rest := jn.splitHashConds()
		n.props = append(n.props, "Hash Cond: "+f.expr(andAll(hash)))
		if len(rest) > 0 {
			n.props = append(n.props, "Join Filter: "+f.expr(andAll(rest)))
		}
	} else {
		if kind != "" {
			n.title += " " + kind + " Join"
		}
		if jn.on != nil {
			n.props = append(n.props, "Join Filter: "+f.expr(jn.on))
		}
	}
	d.attachSubs(n, f, *subs)
	return n, cols
}

func joinKindName(k pg.JoinType) string {
	switch k {
	case pg.JoinType_JOIN_LEFT:
		return "Left"
	case pg.JoinType_JOIN_RIGHT:
		return "Right"
	case pg.JoinType_JOIN_FULL:
		return "Full"
	}
	return ""
}

// splitHashConds separates the conjuncts of on that gave the hash keys
// from the others.
func (jn *joinNode) splitHashConds() (hash, rest []sem.Expr) {
	var conj []sem.Expr
	splitAnd(jn.on, &conj)
	for _, e := range conj {
		if jn.isHashCond(e) {
			hash = append(hash, e)
		} else {
			rest = append(rest, e)
		}
	}
	return hash, rest
}

func (jn *joinNode) isHashCond(e sem.Expr) bool {
	c, ok := e.(*sem.Cmp)
	if !ok || c.Op != sem.EQ {
		return false
	}
	l, lok := c.L.(*sem.ColRef)
	r, rok := c.R.(*sem.ColRef)
	if !lok || !rok {
		return false
	}
	if l.Idx > r.Idx {
		l, r = r, l
	}
	return l.Idx < jn.leftWidth && r.Idx >= jn.leftWidth
}

func andAll(es []sem.Expr) sem.Expr {
	var out sem.Expr
	for _, e := range es {
		if out == nil {
			out = e
		} else {
			out = &sem.And{L: out, R: e}
		}
	}
	return out
}

func tableCols(desc *catalog.Descriptor, alias string) []colName {
	if alias == "" {
		alias = desc.Name
	}
	cols := make([]colName, len(desc.Table.Columns))
	for i, c := range desc.Table.Columns {
		cols[i] = colName{table: alias, name: c.Name}
	}
	return cols
}

func relTitle(desc *catalog.Descriptor, alias string) string {
	s := quoteIdent(desc.Name)
	if alias != "" && alias != desc.Name {
		s += " " + quoteIdent(alias)
	}
	return s
}

func (d *describer) insertNode(ip *insertPlan) *xnode {
	desc := ip.w.desc
	n := &xnode{title: "Insert on " + relTitle(desc, ""), key: topKey{}}
	if oc := ip.onConf; oc != nil {
		n.props = append(n.props, "Conflict Resolution: "+map[bool]string{false: "NOTHING", true: "UPDATE"}[oc.update])
		n.props = append(n.props, "Conflict Arbiter Indexes: "+arbiterNames(desc, oc.arbiters))
	}
	switch {
	case ip.src != nil:
		k, _ := d.selectNode(ip.src)
		n.kids = append(n.kids, k)
	case len(ip.rows) > 1:
		n.kids = append(n.kids, &xnode{title: `Values Scan on "*VALUES*"`})
	default:
		n.kids = append(n.kids, &xnode{title: "Result"})
	}
	n.extra = dmlExtra("Inserted")
	return n
}

func arbiterNames(desc *catalog.Descriptor, arbiters []*catalog.Index) string {
	if arbiters == nil {
		for _, idx := range desc.Table.AllIndexes() {
			if idx.Unique {
				arbiters = append(arbiters, idx)
			}
		}
	}
	names := make([]string, len(arbiters))
	for i, idx := range arbiters {
		names[i] = quoteIdent(idx.Name)
	}
	return strings.Join(names, ", ")
}

func (d *describer) mutateNode(mp *mutatePlan) *xnode {
	verb, done := "Update", "Updated"
	if mp.delete {
		verb, done = "Delete", "Deleted"
	}
	n := &xnode{title: verb + " on " + relTitle(mp.w.desc, mp.scan.alias), key: topKey{}, extra: dmlExtra(done)}
	var k *xnode
	var cols []colName
	if mp.src != nil {
		k, cols = d.node(mp.src)
	} else {
		k, cols = d.node(mp.scan)
	}
	n.kids = append(n.kids, k)
	f, subs := d.fmtFor(cols)
	var sets []string
	for _, s := range mp.set {
		v := "DEFAULT"
		if s.e != nil {
			v = f.expr(s.e)
		}
		sets = append(sets, quoteIdent(mp.w.desc.Table.Columns[s.col].Name)+" = "+v)
	}
	if d.verbose && len(sets) > 0 {
		n.props = append(n.props, "Set: "+strings.Join(sets, ", "))
	}
	d.attachSubs(n, f, *subs)
	return n
}

// topKey keys the figures of the statement's top operator (an INSERT,
// UPDATE or DELETE), which EXPLAIN ANALYZE times itself.
type topKey struct{}

// dmlExtra reports the rows a write statement changed (from its tag).
func dmlExtra(verb string) func(a *analysis) []string {
	return func(a *analysis) []string {
		if a.tag == "" {
			return nil
		}
		f := strings.Fields(a.tag)
		return []string{fmt.Sprintf("Rows %s: %s", verb, f[len(f)-1])}
	}
}
