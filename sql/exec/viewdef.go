package exec

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
)

// viewDefinition returns pg_get_viewdef's text for a view's stored query:
// plain (every operator parenthesised) and pretty. It follows PostgreSQL
// 15's ruleutils layout for a single SELECT: one target per line, column
// references qualified by their relation, * expanded, JOINs on their own
// lines, each clause on its line. Constructs it does not know (set
// operations, WITH, VALUES, sublinks, CASE, ...) fall back to pg_query's
// deparsed text, which reads back the same but is not byte-identical to
// PostgreSQL's.
func viewDefinition(c *Ctx, sel *pg.SelectStmt, cols []catalog.Column) (plain, pretty string, err error) {
	f := &defFormatter{c: c}
	if plain, err = f.query(sel, cols); err != nil {
		return "", "", err
	}
	f = &defFormatter{c: c, pretty: true}
	pretty, err = f.query(sel, cols)
	return plain, pretty, err
}

type defFormatter struct {
	c      *Ctx
	pretty bool
	rels   []defRel
}

// defRel is a relation of the FROM list: the name its columns are
// qualified with, and its columns (nil when unknown).
type defRel struct {
	ref  string
	cols []string
}

func (f *defFormatter) query(sel *pg.SelectStmt, cols []catalog.Column) (string, error) {
	if sel.Op != pg.SetOperation_SETOP_NONE || sel.WithClause != nil || len(sel.ValuesLists) > 0 {
		s, err := deparseStmt(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}})
		return " " + s + ";", err
	}
	var b strings.Builder
	from, err := f.fromList(sel.FromClause)
	if err != nil {
		return "", err
	}
	b.WriteString(" SELECT ")
	if len(sel.DistinctClause) > 0 {
		b.WriteString("DISTINCT ")
	}
	b.WriteString(strings.Join(f.targets(sel.TargetList, cols), ",\n    "))
	if from != "" {
		b.WriteString("\n   FROM " + from)
	}
	if sel.WhereClause != nil {
		b.WriteString("\n  WHERE " + f.expr(sel.WhereClause, precTop))
	}
	if len(sel.GroupClause) > 0 {
		b.WriteString("\n  GROUP BY " + f.list(f.resolveRefs(sel.GroupClause, sel.TargetList)))
	}
	if sel.HavingClause != nil {
		b.WriteString("\n HAVING " + f.expr(sel.HavingClause, precTop))
	}
	if len(sel.SortClause) > 0 {
		b.WriteString("\n  ORDER BY " + f.sortList(sel.SortClause, sel.TargetList))
	}
	if sel.LimitOffset != nil {
		b.WriteString("\n OFFSET " + f.expr(sel.LimitOffset, precTop))
	}
	if sel.LimitCount != nil {
		b.WriteString("\n LIMIT " + f.expr(sel.LimitCount, precTop))
	}
	b.WriteString(";")
	return b.String(), nil
}

// targets prints the target list, * expanded, with AS where the view's
// column name is not the one the expression would get.
func (f *defFormatter) targets(list []*pg.Node, cols []catalog.Column) []string {
	var out []string
	for _, n := range list {
		rt := n.GetResTarget()
		if cr := rt.GetVal().GetColumnRef(); cr != nil && isStar(cr) {
			out = append(out, f.star(cr)...)
			continue
		}
		out = append(out, f.expr(rt.Val, precTop))
	}
	for i := range out {
		if i >= len(cols) {
			break
		}
		name := quoteIdent(cols[i].Name)
		if !strings.HasSuffix(out[i], "."+name) && out[i] != name {
			out[i] += " AS " + name
		}
	}
	return out
}

func (f *defFormatter) star(cr *pg.ColumnRef) []string {
	qual := ""
	if len(cr.Fields) > 1 {
		qual = cr.Fields[len(cr.Fields)-2].GetString_().GetSval()
	}
	var out []string
	for _, r := range f.rels {
		if qual != "" && r.ref != qual {
			continue
		}
		for _, col := range r.cols {
			out = append(out, quoteIdent(r.ref)+"."+quoteIdent(col))
		}
	}
	return out
}

func (f *defFormatter) fromList(items []*pg.Node) (string, error) {
	parts := make([]string, len(items))
	for i, n := range items {
		s, err := f.fromItem(n)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	return strings.Join(parts, ",\n    "), nil
}

func (f *defFormatter) fromItem(n *pg.Node) (string, error) {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		return f.rangeVar(x.RangeVar)
	case *pg.Node_JoinExpr:
		return f.join(x.JoinExpr)
	}
	s, err := deparse(n)
	return s, err
}

