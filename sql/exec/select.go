package exec

import (
	"fmt"
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// sortKey is one ORDER BY key: a column of the projected row.
type sortKey struct {
	col        int
	desc       bool
	nullsFirst bool
}

// selectPlan is a planned SELECT.
type selectPlan struct {
	cols     []ResultCol
	deps     []Dep
	src      node
	where    sem.Expr // applied when src is not a scan that took it
	grouping bool
	groupBy  []sem.Expr
	aggs     []*sem.AggSpec
	having   sem.Expr
	proj     []sem.Expr // visible columns first, then hidden sort columns
	distinct bool
	order    []sortKey
	limit    sem.Expr
	offset   sem.Expr
	scan     *scanNode // the single-table scan, if any
	// untypedCols marks output columns that are untyped literals, typed
	// as text unless a set operation's other arm decides otherwise.
	untypedCols []bool
	values      *valuesNode // src of a VALUES list
}

func (sp *selectPlan) Columns() []ResultCol { return sp.cols }
func (sp *selectPlan) Deps() []Dep          { return sp.deps }

func (p *Planner) planSelectStmt(s *pg.SelectStmt) (Plan, error) {
	sp, err := p.planSelect(s)
	if err != nil {
		return nil, err
	}
	sp.deps = p.deps
	return sp, nil
}

func (p *Planner) planSelect(s *pg.SelectStmt) (*selectPlan, error) {
	if s.WithClause != nil {
		pop, err := p.pushWith(s.WithClause)
		if err != nil {
			return nil, err
		}
		defer pop()
	}
	if s.Op != pg.SetOperation_SETOP_NONE {
		return p.planSetOp(s)
	}
	if len(s.ValuesLists) > 0 {
		return p.planValues(s)
	}
	if fs, ok := srfTargetAsFrom(s); ok {
		s = fs
	}
	lock := kvapi.LockShared
	if len(s.LockingClause) > 0 {
		lock = lockingStrength(s.LockingClause)
	}
	src, scope, err := p.planFrom(s.FromClause, lock)
	if err != nil {
		return nil, err
	}
	sp := &selectPlan{src: src}
	if sc, ok := src.(*scanNode); ok {
		sp.scan = sc
	}
	if err := p.planWhere(sp, s.WhereClause, scope); err != nil {
		return nil, err
	}
	if err := p.planProjection(sp, s, scope); err != nil {
		return nil, err
	}
	sp.maybePushLimit()
	return sp, nil
}

func lockingStrength(lc []*pg.Node) kvapi.Lock {
	for _, n := range lc {
		if l := n.GetLockingClause(); l != nil && (l.Strength == pg.LockClauseStrength_LCS_FORUPDATE || l.Strength == pg.LockClauseStrength_LCS_FORNOKEYUPDATE) {
			return kvapi.LockExclusive
		}
	}
	return kvapi.LockShared
}

func (p *Planner) planWhere(sp *selectPlan, w *pg.Node, scope sem.Scope) error {
	if w == nil {
		return nil
	}
	b := p.builder(scope)
	b.Context = "WHERE"
	e, err := b.Build(w)
	if err != nil {
		return err
	}
	if e, err = b.Predicate(e); err != nil {
		return err
	}
	if sp.scan != nil {
		sp.scan.setFilter(e)
		return nil
	}
	sp.where = e
	return nil
}

func (p *Planner) planValues(s *pg.SelectStmt) (*selectPlan, error) {
	v := &valuesNode{}
	b := p.builder(nil)
	var colTypes []types.T
	for _, l := range s.ValuesLists {
		var row []sem.Expr
		for _, n := range l.GetList().GetItems() {
			e, err := b.Build(n)
			if err != nil {
				return nil, err
			}
			row = append(row, e)
		}
		if colTypes == nil {
			colTypes = make([]types.T, len(row))
		}
		if len(row) != len(colTypes) {
			return nil, pgcode.New(pgcode.SyntaxError, "VALUES lists must all be the same length")
		}
		v.exprs = append(v.exprs, row)
	}
	sp := &selectPlan{src: v, values: v}
	for i := range colTypes {
		col := make([]sem.Expr, len(v.exprs))
		for r := range v.exprs {
			col[r] = v.exprs[r][i]
		}
		t, err := commonType(b, col)
		if err != nil {
			return nil, err
		}
		sp.untypedCols = append(sp.untypedCols, allUntyped(col))
		for r := range v.exprs {
			if v.exprs[r][i], err = b.Coerce(v.exprs[r][i], t); err != nil {
				return nil, err
			}
		}
		sp.proj = append(sp.proj, &sem.ColRef{Idx: i, T: t})
		sp.cols = append(sp.cols, ResultCol{Name: fmt.Sprintf("column%d", i+1), T: t})
	}
	return sp, p.planOrderLimit(sp, s, sem.Scope{}, nil)
}

func allUntyped(es []sem.Expr) bool {
	for _, e := range es {
		if e.Type().Family != types.UnknownFamily {
			return false
		}
	}
	return true
}

func commonType(b *sem.Builder, es []sem.Expr) (types.T, error) {
	t := types.Unknown
	for _, e := range es {
		if t.Family == types.UnknownFamily {
			t = e.Type()
		} else if e.Type().IsNumeric() && t.IsNumeric() {
			t = widerNumeric(t, e.Type())
		}
	}
	if t.Family == types.UnknownFamily {
		t = types.Text
	}
	return t, nil
}

// planFrom plans the FROM list: a cross product of its items.
func (p *Planner) planFrom(from []*pg.Node, lock kvapi.Lock) (node, sem.Scope, error) {
	if len(from) == 0 {
		return &valuesNode{exprs: [][]sem.Expr{{}}}, nil, nil
	}
	var src node
	var scope sem.Scope
	for _, f := range from {
		n, s, err := p.planFromItem(f, lock)
		if err != nil {
			return nil, nil, err
		}
		if src == nil {
			src, scope = n, s
			continue
		}
		src = &joinNode{left: src, right: n, kind: pg.JoinType_JOIN_INNER, leftWidth: len(scope), rightWidth: len(s)}
		scope = append(append(sem.Scope{}, scope...), s...)
	}
	return src, scope, nil
}

func (p *Planner) planFromItem(f *pg.Node, lock kvapi.Lock) (node, sem.Scope, error) {
	switch x := f.Node.(type) {
	case *pg.Node_RangeVar:
		if ct, ok := p.lookupCTE(x.RangeVar); ok {
			return ct.scan(aliasOr(x.RangeVar), x.RangeVar.Alias, len(p.outer) > 0)
		}
		if v, ok := p.virtual(x.RangeVar); ok {
			return &vtableNode{v: v, name: x.RangeVar.Relname}, v.scope(aliasOr(x.RangeVar)), nil
		}
		d, err := p.resolveRelation(x.RangeVar)
		if err != nil {
			return nil, nil, err
		}
		if d.Kind == catalog.KindView {
			return p.planView(d, x.RangeVar)
		}
		alias := ""
		if x.RangeVar.Alias != nil {
			alias = x.RangeVar.Alias.Aliasname
		}
		s := newScan(d, lock)
		s.alias = alias
		return s, tableScope(d, alias), nil
	case *pg.Node_JoinExpr:
		return p.planJoin(x.JoinExpr, lock)
	case *pg.Node_RangeSubselect:
		return p.planSubquery(x.RangeSubselect)
	case *pg.Node_RangeFunction:
		return p.planFunctionScan(x.RangeFunction)
	}
	return nil, nil, sqlerr.Unsupported("FROM item not supported: %T", f.Node)
}

func (p *Planner) planSubquery(rs *pg.RangeSubselect) (node, sem.Scope, error) {
	sub, err := p.planSelect(rs.Subquery.GetSelectStmt())
	if err != nil {
		return nil, nil, err
	}
	scope := make(sem.Scope, len(sub.cols))
	for i, c := range sub.cols {
		scope[i] = sem.ScopeCol{Name: c.Name, T: c.T}
	}
	if rs.Alias != nil {
		scope = aliasScope(scope, rs.Alias)
	}
	alias := ""
	if rs.Alias != nil {
		alias = rs.Alias.Aliasname
	}
	return &subqueryNode{plan: sub, alias: alias}, scope, nil
}

type subqueryNode struct {
	plan  *selectPlan
	alias string // for EXPLAIN
}

func (s *subqueryNode) rows(c *Ctx) ([]sem.Row, error) {
	res, err := s.plan.Exec(c)
	if err != nil {
		return nil, err
	}
	return res.Rows, nil
}

// planProjection plans grouping, the target list, DISTINCT, ORDER BY and
// LIMIT.
func (p *Planner) planProjection(sp *selectPlan, s *pg.SelectStmt, scope sem.Scope) error {
	targets, err := expandStars(s.TargetList, scope)
	if err != nil {
		return err
	}
	b := p.builder(scope)
	b.AllowAggs, b.Context = true, "SELECT"
	if err := p.planGroupBy(sp, b, s, targets); err != nil {
		return err
	}
	for _, t := range targets {
		e, err := b.Build(t.val)
		if err != nil {
			return err
		}
		untyped := e.Type().Family == types.UnknownFamily
		if untyped {
			if e, err = b.Coerce(e, types.Text); err != nil {
				return err
			}
		}
		sp.untypedCols = append(sp.untypedCols, untyped)
		sp.proj = append(sp.proj, e)
		sp.cols = append(sp.cols, resultCol(t.name, e, scope))
	}
	if err := p.planHaving(sp, b, s.HavingClause); err != nil {
		return err
	}
	sp.distinct = len(s.DistinctClause) > 0
	if err := p.planOrderLimit(sp, s, scope, b); err != nil {
		return err
	}
	sp.aggs = b.Aggs
	sp.grouping = sp.grouping || len(b.Aggs) > 0
	return nil
}

func resultCol(name string, e sem.Expr, scope sem.Scope) ResultCol {
	rc := ResultCol{Name: name, T: e.Type()}
	if r, ok := e.(*sem.ColRef); ok {
		rc.TableOID, rc.Attr = scope[r.Idx].TableOID, scope[r.Idx].Attr
	}
	return rc
}

type target struct {
	name string
	val  *pg.Node
}

// expandStars expands * and t.* and names every target.
func expandStars(list []*pg.Node, scope sem.Scope) ([]target, error) {
	var out []target
	for _, n := range list {
		rt := n.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil && isStar(cr) {
			ts, err := starTargets(cr, scope)
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
			continue
		}
		name := rt.Name
		if name == "" {
			name = sem.ColumnName(rt.Val)
		}
		out = append(out, target{name: name, val: rt.Val})
	}
	return out, nil
}

func isStar(cr *pg.ColumnRef) bool {
	return cr.Fields[len(cr.Fields)-1].GetAStar() != nil
}

func starTargets(cr *pg.ColumnRef, scope sem.Scope) ([]target, error) {
	table := ""
	if len(cr.Fields) > 1 {
		table = cr.Fields[len(cr.Fields)-2].GetString_().GetSval()
	}
	if len(scope) == 0 {
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "SELECT * with no tables specified is not valid"), cr.Location)
	}
	var out []target
	for _, c := range scope {
		if c.Hidden || (table != "" && c.Table != table) || (table == "" && c.QualifiedOnly) {
			continue
		}
		out = append(out, target{name: c.Name, val: colRefNode(c.Table, c.Name)})
	}
	if table != "" && len(out) == 0 {
		return nil, posErr(pgcode.New(pgcode.UndefinedTable, "missing FROM-clause entry for table %q", table), cr.Location)
	}
	return out, nil
}

