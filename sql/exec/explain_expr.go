package exec

import (
	"fmt"
	"strings"

	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// colName names a column of an operator's output row for EXPLAIN.
type colName struct{ table, name string }

// exprFmt renders a typed expression as EXPLAIN shows it, in PostgreSQL's
// style: column names for column references (qualified by their table
// when the row joins several), constants with their type
// ('alice'::text), every operator parenthesized.
type exprFmt struct {
	d       *describer
	cols    []colName
	qualify bool
	// agg renders AggRef i (a group key or an aggregate of the row the
	// expression is evaluated on); nil outside a grouped projection.
	agg func(i int) string
	// subs collects the subqueries met, for the operator to list.
	subs *[]*sem.Subquery
}

func newExprFmt(d *describer, cols []colName) *exprFmt {
	return &exprFmt{d: d, cols: cols, qualify: manyTables(cols)}
}

// manyTables reports whether the row's columns come from more than one
// table (PostgreSQL then qualifies every column reference).
func manyTables(cols []colName) bool {
	for _, c := range cols {
		if c.table != "" && c.table != cols[0].table {
			return true
		}
	}
	return false
}

func (f *exprFmt) col(i int) string {
	if i < 0 || i >= len(f.cols) {
		return fmt.Sprintf("$col%d", i+1)
	}
	c := f.cols[i]
	if f.qualify && c.table != "" {
		return quoteIdent(c.table) + "." + quoteIdent(c.name)
	}
	return quoteIdent(c.name)
}

var cmpOps = map[sem.CmpOp]string{sem.EQ: "=", sem.NE: "<>", sem.LT: "<", sem.LE: "<=", sem.GT: ">", sem.GE: ">=",
	sem.Distinct: "IS DISTINCT FROM", sem.NotDistinct: "IS NOT DISTINCT FROM"}

// expr renders e.
func (f *exprFmt) expr(e sem.Expr) string {
	switch x := e.(type) {
	case nil:
		return "NULL"
	case *sem.ColRef:
		return f.col(x.Idx)
	case *sem.Const:
		return constString(x)
	case *sem.Param:
		return fmt.Sprintf("$%d", x.Idx+1)
	case *sem.Cast:
		return fmt.Sprintf("(%s)::%s", f.expr(x.Arg), x.T.SQLString())
	case *sem.And:
		return fmt.Sprintf("(%s AND %s)", f.unparen(x.L, "AND"), f.unparen(x.R, "AND"))
	case *sem.Or:
		return fmt.Sprintf("(%s OR %s)", f.unparen(x.L, "OR"), f.unparen(x.R, "OR"))
	case *sem.Not:
		return fmt.Sprintf("(NOT %s)", f.expr(x.Arg))
	case *sem.Cmp:
		return fmt.Sprintf("(%s %s %s)", f.expr(x.L), cmpOps[x.Op], f.expr(x.R))
	case *sem.Arith:
		return fmt.Sprintf("(%s %c %s)", f.expr(x.L), x.Op, f.expr(x.R))
	case *sem.Neg:
		return fmt.Sprintf("(- %s)", f.expr(x.Arg))
	case *sem.Concat:
		return fmt.Sprintf("(%s || %s)", f.expr(x.L), f.expr(x.R))
	case *sem.IsNull:
		return fmt.Sprintf("(%s IS %sNULL)", f.expr(x.Arg), not(x.Not))
	case *sem.BoolTest:
		return fmt.Sprintf("(%s IS %s%s)", f.expr(x.Arg), not(x.Not), boolWord(x.Want))
	case *sem.In:
		return fmt.Sprintf("(%s %sIN (%s))", f.expr(x.Arg), not(x.Not), f.list(x.List))
	case *sem.Func:
		return fmt.Sprintf("%s(%s)", x.Name, f.list(x.Args))
	case *sem.Coalesce:
		return fmt.Sprintf("COALESCE(%s)", f.list(x.Args))
	case *sem.Case:
		return f.caseExpr(x)
	case *sem.AggRef:
		if f.agg != nil {
			return f.agg(x.Idx)
		}
	case *sem.OuterRef:
		return f.d.outerCol(x)
	case *sem.Subquery:
		return f.subquery(x)
	}
	if s, ok := f.arrayExpr(e); ok {
		return s
	}
	return e.String()
}

// arrayExpr renders the array expressions as PostgreSQL prints them.
func (f *exprFmt) arrayExpr(e sem.Expr) (string, bool) {
	switch x := e.(type) {
	case *sem.Subscript:
		return fmt.Sprintf("%s[%s]", f.expr(x.Array), f.expr(x.Index)), true
	case *sem.Slice:
		bound := func(b sem.Expr) string {
			if b == nil {
				return ""
			}
			return f.expr(b)
		}
		return fmt.Sprintf("%s[%s:%s]", f.expr(x.Array), bound(x.Lo), bound(x.Hi)), true
	case *sem.ArrayConcat:
		return fmt.Sprintf("(%s || %s)", f.expr(x.L), f.expr(x.R)), true
	case *sem.ArrayContains:
		l, op, r := x.L, "@>", x.R
		switch {
		case x.Overlap:
			op = "&&"
		case x.Contained:
			l, op, r = r, "<@", l
		}
		return fmt.Sprintf("(%s %s %s)", f.expr(l), op, f.expr(r)), true
	case *sem.ArrayQuantified:
		q := "ANY"
		if x.All {
			q = "ALL"
		}
		return fmt.Sprintf("(%s %s %s (%s))", f.expr(x.Arg), cmpOps[x.Op], q, f.expr(x.Array)), true
	case *sem.ArrayExpr:
		if k, ok := constArray(x); ok {
			return constString(k), true // PostgreSQL folds ARRAY[2, 4] into '{2,4}'
		}
		return fmt.Sprintf("ARRAY[%s]", f.list(x.Elems)), true
	}
	return "", false
}

// constArray is ARRAY[...] of constants as one constant.
func constArray(x *sem.ArrayExpr) (*sem.Const, bool) {
	v := make([]types.Datum, len(x.Elems))
	for i, e := range x.Elems {
		k, ok := e.(*sem.Const)
		if !ok {
			return nil, false
		}
		v[i] = k.V
	}
	return &sem.Const{T: x.T, V: v}, true
}

// unparen drops the parentheses of a nested AND in an AND (likewise OR),
// as PostgreSQL prints a flattened list.
func (f *exprFmt) unparen(e sem.Expr, op string) string {
	s := f.expr(e)
	switch e.(type) {
	case *sem.And:
		if op == "AND" {
			return s[1 : len(s)-1]
		}
	case *sem.Or:
		if op == "OR" {
			return s[1 : len(s)-1]
		}
	}
	return s
}

func (f *exprFmt) list(es []sem.Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = f.expr(e)
	}
	return strings.Join(parts, ", ")
}

