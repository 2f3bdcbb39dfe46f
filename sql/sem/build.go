package sem

import (
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// Builder turns expression nodes into Exprs.
type Builder struct {
	Scope Scope
	// Params holds the statement's parameter types, shared by every
	// Builder of the statement; Unknown until inferred.
	Params *[]types.T
	// Loc parses timestamptz literals.
	Loc *time.Location
	// AllowAggs permits aggregate calls (SELECT list, HAVING, ORDER BY).
	AllowAggs bool
	// Grouping is set when the query aggregates: column references must
	// match a GROUP BY expression or be inside an aggregate.
	Grouping   bool
	GroupExprs []Expr
	Aggs       []*AggSpec
	// Context names the clause for error messages ("WHERE").
	Context string
	// Subquery plans subqueries in expressions (nil: not allowed here);
	// Outer are the scopes of the enclosing queries, innermost last.
	Subquery SubqueryPlanner
	Outer    []*OuterScope
	inAgg    bool
}

// NewParams returns a parameter type list from client-declared OIDs.
func NewParams(oids []uint32) *[]types.T {
	ts := make([]types.T, len(oids))
	for i, o := range oids {
		if t, ok := types.FromOID(o); ok && o != 0 {
			ts[i] = t
		} else {
			ts[i] = types.Unknown
		}
	}
	return &ts
}

func posErr(e *pgcode.Error, loc int32) *pgcode.Error {
	if loc >= 0 {
		e.Position = loc + 1
	}
	return e
}

// Build builds an expression.
func (b *Builder) Build(n *pg.Node) (Expr, error) {
	if b.Grouping && !b.inAgg {
		if e, ok := b.matchGroup(n); ok {
			return e, nil
		}
	}
	switch x := n.Node.(type) {
	case *pg.Node_AConst:
		return buildConst(x.AConst)
	case *pg.Node_ColumnRef:
		return b.buildColumnRef(x.ColumnRef)
	case *pg.Node_ParamRef:
		return b.buildParam(x.ParamRef)
	case *pg.Node_TypeCast:
		return b.buildCast(x.TypeCast)
	case *pg.Node_AExpr:
		return b.buildAExpr(x.AExpr)
	case *pg.Node_BoolExpr:
		return b.buildBoolExpr(x.BoolExpr)
	case *pg.Node_NullTest:
		if r := x.NullTest.Arg.GetRowExpr(); r != nil {
			return b.buildRowNullTest(r, x.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL)
		}
		arg, err := b.Build(x.NullTest.Arg)
		if err != nil {
			return nil, err
		}
		return &IsNull{Arg: arg, Not: x.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL}, nil
	case *pg.Node_BooleanTest:
		return b.buildBoolTest(x.BooleanTest)
	case *pg.Node_FuncCall:
		return b.buildFunc(x.FuncCall)
	case *pg.Node_CaseExpr:
		return b.buildCase(x.CaseExpr)
	case *pg.Node_CoalesceExpr:
		return b.buildCoalesce(x.CoalesceExpr.Args)
	case *pg.Node_SqlvalueFunction:
		return b.buildSQLValueFunc(x.SqlvalueFunction)
	case *pg.Node_SubLink:
		return b.buildSubLink(x.SubLink)
	case *pg.Node_MinMaxExpr:
		return b.buildMinMax(x.MinMaxExpr)
	case *pg.Node_CollateClause:
		// Only the default collation exists: COLLATE changes nothing.
		return b.Build(x.CollateClause.Arg)
	case *pg.Node_AArrayExpr:
		return b.buildArrayExpr(x.AArrayExpr)
	case *pg.Node_AIndirection:
		return b.buildIndirection(x.AIndirection)
	}
	return nil, sqlerr.Unsupported("expression not supported: %T", n.Node)
}

// matchGroup returns a reference to a GROUP BY expression that n computes.
func (b *Builder) matchGroup(n *pg.Node) (Expr, bool) {
	if _, ok := n.Node.(*pg.Node_AConst); ok {
		return nil, false
	}
	if fc, ok := n.Node.(*pg.Node_FuncCall); ok && IsAggregate(funcName(fc.FuncCall.Funcname)) {
		return nil, false
	}
	plain := *b
	plain.Grouping, plain.AllowAggs = false, false
	e, err := plain.Build(n)
	if err != nil {
		return nil, false
	}
	s := e.String()
	for i, g := range b.GroupExprs {
		if g.String() == s {
			return &AggRef{Idx: i, T: g.Type()}, true
		}
	}
	return nil, false
}

func buildConst(c *pg.A_Const) (Expr, error) {
	if c.Isnull {
		return &Const{T: types.Unknown}, nil
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return &Const{T: types.Int4, V: int64(v.Ival.Ival)}, nil
	case *pg.A_Const_Fval:
		if n, err := strconv.ParseInt(v.Fval.Fval, 10, 64); err == nil {
			return &Const{T: types.Int8, V: n}, nil
		}
		d, err := types.ParseText(types.Numeric, v.Fval.Fval, nil)
		return &Const{T: types.Numeric, V: d}, err
	case *pg.A_Const_Sval:
		return &Const{T: types.Unknown, V: v.Sval.Sval}, nil
	case *pg.A_Const_Boolval:
		return &Const{T: types.Bool, V: v.Boolval.Boolval}, nil
	}
	return nil, sqlerr.Unsupported("constant not supported")
}

func (b *Builder) buildColumnRef(c *pg.ColumnRef) (Expr, error) {
	table, name, err := ColumnRefName(c)
	if err != nil {
		return nil, err
	}
	i, err := b.Scope.Resolve(table, name, c.Location+1)
	if err != nil {
		if pe, ok := err.(*pgcode.Error); ok && pe.Code == sqlerr.AmbiguousColumn {
			return nil, err
		}
		if e, found, oerr := b.resolveOuter(table, name, c.Location+1); found {
			return e, oerr
		}
		return nil, err
	}
	if b.Grouping && !b.inAgg {
		q := name
		if tn := b.Scope[i].Table; tn != "" {
			q = tn + "." + name
		}
		return nil, posErr(pgcode.New(sqlerr.GroupingError,
			"column %q must appear in the GROUP BY clause or be used in an aggregate function", q), c.Location)
	}
	return &ColRef{Idx: i, T: b.Scope[i].T, Name: name}, nil
}

// ColumnRefName splits a column reference into table and column.
func ColumnRefName(c *pg.ColumnRef) (table, name string, err error) {
	var parts []string
	for _, f := range c.Fields {
		s, ok := f.Node.(*pg.Node_String_)
		if !ok {
			return "", "", posErr(pgcode.New(pgcode.SyntaxError, "* is not allowed here"), c.Location)
		}
		parts = append(parts, s.String_.Sval)
	}
	switch len(parts) {
	case 1:
		return "", parts[0], nil
	case 2:
		return parts[0], parts[1], nil
	case 3:
		return parts[1], parts[2], nil
	}
	return "", "", sqlerr.Unsupported("column reference %s", strings.Join(parts, "."))
}

func (b *Builder) buildParam(p *pg.ParamRef) (Expr, error) {
	idx := int(p.Number) - 1
	if idx < 0 || idx > 65535 {
		return nil, posErr(pgcode.New(sqlerr.UndefinedParameter, "there is no parameter $%d", p.Number), p.Location)
	}
	for len(*b.Params) <= idx {
		*b.Params = append(*b.Params, types.Unknown)
	}
	return &Param{Idx: idx, T: (*b.Params)[idx]}, nil
}

// ResolveType maps a TypeName to a type.
func ResolveType(tn *pg.TypeName) (types.T, error) {
	name := ""
	for _, n := range tn.Names {
		name = n.GetString_().GetSval()
	}
	if len(tn.ArrayBounds) > 0 {
		return resolveArrayType(tn)
	}
	t, ok := types.Lookup(name)
	if !ok {
		return types.T{}, posErr(pgcode.New(pgcode.UndefinedObject, "type %q does not exist", name), tn.Location)
	}
	mods := make([]int32, 0, len(tn.Typmods))
	for _, m := range tn.Typmods {
		if c := m.GetAConst(); c != nil && c.GetIval() != nil {
			mods = append(mods, c.GetIval().Ival)
		}
	}
	switch {
	case t.Family == types.StringFamily && len(mods) > 0:
		t = t.WithWidth(mods[0])
	case t.OID == types.BPChar.OID && (name == "bpchar" || name == "char" || name == "character") && len(mods) == 0:
		t = t.WithWidth(1)
	case t.Family == types.DecimalFamily && len(mods) > 0:
		s := int32(0)
		if len(mods) > 1 {
			s = mods[1]
		}
		t = t.WithPrecision(mods[0], s)
	}
	return t, nil
}

func (b *Builder) buildCast(c *pg.TypeCast) (Expr, error) {
	t, err := castType(c.TypeName)
	if err != nil {
		return nil, err
	}
	arg, err := b.Build(c.Arg)
	if err != nil {
		return nil, err
	}
	if e, ok := foldCatalogRegclass(c.TypeName, arg); ok {
		return e, nil
	}
	if e, ok := numericRegLiteral(t, arg); ok {
		return e, nil
	}
	if e := buildRegCast(t, arg); e != nil {
		return e, nil
	}
	if k, ok := arg.(*Const); ok && k.T.Family == types.UnknownFamily {
		if k.V == nil {
			return &Const{T: t}, nil
		}
		v, err := types.ParseText(t, k.V.(string), b.Loc)
		if err != nil {
			return nil, withPos(err, c.Location)
		}
		v, err = types.Cast(v, t, t, b.Loc)
		return &Const{T: t, V: v}, withPos(err, c.Location)
	}
	if p, ok := arg.(*Param); ok && p.T.Family == types.UnknownFamily {
		b.setParam(p, t)
		return p, nil
	}
	if !types.CanCast(arg.Type(), t) {
		return nil, withPos(types.CannotCast(arg.Type(), t), c.Location)
	}
	return &Cast{Arg: arg, T: t}, nil
}

func withPos(err error, loc int32) error {
	if e, ok := err.(*pgcode.Error); ok && e.Position == 0 {
		return posErr(e, loc)
	}
	return err
}

func (b *Builder) setParam(p *Param, t types.T) {
	p.T = t
	(*b.Params)[p.Idx] = t
}

// Coerce converts e to type t implicitly (untyped literals, parameters,
// numeric promotion); otherwise it fails with 42804.
func (b *Builder) Coerce(e Expr, t types.T) (Expr, error) {
	from := e.Type()
	if from.OID == types.BPChar.OID && t.Family == types.StringFamily && t.OID != types.BPChar.OID {
		return &Cast{Arg: e, T: t}, nil
	}
	if from.Family == types.ArrayFamily && t.Family == types.ArrayFamily && from.OID != t.OID {
		return b.coerceArray(e, t)
	}
	if from.Family == t.Family && t.Family != types.IntFamily && t.Family != types.FloatFamily {
		return e, nil
	}
	if from == t || t.Family == types.UnknownFamily {
		return e, nil
	}
	switch x := e.(type) {
	case *Const:
		if x.T.Family == types.UnknownFamily {
			if x.V == nil {
				return &Const{T: t}, nil
			}
			v, err := types.ParseText(t, x.V.(string), b.Loc)
			return &Const{T: t, V: v}, err
		}
	case *Param:
		if x.T.Family == types.UnknownFamily {
			b.setParam(x, t)
			return x, nil
		}
	}
	if from.Family == t.Family || (from.IsNumeric() && t.IsNumeric()) || (isTimeT(from) && isTimeT(t)) {
		return &Cast{Arg: e, T: t}, nil
	}
	return nil, pgcode.New(sqlerr.DatatypeMismatch, "cannot use %s as %s", from.Name(), t.Name())
}

// coerceArray converts an array to an array type of other elements when
// its elements convert implicitly (int[] to numeric[]).
func (b *Builder) coerceArray(e Expr, t types.T) (Expr, error) {
	if _, err := b.Coerce(&Const{T: e.Type().Elem()}, t.Elem()); err != nil {
		return nil, pgcode.New(sqlerr.DatatypeMismatch, "cannot use %s as %s", e.Type().Name(), t.Name())
	}
	return &Cast{Arg: e, T: t}, nil
}

func isTimeT(t types.T) bool {
	return t.Family == types.DateFamily || t.Family == types.TimestampFamily || t.Family == types.TimestampTZFamily
}

// AssignTo coerces e for storage in a column.
func (b *Builder) AssignTo(e Expr, t types.T, col string) (Expr, error) {
	from := e.Type()
	if from.Family == types.UnknownFamily {
		ce, err := b.Coerce(e, t)
		if err != nil {
			return nil, err
		}
		e = ce
	} else if !types.CanAssign(from, t) {
		err := pgcode.New(sqlerr.DatatypeMismatch, "column %q is of type %s but expression is of type %s", col, t.Name(), from.Name())
		err.Hint = "You will need to rewrite or cast the expression."
		return nil, err
	}
	if p, ok := e.(*Param); ok && p.T == t && t.TypeMod() < 0 {
		return e, nil // a parameter is decoded as its type, but not fitted to its modifiers
	}
	return &Cast{Arg: e, T: t, Assign: true}, nil
}

// unify gives two operands a common type for comparison or arithmetic.
func (b *Builder) unify(l, r Expr, op string) (Expr, Expr, error) {
	lt, rt := l.Type(), r.Type()
	var err error
	switch {
	case lt.Family == types.UnknownFamily && rt.Family == types.UnknownFamily:
		if l, err = b.Coerce(l, types.Text); err == nil {
			r, err = b.Coerce(r, types.Text)
		}
		return l, r, err
	case lt.Family == types.UnknownFamily:
		l, err = b.Coerce(l, rt)
		return l, r, err
	case rt.Family == types.UnknownFamily:
		r, err = b.Coerce(r, lt)
		return l, r, err
	case lt.Family == types.ArrayFamily && rt.Family == types.ArrayFamily && lt.OID != rt.OID:
		return nil, nil, pgcode.New(pgcode.UndefinedFunction, "operator does not exist: %s %s %s", lt.Name(), op, rt.Name())
	case lt.Family == rt.Family:
		return l, r, nil
	case rt.IsReg() && (lt.Family == types.OidFamily || lt.Family == types.IntFamily):
		return b.unify(l, regAsOID(r), op)
	case lt.IsReg() && (rt.Family == types.OidFamily || rt.Family == types.IntFamily):
		return b.unify(regAsOID(l), r, op)
	case lt.Family == types.OidFamily && rt.Family == types.IntFamily, lt.Family == types.IntFamily && rt.Family == types.OidFamily:
		return castTo(l, types.Int8), castTo(r, types.Int8), nil // oid = integer, as PostgreSQL's implicit int4 → oid
	case lt.IsNumeric() && rt.IsNumeric():
		t := types.Numeric
		if lt.Family == types.FloatFamily || rt.Family == types.FloatFamily {
			t = types.Float8
		}
		return castTo(l, t), castTo(r, t), nil
	case isTimeT(lt) && isTimeT(rt):
		t := types.Timestamp
		if lt.Family == types.TimestampTZFamily || rt.Family == types.TimestampTZFamily {
			t = types.TimestampTZ
		}
		return castTo(l, t), castTo(r, t), nil
	}
	return nil, nil, pgcode.New(pgcode.UndefinedFunction, "operator does not exist: %s %s %s", lt.Name(), op, rt.Name())
}

func castTo(e Expr, t types.T) Expr {
	if e.Type().Family == t.Family && (t.Family != types.ArrayFamily || e.Type().OID == t.OID) {
		return e
	}
	return &Cast{Arg: e, T: t}
}