func colRefNode(table, name string) *pg.Node {
	fields := []*pg.Node{pg.MakeStrNode(name)}
	if table != "" {
		fields = []*pg.Node{pg.MakeStrNode(table), pg.MakeStrNode(name)}
	}
	return &pg.Node{Node: &pg.Node_ColumnRef{ColumnRef: &pg.ColumnRef{Fields: fields, Location: -1}}}
}

func (p *Planner) planGroupBy(sp *selectPlan, b *sem.Builder, s *pg.SelectStmt, targets []target) error {
	if len(s.GroupClause) == 0 {
		if s.HavingClause != nil {
			sp.grouping = true
			b.Grouping = true
		}
		return p.markGrouping(sp, b, targets)
	}
	plain := p.builder(b.Scope)
	plain.Context = "GROUP BY"
	for _, g := range s.GroupClause {
		n := resolveOrdinalOrAlias(g, targets)
		e, err := plain.Build(n)
		if err != nil {
			return err
		}
		sp.groupBy = append(sp.groupBy, e)
	}
	sp.grouping = true
	b.Grouping, b.GroupExprs = true, sp.groupBy
	return nil
}

// markGrouping turns on grouping checks when the target list aggregates.
func (p *Planner) markGrouping(sp *selectPlan, b *sem.Builder, targets []target) error {
	probe := p.builder(b.Scope)
	probe.AllowAggs = true
	for _, t := range targets {
		if _, err := probe.Build(t.val); err != nil {
			continue // reported by the real build
		}
	}
	if len(probe.Aggs) > 0 {
		sp.grouping = true
		b.Grouping = true
	}
	return nil
}

