package sem

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

func (b *Builder) buildFunc(f *pg.FuncCall) (Expr, error) {
	name := funcName(f.Funcname)
	if f.Over != nil {
		return nil, posErr(sqlerr.Unsupported("window functions are not supported yet"), f.Location)
	}
	if IsAggregate(name) {
		return b.buildAgg(name, f)
	}
	args := make([]Expr, 0, len(f.Args))
	for _, a := range f.Args {
		e, err := b.Build(a)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	if e, ok, err := b.buildTimeFunc(name, args); ok {
		return e, withPos(err, f.Location)
	}
	if e, ok, err := b.buildArrayFunc(name, args); ok {
		return e, withPos(err, f.Location)
	}
	switch name {
	case "concat":
		return b.buildConcat(args)
	case "concat_ws":
		return b.buildConcatWS(args, f.Location)
	case "pg_typeof":
		if len(args) == 1 {
			return &Const{T: types.Text, V: args[0].Type().Name()}, nil
		}
	case "mod":
		if len(args) == 2 {
			return b.buildArith('%', args[0], args[1])
		}
	case "nullif":
		if len(args) == 2 {
			l, r, err := b.unify(args[0], args[1], "=")
			if err != nil {
				return nil, err
			}
			return &Case{Whens: []Expr{&Cmp{Op: EQ, L: l, R: r}}, Thens: []Expr{&Const{T: l.Type()}}, Else: l, T: l.Type()}, nil
		}
	case "trim":
		name = "btrim"
	}
	return b.buildScalar(name, args, f.Location)
}

func (b *Builder) buildConcat(args []Expr) (Expr, error) {
	ts := make([]types.T, len(args))
	for i := range args {
		if args[i].Type().Family == types.UnknownFamily {
			c, err := b.Coerce(args[i], types.Text)
			if err != nil {
				return nil, err
			}
			args[i] = c
		}
		ts[i] = args[i].Type()
	}
	return &Func{Name: "concat", Args: args, T: types.Text, Fn: func(c *Ctx, a []types.Datum) (types.Datum, error) {
		return concat(c, a, ts)
	}}, nil
}

// buildConcatWS is concat_ws(sep, args...): the non-NULL arguments joined
// by sep (NULL if sep is).
func (b *Builder) buildConcatWS(args []Expr, loc int32) (Expr, error) {
	if len(args) < 2 {
		return nil, posErr(noFunc("concat_ws", args), loc)
	}
	sep, err := b.Coerce(args[0], types.Text)
	if err != nil {
		return nil, posErr(noFunc("concat_ws", args), loc)
	}
	rest, err := b.buildConcat(args[1:])
	if err != nil {
		return nil, err
	}
	parts := rest.(*Func)
	ts := make([]types.T, len(parts.Args))
	for i, a := range parts.Args {
		ts[i] = a.Type()
	}
	all := append([]Expr{sep}, parts.Args...)
	return &Func{Name: "concat_ws", Args: all, T: types.Text, Fn: func(c *Ctx, a []types.Datum) (types.Datum, error) {
		if a[0] == nil {
			return nil, nil
		}
		var out []string
		for i, v := range a[1:] {
			if v != nil {
				out = append(out, types.String(ts[i], v))
			}
		}
		return strings.Join(out, a[0].(string)), nil
	}}, nil
}

func (b *Builder) buildScalar(name string, args []Expr, loc int32) (Expr, error) {
	d, ok := funcs[name]
	if !ok || d.fn == nil || len(args) > len(d.args) || len(args) < max(d.minArg, len(d.args)*boolInt(d.minArg == 0)) {
		return nil, posErr(noFunc(name, args), loc)
	}
	for i := range args {
		want := d.args[i]
		if want.Family == types.UnknownFamily { // any numeric type
			if t := args[i].Type(); !t.IsNumeric() && t.Family != types.UnknownFamily {
				return nil, posErr(noFunc(name, args), loc)
			}
			if args[i].Type().Family == types.UnknownFamily {
				c, err := b.Coerce(args[i], types.Numeric)
				if err != nil {
					return nil, err
				}
				args[i] = c
			}
			continue
		}
		if want == anyArray && args[i].Type().Family == types.ArrayFamily {
			continue
		}
		if want.Family == types.OidFamily && args[i].Type().IsReg() {
			args[i] = buildRegCast(want, args[i]) // pg_get_viewdef('v'::regclass)
			continue
		}
		c, err := b.Coerce(args[i], want)
		if err != nil {
			return nil, posErr(noFunc(name, args), loc)
		}
		args[i] = c
	}
	return &Func{Name: name, Args: args, T: d.ret(args), Strict: d.strict, Fn: d.fn}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func noFunc(name string, args []Expr) *pgcode.Error {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = a.Type().Name()
	}
	e := pgcode.New(pgcode.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(ts, ", "))
	e.Hint = "No function matches the given name and argument types. You might need to add explicit type casts."
	return e
}

func (b *Builder) buildAgg(name string, f *pg.FuncCall) (Expr, error) {
	if !b.AllowAggs {
		ctx := b.Context
		if ctx == "" {
			ctx = "WHERE"
		}
		return nil, posErr(pgcode.New(sqlerr.GroupingError, "aggregate functions are not allowed in %s", ctx), f.Location)
	}
	if b.inAgg {
		return nil, posErr(pgcode.New(sqlerr.GroupingError, "aggregate function calls cannot be nested"), f.Location)
	}
	spec := &AggSpec{Name: name, Distinct: f.AggDistinct}
	if err := b.aggArgs(spec, f); err != nil {
		return nil, err
	}
	if f.AggFilter != nil {
		inner := *b
		inner.inAgg, inner.Grouping, inner.Context = true, false, "FILTER"
		e, err := inner.buildBool(f.AggFilter)
		if err != nil {
			return nil, err
		}
		spec.Filter = e
	}
	if len(f.AggOrder) > 0 {
		return nil, posErr(sqlerr.Unsupported("ORDER BY in aggregate calls is not supported yet"), f.Location)
	}
	s := spec.String()
	for i, a := range b.Aggs {
		if a.String() == s {
			return &AggRef{Idx: len(b.GroupExprs) + i, T: a.T}, nil
		}
	}
	b.Aggs = append(b.Aggs, spec)
	return &AggRef{Idx: len(b.GroupExprs) + len(b.Aggs) - 1, T: spec.T}, nil
}

func (b *Builder) aggArgs(spec *AggSpec, f *pg.FuncCall) error {
	if f.AggStar {
		if spec.Name != "count" {
			return posErr(pgcode.New(pgcode.SyntaxError, "%s(*) is not supported", spec.Name), f.Location)
		}
		spec.T = types.Int8
		return nil
	}
	want := 1
	if spec.Name == "string_agg" {
		want = 2
	}
	if len(f.Args) != want {
		return posErr(pgcode.New(pgcode.UndefinedFunction, "function %s with %d arguments does not exist", spec.Name, len(f.Args)), f.Location)
	}
	inner := *b
	inner.inAgg, inner.Grouping = true, false
	arg, err := inner.Build(f.Args[0])
	if err != nil {
		return err
	}
	if arg, err = b.aggArgType(spec.Name, arg); err != nil {
		return posErr(err.(*pgcode.Error), f.Location)
	}
	spec.Arg = arg
	if want == 2 {
		sep, err := inner.Build(f.Args[1])
		if err != nil {
			return err
		}
		if spec.Sep, err = b.Coerce(sep, types.Text); err != nil {
			return err
		}
	}
	spec.T = aggType(spec.Name, arg)
	return nil
}

func (b *Builder) aggArgType(name string, arg Expr) (Expr, error) {
	t := arg.Type()
	switch name {
	case "sum", "avg":
		if t.Family == types.UnknownFamily {
			return b.Coerce(arg, types.Numeric)
		}
		if !t.IsNumeric() && t.Family != types.IntervalFamily {
			return nil, noFunc(name, []Expr{arg})
		}
	case "bool_and", "bool_or", "every":
		return b.Coerce(arg, types.Bool)
	case "string_agg":
		return b.Coerce(arg, types.Text)
	case "min", "max":
		if t.Family == types.UnknownFamily {
			return b.Coerce(arg, types.Text)
		}
	case "array_agg":
		if t.Family == types.UnknownFamily {
			return b.Coerce(arg, types.Text)
		}
		if _, ok := types.ArrayOf(t); !ok || t.Family == types.ArrayFamily {
			return nil, sqlerr.Unsupported("array_agg of %s is not supported", t.Name())
		}
	}
	return arg, nil
}

// ColumnName is the output name PostgreSQL gives an unnamed target.
func ColumnName(n *pg.Node) string {
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		f := x.ColumnRef.Fields
		if s := f[len(f)-1].GetString_(); s != nil {
			return s.Sval
		}
	case *pg.Node_FuncCall:
		return funcName(x.FuncCall.Funcname)
	case *pg.Node_TypeCast:
		if inner := ColumnName(x.TypeCast.Arg); inner != "?column?" {
			return inner
		}
		if t, err := ResolveType(x.TypeCast.TypeName); err == nil {
			return t.TypName()
		}
	case *pg.Node_SubLink:
		return subLinkName(x.SubLink)
	case *pg.Node_MinMaxExpr:
		return strings.ToLower(strings.TrimPrefix(x.MinMaxExpr.Op.String(), "IS_"))
	case *pg.Node_CaseExpr:
		return "case"
	case *pg.Node_CoalesceExpr:
		return "coalesce"
	case *pg.Node_SqlvalueFunction:
		return sqlValueName(x.SqlvalueFunction.Op)
	case *pg.Node_AExpr:
		if x.AExpr.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif"
		}
	}
	return "?column?"
}

func sqlValueName(op pg.SQLValueFunctionOp) string {
	s := strings.ToLower(strings.TrimPrefix(op.String(), "SVFOP_"))
	return strings.TrimSuffix(s, "_n")
}

func subLinkName(s *pg.SubLink) string {
	switch s.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return "exists"
	case pg.SubLinkType_EXPR_SUBLINK:
		if t := s.Subselect.GetSelectStmt().GetTargetList(); len(t) == 1 {
			rt := t[0].GetResTarget()
			if rt.Name != "" {
				return rt.Name
			}
			return ColumnName(rt.Val)
		}
	}
	return "?column?"
}