func (f *exprFmt) caseExpr(x *sem.Case) string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := range x.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", f.expr(x.Whens[i]), f.expr(x.Thens[i]))
	}
	if x.Else != nil {
		fmt.Fprintf(&b, " ELSE %s", f.expr(x.Else))
	}
	b.WriteString(" END")
	return b.String()
}

// subquery renders a subquery expression as a reference to the SubPlan
// (correlated: run per row) or InitPlan (run once) listed under the
// operator.
func (f *exprFmt) subquery(x *sem.Subquery) string {
	ref := f.d.subplanRef(x)
	if f.subs != nil {
		*f.subs = append(*f.subs, x)
	}
	switch x.Kind {
	case sem.ExistsSubquery:
		return "EXISTS(" + ref + ")"
	case sem.ArraySubquery:
		return "ARRAY(" + ref + ")"
	case sem.AnySubquery, sem.AllSubquery:
		q := "ANY"
		if x.Kind == sem.AllSubquery {
			q = "ALL"
		}
		if x.Arg == nil {
			return fmt.Sprintf("(ROW(%s) = %s (%s))", f.list(x.Args), q, ref)
		}
		return fmt.Sprintf("(%s %s %s (%s))", f.expr(x.Arg), cmpOps[x.Op], q, ref)
	}
	return "(" + ref + ")"
}

func not(b bool) string {
	if b {
		return "NOT "
	}
	return ""
}

func boolWord(d types.Datum) string {
	switch d {
	case true:
		return "TRUE"
	case false:
		return "FALSE"
	}
	return "UNKNOWN"
}

// constString renders a constant as PostgreSQL's EXPLAIN does: numbers
// and booleans bare, other values quoted with their type.
func constString(c *sem.Const) string {
	if c.V == nil {
		return "NULL"
	}
	s := types.String(c.T, c.V)
	switch c.T.Family {
	case types.IntFamily, types.FloatFamily, types.DecimalFamily:
		if !strings.HasPrefix(s, "-") {
			return s
		}
	case types.BoolFamily:
		return fmt.Sprint(c.V)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'::" + c.T.SQLString()
}