// resolveOrdinalOrAlias maps GROUP BY/ORDER BY 2 or an output alias to the
// target's expression.
func resolveOrdinalOrAlias(n *pg.Node, targets []target) *pg.Node {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		i := int(c.GetIval().Ival) - 1
		if i >= 0 && i < len(targets) {
			return targets[i].val
		}
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		name := cr.Fields[0].GetString_().GetSval()
		for _, t := range targets {
			if t.name == name && t.val.GetColumnRef() == nil {
				return t.val
			}
		}
	}
	return n
}

func (p *Planner) planHaving(sp *selectPlan, b *sem.Builder, h *pg.Node) error {
	if h == nil {
		return nil
	}
	b.Context = "HAVING"
	e, err := b.Build(h)
	if err != nil {
		return err
	}
	sp.having, err = b.Predicate(e)
	return err
}

func (p *Planner) planOrderLimit(sp *selectPlan, s *pg.SelectStmt, scope sem.Scope, b *sem.Builder) error {
	visible := len(sp.cols)
	for _, n := range s.SortClause {
		sb := n.GetSortBy()
		col, err := p.sortColumn(sp, sb.Node, b, visible)
		if err != nil {
			return err
		}
		k := sortKey{col: col, desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC}
		k.nullsFirst = k.desc
		switch sb.SortbyNulls {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			k.nullsFirst = true
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			k.nullsFirst = false
		}
		sp.order = append(sp.order, k)
	}
	lb := p.builder(nil)
	lb.Context = "LIMIT"
	var err error
	if sp.limit, err = limitExpr(lb, s.LimitCount); err != nil {
		return err
	}
	sp.offset, err = limitExpr(lb, s.LimitOffset)
	return err
}

