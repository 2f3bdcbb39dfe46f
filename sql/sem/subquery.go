package sem

import (
	"fmt"
	"sync/atomic"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// SubPlan is a planned subquery; the executor implements it.
type SubPlan interface {
	// Run returns the subquery's rows. c.Outer holds the rows of the
	// enclosing queries, innermost last, for its outer references.
	Run(c *Ctx) ([]Row, error)
}

// SubqueryPlanner plans the subquery of a SubLink. outer is the builder
// of the enclosing expression: its scope becomes the subquery's innermost
// outer scope. It returns the plan, its column types and whether the
// subquery refers to an enclosing query (is correlated).
type SubqueryPlanner func(sel *pg.SelectStmt, outer *Builder) (SubPlan, []types.T, bool, error)

// OuterScope is the scope of an enclosing query, seen from a subquery.
type OuterScope struct {
	Scope Scope
	// Grouping is set when the enclosing expression is evaluated on
	// grouped rows (its group keys, then its aggregates): an outer
	// reference must then name a GROUP BY column.
	Grouping   bool
	GroupExprs []Expr
	// Used is set when the subquery, or one nested in it, refers to this
	// scope or one further out.
	Used bool
}

// OuterRef reads column Idx of the row of the enclosing query Depth
// subquery levels out (1 = the immediately enclosing query).
type OuterRef struct {
	Depth, Idx int
	T          types.T
}

func (e *OuterRef) Type() types.T { return e.T }
func (e *OuterRef) Eval(c *Ctx, _ Row) (types.Datum, error) {
	return c.Outer[len(c.Outer)-e.Depth][e.Idx], nil
}
func (e *OuterRef) String() string { return fmt.Sprintf("outer%d@%d", e.Depth, e.Idx) }

// resolveOuter finds a column in the enclosing queries' scopes.
func (b *Builder) resolveOuter(table, name string, pos int32) (Expr, bool, error) {
	for j := len(b.Outer) - 1; j >= 0; j-- {
		o := b.Outer[j]
		i, err := o.Scope.Resolve(table, name, pos)
		if err != nil {
			if pe, ok := err.(*pgcode.Error); ok && pe.Code == sqlerr.AmbiguousColumn {
				return nil, true, err
			}
			continue
		}
		for _, f := range b.Outer[j:] {
			f.Used = true
		}
		ref := &OuterRef{Depth: len(b.Outer) - j, Idx: i, T: o.Scope[i].T}
		if !o.Grouping {
			return ref, true, nil
		}
		for g, ge := range o.GroupExprs {
			if cr, ok := ge.(*ColRef); ok && cr.Idx == i {
				ref.Idx = g
				return ref, true, nil
			}
		}
		q := name
		if tn := o.Scope[i].Table; tn != "" {
			q = tn + "." + name
		}
		e := pgcode.New(sqlerr.GroupingError, "subquery uses ungrouped column %q from outer query", q)
		e.Position = pos
		return nil, true, e
	}
	return nil, false, nil
}

// SubqueryKind says what a subquery expression computes.
type SubqueryKind uint8

// Subquery expression kinds.
const (
	ScalarSubquery SubqueryKind = iota // (SELECT x ...)
	ExistsSubquery                     // EXISTS (SELECT ...)
	AnySubquery                        // x op ANY (SELECT ...), x IN (SELECT ...)
	AllSubquery                        // x op ALL (SELECT ...)
	ArraySubquery                      // ARRAY(SELECT x ...)
)

var subqueryIDs atomic.Uint64

// Subquery is a subquery used as an expression. An uncorrelated one runs
// once per execution (its rows are cached in the Ctx); a correlated one
// runs for every row it is evaluated on.
type Subquery struct {
	Kind       SubqueryKind
	Plan       SubPlan
	Correlated bool
	T          types.T
	// For ANY and ALL: Arg Op Elem, where Elem is computed from the
	// subquery's row (its first column, cast to the common type).
	Arg  Expr
	Op   CmpOp
	Elem Expr
	// Args and Elems replace Arg and Elem for (a, b, ...) IN (SELECT
	// x, y, ...): pairwise equality.
	Args, Elems []Expr
	id          uint64
}

func (e *Subquery) Type() types.T  { return e.T }
func (e *Subquery) String() string { return fmt.Sprintf("subquery%d", e.id) }

// Eval runs the subquery (or takes its cached rows) and computes the
// expression.
func (e *Subquery) Eval(c *Ctx, r Row) (types.Datum, error) {
	rows, err := e.rows(c, r)
	if err != nil {
		return nil, err
	}
	switch e.Kind {
	case ExistsSubquery:
		return len(rows) > 0, nil
	case ArraySubquery:
		return arrayOfRows(rows), nil
	case ScalarSubquery:
		switch len(rows) {
		case 0:
			return nil, nil
		case 1:
			return rows[0][0], nil
		}
		return nil, pgcode.New(sqlerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
	}
	return e.quantified(c, r, rows)
}

func (e *Subquery) rows(c *Ctx, r Row) ([]Row, error) {
	if !e.Correlated {
		if rows, ok := c.subCache[e]; ok {
			return rows, nil
		}
	}
	c.Outer = append(c.Outer, r)
	rows, err := e.Plan.Run(c)
	c.Outer = c.Outer[:len(c.Outer)-1]
	if err != nil {
		return nil, err
	}
	if !e.Correlated {
		if c.subCache == nil {
			c.subCache = map[*Subquery][]Row{}
		}
		c.subCache[e] = rows
	}
	return rows, nil
}

// quantified computes ANY or ALL with SQL's three-valued logic.
func (e *Subquery) quantified(c *Ctx, r Row, rows []Row) (types.Datum, error) {
	if len(rows) == 0 {
		return e.Kind == AllSubquery, nil
	}
	if e.Args != nil {
		return e.rowIn(c, r, rows)
	}
	v, err := e.Arg.Eval(c, r)
	if err != nil || v == nil {
		return nil, err
	}
	sawNull := false
	for _, row := range rows {
		w, err := e.Elem.Eval(c, row)
		if err != nil {
			return nil, err
		}
		if w == nil {
			sawNull = true
			continue
		}
		if cmpResult(e.Op, types.Compare(v, w)) == (e.Kind == AnySubquery) {
			return e.Kind == AnySubquery, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return e.Kind == AllSubquery, nil
}

// rowIn is (a, b, ...) = ANY (rows): true if some row equals pairwise,
// else NULL if some row might (a NULL pair), else false.
func (e *Subquery) rowIn(c *Ctx, r Row, rows []Row) (types.Datum, error) {
	vs := make([]types.Datum, len(e.Args))
	for i, a := range e.Args {
		v, err := a.Eval(c, r)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	var result types.Datum = false
	for _, row := range rows {
		var eq types.Datum = true
		for i, el := range e.Elems {
			w, err := el.Eval(c, row)
			if err != nil {
				return nil, err
			}
			if vs[i] == nil || w == nil {
				eq = nil
			} else if types.Compare(vs[i], w) != 0 {
				eq = false
				break
			}
		}
		if eq == true {
			return true, nil
		}
		if eq == nil {
			result = nil
		}
	}
	return result, nil
}

func (b *Builder) buildSubLink(s *pg.SubLink) (Expr, error) {
	if b.Subquery == nil {
		return nil, posErr(sqlerr.Unsupported("subqueries are not supported here"), s.Location)
	}
	var arg Expr
	if s.Testexpr != nil {
		if row := s.Testexpr.GetRowExpr(); row != nil {
			return b.buildRowSubLink(s, row)
		}
		var err error
		if arg, err = b.Build(s.Testexpr); err != nil {
			return nil, err
		}
	}
	plan, ts, corr, err := b.Subquery(s.Subselect.GetSelectStmt(), b)
	if err != nil {
		return nil, err
	}
	e := &Subquery{Plan: plan, Correlated: corr, id: subqueryIDs.Add(1)}
	switch s.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		e.Kind, e.T = ExistsSubquery, types.Bool
		return e, nil
	case pg.SubLinkType_EXPR_SUBLINK:
		if len(ts) != 1 {
			return nil, posErr(pgcode.New(pgcode.SyntaxError, "subquery must return only one column"), s.Location)
		}
		e.Kind, e.T = ScalarSubquery, ts[0]
		return e, nil
	case pg.SubLinkType_ANY_SUBLINK, pg.SubLinkType_ALL_SUBLINK:
		return b.quantify(e, s, arg, ts)
	case pg.SubLinkType_ARRAY_SUBLINK:
		return b.buildArraySubLink(e, s, ts)
	}
	return nil, posErr(sqlerr.Unsupported("%s is not supported yet", s.SubLinkType), s.Location)
}

// quantify types x op ANY/ALL (subquery).
func (b *Builder) quantify(e *Subquery, s *pg.SubLink, arg Expr, ts []types.T) (Expr, error) {
	if len(ts) != 1 {
		msg := "subquery has too many columns"
		if len(ts) == 0 {
			msg = "subquery has too few columns"
		}
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "%s", msg), s.Location)
	}
	op := "="
	if len(s.OperName) > 0 {
		op = opName(s.OperName)
	}
	c, ok := cmpNames[op]
	if !ok {
		return nil, posErr(sqlerr.Unsupported("operator %s with a subquery is not supported", op), s.Location)
	}
	l, r, err := b.unify(arg, &ColRef{Idx: 0, T: ts[0]}, op)
	if err != nil {
		return nil, withPos(err, s.Location)
	}
	e.Kind, e.T, e.Arg, e.Op, e.Elem = AnySubquery, types.Bool, l, c, r
	if s.SubLinkType == pg.SubLinkType_ALL_SUBLINK {
		e.Kind = AllSubquery
	}
	return e, nil
}

// OuterScope returns the builder's scope as seen from a subquery built in
// it.
func (b *Builder) OuterScope() *OuterScope {
	grouping := b.Grouping && !b.inAgg
	return &OuterScope{Scope: b.Scope, Grouping: grouping, GroupExprs: b.GroupExprs}
}

// buildRowSubLink is (a, b, ...) IN (SELECT x, y, ...).
func (b *Builder) buildRowSubLink(s *pg.SubLink, row *pg.RowExpr) (Expr, error) {
	op := "="
	if len(s.OperName) > 0 {
		op = opName(s.OperName)
	}
	if s.SubLinkType != pg.SubLinkType_ANY_SUBLINK || op != "=" {
		return nil, posErr(sqlerr.Unsupported("row comparisons with subqueries other than IN are not supported yet"), s.Location)
	}
	items, err := b.buildRowItems(row)
	if err != nil {
		return nil, err
	}
	plan, ts, corr, err := b.Subquery(s.Subselect.GetSelectStmt(), b)
	if err != nil {
		return nil, err
	}
	if len(ts) != len(items) {
		msg := "subquery has too many columns"
		if len(ts) < len(items) {
			msg = "subquery has too few columns"
		}
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "%s", msg), s.Location)
	}
	e := &Subquery{Kind: AnySubquery, T: types.Bool, Plan: plan, Correlated: corr, id: subqueryIDs.Add(1)}
	for i, it := range items {
		l, r, err := b.unify(it, &ColRef{Idx: i, T: ts[i]}, "=")
		if err != nil {
			return nil, withPos(err, s.Location)
		}
		e.Args, e.Elems = append(e.Args, l), append(e.Elems, r)
	}
	return e, nil
}