// rangeVar prints a relation (qualified only when the search path would
// not find it) and records its columns.
func (f *defFormatter) rangeVar(rv *pg.RangeVar) (string, error) {
	ref := aliasOr(rv)
	r := defRel{ref: ref}
	name := quoteIdent(rv.Relname)
	if v, ok := virtualTable(rv.Relname); ok && rv.Schemaname == "pg_catalog" {
		for _, col := range v.cols {
			r.cols = append(r.cols, col.name)
		}
	} else {
		_, id, found, err := f.c.names().Lookup(f.c.Context, rv.Schemaname, rv.Relname, kvapi.LockShared)
		if err != nil {
			return "", err
		}
		if found {
			d, err := f.c.Cat.Get(f.c.Context, id, kvapi.LockShared)
			if err != nil {
				return "", err
			}
			r.cols = relColumns(d)
			if _, vid, ok, err := f.c.names().Lookup(f.c.Context, "", rv.Relname, kvapi.LockShared); err != nil || !ok || vid != id {
				name = quoteIdent(rv.Schemaname) + "." + name
			}
		}
	}
	f.rels = append(f.rels, r)
	if rv.Alias != nil {
		name += " " + quoteIdent(rv.Alias.Aliasname)
	}
	return name, nil
}

// relColumns are the visible column names of a table or view.
func relColumns(d *catalog.Descriptor) []string {
	var out []string
	switch {
	case d == nil:
	case d.Table != nil:
		for _, col := range d.Table.Columns {
			if !col.Hidden {
				out = append(out, col.Name)
			}
		}
	case d.View != nil:
		for _, col := range d.View.Columns {
			out = append(out, col.Name)
		}
	}
	return out
}

var joinWords = map[pg.JoinType]string{pg.JoinType_JOIN_INNER: "JOIN", pg.JoinType_JOIN_LEFT: "LEFT JOIN",
	pg.JoinType_JOIN_RIGHT: "RIGHT JOIN", pg.JoinType_JOIN_FULL: "FULL JOIN"}

func (f *defFormatter) join(j *pg.JoinExpr) (string, error) {
	l, err := f.fromItem(j.Larg)
	if err != nil {
		return "", err
	}
	r, err := f.fromItem(j.Rarg)
	if err != nil {
		return "", err
	}
	word := joinWords[j.Jointype]
	if j.Quals == nil && len(j.UsingClause) == 0 && !j.IsNatural && j.Jointype == pg.JoinType_JOIN_INNER {
		word = "CROSS JOIN"
	}
	if j.IsNatural {
		word = "NATURAL " + word
	}
	s := l + "\n     " + word + " " + r
	switch {
	case len(j.UsingClause) > 0:
		s += " USING (" + strings.Join(quoteAll(keyNames(j.UsingClause)), ", ") + ")"
	case j.Quals != nil:
		on := f.expr(j.Quals, precTop)
		if !f.pretty {
			on = "(" + on + ")"
		}
		s += " ON " + on
	}
	if !f.pretty {
		s = "(" + s + ")"
	}
	return s, nil
}

func quoteAll(names []string) []string {
	for i, n := range names {
		names[i] = quoteIdent(n)
	}
	return names
}

// resolveRefs replaces GROUP BY / ORDER BY ordinals and output names by
// the target expressions they stand for, as PostgreSQL prints them.
func (f *defFormatter) resolveRefs(ns []*pg.Node, targets []*pg.Node) []*pg.Node {
	var ts []target
	for _, t := range targets {
		rt := t.GetResTarget()
		ts = append(ts, target{name: rt.Name, val: rt.Val})
	}
	out := make([]*pg.Node, len(ns))
	for i, n := range ns {
		out[i] = resolveOrdinalOrAlias(n, ts)
	}
	return out
}

func (f *defFormatter) list(ns []*pg.Node) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = f.expr(n, precTop)
	}
	return strings.Join(parts, ", ")
}

func (f *defFormatter) sortList(ns []*pg.Node, targets []*pg.Node) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		sb := n.GetSortBy()
		node := f.resolveRefs([]*pg.Node{sb.Node}, targets)[0]
		s := f.expr(node, precTop)
		switch sb.SortbyDir {
		case pg.SortByDir_SORTBY_DESC:
			s += " DESC"
			if sb.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_LAST {
				s += " NULLS LAST"
			}
		default:
			if sb.SortbyNulls == pg.SortByNulls_SORTBY_NULLS_FIRST {
				s += " NULLS FIRST"
			}
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}

// Precedences for pretty printing: a child is parenthesised when it binds
// less tightly than its parent.
const (
	precTop = iota
	precOr
	precAnd
	precNot
	precCmp
	precAdd
	precMul
	precAtom
)

func opPrec(op string) int {
	switch op {
	case "+", "-":
		return precAdd
	case "*", "/", "%":
		return precMul
	}
	return precCmp
}

// wrap parenthesises s, an expression of precedence prec under a parent
// of precedence parent: always when not pretty.
func (f *defFormatter) wrap(s string, prec, parent int) string {
	if !f.pretty || prec < parent {
		return "(" + s + ")"
	}
	return s
}