func limitExpr(b *sem.Builder, n *pg.Node) (sem.Expr, error) {
	if n == nil {
		return nil, nil
	}
	e, err := b.Build(n)
	if err != nil {
		return nil, err
	}
	return b.Coerce(e, types.Int8)
}

// sortColumn finds or adds the projected column an ORDER BY item sorts on.
func (p *Planner) sortColumn(sp *selectPlan, n *pg.Node, b *sem.Builder, visible int) (int, error) {
	if c := n.GetAConst(); c != nil && c.GetIval() != nil {
		i := int(c.GetIval().Ival)
		if i < 1 || i > visible {
			return 0, posErr(pgcode.New(sqlerr.InvalidColumnReference, "ORDER BY position %d is not in select list", i), c.Location)
		}
		return i - 1, nil
	}
	if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		name := cr.Fields[0].GetString_().GetSval()
		for i := 0; i < visible; i++ {
			if sp.cols[i].Name == name {
				return i, nil
			}
		}
	}
	if b == nil {
		return 0, sqlerr.Unsupported("ORDER BY expression on VALUES")
	}
	b.Context = "ORDER BY"
	e, err := b.Build(n)
	if err != nil {
		return 0, err
	}
	s := e.String()
	for i, pe := range sp.proj {
		if pe.String() == s {
			return i, nil
		}
	}
	if sp.distinct {
		return 0, pgcode.New(sqlerr.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
	}
	sp.proj = append(sp.proj, e)
	return len(sp.proj) - 1, nil
}

// Exec runs the SELECT.
func (sp *selectPlan) Exec(c *Ctx) (*Result, error) {
	run := c.analyze.startSelect(sp) // nil unless EXPLAIN ANALYZE
	rows, err := runNode(c, sp.src)
	if err != nil {
		return nil, err
	}
	if rows, err = filterRows(c, sp.where, rows); err != nil {
		return nil, err
	}
	run.mark(stageWhere, len(rows))
	if sp.grouping {
		if rows, err = sp.group(c, rows); err != nil {
			return nil, err
		}
	}
	out, err := sp.project(c, rows)
	if err != nil {
		return nil, err
	}
	run.mark(stageGroup, len(out))
	if sp.distinct {
		if out, err = distinctRows(c, out, len(sp.cols)); err != nil {
			return nil, err
		}
	}
	run.mark(stageDistinct, len(out))
	sortRows(out, sp.order)
	run.mark(stageSort, len(out))
	if out, err = sp.applyLimit(c, out); err != nil {
		return nil, err
	}
	run.mark(stageLimit, len(out))
	for i := range out {
		out[i] = out[i][:len(sp.cols)]
	}
	return &Result{Rows: out, Tag: fmt.Sprintf("SELECT %d", len(out))}, nil
}

// streams reports whether each can produce the plan's rows one at a time:
// a filter and projection over generate_series, with no grouping,
// DISTINCT, ORDER BY or LIMIT (INSERT ... SELECT ... FROM generate_series,
// as pgbench -i -I G runs, then holds no row set).
func (sp *selectPlan) streams(c *Ctx) bool {
	_, ok := sp.src.(*seriesNode)
	return ok && c.analyze == nil && !sp.grouping && sp.having == nil && !sp.distinct &&
		len(sp.order) == 0 && sp.limit == nil && sp.offset == nil
}

// each calls f with each result row in turn (only when streams says so).
func (sp *selectPlan) each(c *Ctx, f func(sem.Row) error) error {
	return sp.src.(*seriesNode).each(c, func(r sem.Row) error {
		if sp.where != nil {
			ok, err := sem.IsTrue(c.Eval, sp.where, r)
			if err != nil || !ok {
				return err
			}
		}
		pr := make(sem.Row, len(sp.proj))
		for i, e := range sp.proj {
			v, err := e.Eval(c.Eval, r)
			if err != nil {
				return err
			}
			pr[i] = v
		}
		return f(pr[:len(sp.cols)])
	})
}