func (f *defFormatter) expr(n *pg.Node, parent int) string {
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		return f.columnRef(x.ColumnRef)
	case *pg.Node_AConst:
		return constText(x.AConst)
	case *pg.Node_AExpr:
		return f.aExpr(x.AExpr, parent)
	case *pg.Node_BoolExpr:
		return f.boolExpr(x.BoolExpr, parent)
	case *pg.Node_NullTest:
		s := f.expr(x.NullTest.Arg, precCmp) + " IS NULL"
		if x.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL {
			s = f.expr(x.NullTest.Arg, precCmp) + " IS NOT NULL"
		}
		return f.wrap(s, precCmp, parent)
	case *pg.Node_FuncCall:
		return f.funcCall(x.FuncCall)
	case *pg.Node_TypeCast:
		return f.typeCast(x.TypeCast)
	}
	s, err := deparse(n)
	if err != nil {
		return "?"
	}
	return s
}

func (f *defFormatter) columnRef(cr *pg.ColumnRef) string {
	var parts []string
	for _, fl := range cr.Fields {
		if fl.GetAStar() != nil {
			parts = append(parts, "*")
			continue
		}
		parts = append(parts, quoteIdent(fl.GetString_().GetSval()))
	}
	if len(cr.Fields) == 1 && len(parts) == 1 && parts[0] != "*" {
		name := cr.Fields[0].GetString_().GetSval()
		var owner string
		for _, r := range f.rels {
			for _, col := range r.cols {
				if col == name {
					if owner != "" && owner != r.ref {
						return parts[0] // ambiguous: the planner would have refused
					}
					owner = r.ref
				}
			}
		}
		if owner != "" {
			return quoteIdent(owner) + "." + parts[0]
		}
	}
	return strings.Join(parts, ".")
}

func constText(c *pg.A_Const) string {
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return strconv.FormatInt(int64(v.Ival.Ival), 10)
	case *pg.A_Const_Fval:
		return v.Fval.Fval
	case *pg.A_Const_Sval:
		return quoteLiteral(v.Sval.Sval) + "::text"
	case *pg.A_Const_Boolval:
		return strconv.FormatBool(v.Boolval.Boolval)
	}
	return "NULL"
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (f *defFormatter) aExpr(a *pg.A_Expr, parent int) string {
	op := ""
	if len(a.Name) > 0 {
		op = a.Name[len(a.Name)-1].GetString_().GetSval()
	}
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if a.Lexpr == nil {
			return f.wrap(op+" "+f.expr(a.Rexpr, precAtom), precAtom, parent)
		}
		p := opPrec(op)
		return f.wrap(f.expr(a.Lexpr, p)+" "+op+" "+f.expr(a.Rexpr, p+1), p, parent)
	case pg.A_Expr_Kind_AEXPR_IN:
		items := a.Rexpr.GetList().GetItems()
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = f.expr(it, precTop)
		}
		quant := " = ANY "
		if op == "<>" {
			quant = " <> ALL "
		}
		return f.wrap(f.expr(a.Lexpr, precCmp+1)+quant+"(ARRAY["+strings.Join(parts, ", ")+"])", precCmp, parent)
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		ops := map[string]string{"~~": "~~", "!~~": "!~~", "~~*": "~~*", "!~~*": "!~~*"}
		return f.wrap(f.expr(a.Lexpr, precCmp+1)+" "+ops[op]+" "+f.expr(a.Rexpr, precCmp+1), precCmp, parent)
	}
	s, err := deparse(&pg.Node{Node: &pg.Node_AExpr{AExpr: a}})
	if err != nil {
		return "?"
	}
	return s
}

func (f *defFormatter) boolExpr(b *pg.BoolExpr, parent int) string {
	switch b.Boolop {
	case pg.BoolExprType_NOT_EXPR:
		return f.wrap("NOT "+f.expr(b.Args[0], precNot), precNot, parent)
	case pg.BoolExprType_AND_EXPR:
		return f.wrap(f.joinArgs(b.Args, " AND ", precAnd), precAnd, parent)
	}
	return f.wrap(f.joinArgs(b.Args, " OR ", precOr), precOr, parent)
}

func (f *defFormatter) joinArgs(args []*pg.Node, sep string, prec int) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = f.expr(a, prec)
	}
	return strings.Join(parts, sep)
}

func (f *defFormatter) funcCall(fc *pg.FuncCall) string {
	name := fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()
	if fc.AggStar {
		return name + "(*)"
	}
	args := f.list(fc.Args)
	if fc.AggDistinct {
		args = "DISTINCT " + args
	}
	return name + "(" + args + ")"
}

func (f *defFormatter) typeCast(tc *pg.TypeCast) string {
	t, err := sem.ResolveType(tc.TypeName)
	if err != nil {
		s, _ := deparse(&pg.Node{Node: &pg.Node_TypeCast{TypeCast: tc}})
		return s
	}
	if c := tc.Arg.GetAConst(); c != nil {
		if s, ok := c.Val.(*pg.A_Const_Sval); ok {
			return quoteLiteral(s.Sval.Sval) + "::" + t.SQLString()
		}
	}
	return "(" + f.expr(tc.Arg, precTop) + ")::" + t.SQLString()
}