func filterRows(c *Ctx, f sem.Expr, rows []sem.Row) ([]sem.Row, error) {
	if f == nil {
		return rows, nil
	}
	out := rows[:0]
	for _, r := range rows {
		ok, err := sem.IsTrue(c.Eval, f, r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (sp *selectPlan) project(c *Ctx, rows []sem.Row) ([]sem.Row, error) {
	out := make([]sem.Row, 0, len(rows))
	for _, r := range rows {
		if sp.having != nil {
			ok, err := sem.IsTrue(c.Eval, sp.having, r)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		pr := make(sem.Row, len(sp.proj))
		for i, e := range sp.proj {
			v, err := e.Eval(c.Eval, r)
			if err != nil {
				return nil, err
			}
			pr[i] = v
		}
		if err := c.growRows(sp.holder(), pr); err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// holder names the operator holding the projected rows, for 53200.
func (sp *selectPlan) holder() string {
	if len(sp.order) > 0 {
		return "sort"
	}
	return "result"
}

// rowKey encodes values so equal rows (NULLs equal) have equal keys.
func rowKey(b []byte, r sem.Row, n int) []byte {
	for i := 0; i < n; i++ {
		b = rowenc.AppendDatum(b, types.Unknown, r[i])
	}
	return b
}

func distinctRows(c *Ctx, rows []sem.Row, n int) ([]sem.Row, error) {
	seen := make(map[string]bool, len(rows))
	out := rows[:0]
	var buf []byte
	for _, r := range rows {
		buf = rowKey(buf[:0], r, n)
		if !seen[string(buf)] {
			if err := c.grow("DISTINCT", int64(len(buf))+32); err != nil {
				return nil, err
			}
			seen[string(buf)] = true
			out = append(out, r)
		}
	}
	return out, nil
}

func sortRows(rows []sem.Row, keys []sortKey) {
	if len(keys) == 0 {
		return
	}
	slices.SortStableFunc(rows, func(a, b sem.Row) int {
		for _, k := range keys {
			if c := compareKey(a[k.col], b[k.col], k); c != 0 {
				return c
			}
		}
		return 0
	})
}

func compareKey(a, b types.Datum, k sortKey) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return nullOrder(k)
	case b == nil:
		return -nullOrder(k)
	}
	c := types.Compare(a, b)
	if k.desc {
		return -c
	}
	return c
}

func nullOrder(k sortKey) int {
	if k.nullsFirst {
		return -1
	}
	return 1
}

func (sp *selectPlan) applyLimit(c *Ctx, rows []sem.Row) ([]sem.Row, error) {
	off, err := evalCount(c, sp.offset, "OFFSET")
	if err != nil {
		return nil, err
	}
	if off >= 0 {
		rows = rows[min(int(off), len(rows)):]
	}
	lim, err := evalCount(c, sp.limit, "LIMIT")
	if err != nil {
		return nil, err
	}
	if lim >= 0 && int(lim) < len(rows) {
		rows = rows[:lim]
	}
	return rows, nil
}

func evalCount(c *Ctx, e sem.Expr, what string) (int64, error) {
	if e == nil {
		return -1, nil
	}
	v, err := e.Eval(c.Eval, nil)
	if err != nil || v == nil {
		return -1, err
	}
	n := v.(int64)
	if n < 0 {
		code := pgcode.Code("2201W") // invalid_row_count_in_limit_clause
		if what == "OFFSET" {
			code = "2201X" // invalid_row_count_in_result_offset_clause
		}
		return 0, pgcode.New(code, "%s must not be negative", what)
	}
	return n, nil
}

// virtual resolves pg_catalog's virtual tables, which (as in PostgreSQL,
// where pg_catalog is implicitly first on the search path) win over a user
// table of the same name when unqualified.
func (p *Planner) virtual(rv *pg.RangeVar) (*vtable, bool) {
	if rv.Schemaname == "information_schema" {
		return infoSchemaTable(rv.Relname)
	}
	if rv.Schemaname != "" && rv.Schemaname != "pg_catalog" {
		return nil, false
	}
	return virtualTable(rv.Relname)
}

func aliasOr(rv *pg.RangeVar) string {
	if rv.Alias != nil {
		return rv.Alias.Aliasname
	}
	return rv.Relname
}
