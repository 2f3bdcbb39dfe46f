package sem

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

func opName(names []*pg.Node) string {
	s := ""
	for _, n := range names {
		s = n.GetString_().GetSval()
	}
	return s
}

func funcName(names []*pg.Node) string { return strings.ToLower(opName(names)) }

func (b *Builder) buildAExpr(a *pg.A_Expr) (Expr, error) {
	op := opName(a.Name)
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if a.Lexpr == nil {
			return b.buildUnary(op, a.Rexpr, a.Location)
		}
		if l, r := a.Lexpr.GetRowExpr(), a.Rexpr.GetRowExpr(); l != nil && r != nil {
			return b.buildRowCompare(op, l, r, a.Location)
		}
		return b.buildBinary(op, a.Lexpr, a.Rexpr, a.Location)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return b.buildArrayQuantified(a)
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		return b.buildBinary(op, a.Lexpr, a.Rexpr, a.Location)
	case pg.A_Expr_Kind_AEXPR_IN:
		return b.buildIn(a, op == "<>")
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		return b.buildBetween(a)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, r, err := b.buildPair(a.Lexpr, a.Rexpr, "=")
		if err != nil {
			return nil, err
		}
		op := Distinct
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			op = NotDistinct
		}
		return &Cmp{Op: op, L: l, R: r}, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		l, r, err := b.buildPair(a.Lexpr, a.Rexpr, "=")
		if err != nil {
			return nil, err
		}
		return &Case{Whens: []Expr{&Cmp{Op: EQ, L: l, R: r}}, Thens: []Expr{&Const{T: l.Type()}}, Else: l, T: l.Type()}, nil
	}
	return nil, posErr(sqlerr.Unsupported("operator kind %s is not supported", a.Kind), a.Location)
}

func (b *Builder) buildPair(ln, rn *pg.Node, op string) (Expr, Expr, error) {
	l, err := b.Build(ln)
	if err != nil {
		return nil, nil, err
	}
	r, err := b.Build(rn)
	if err != nil {
		return nil, nil, err
	}
	return b.unify(l, r, op)
}

func (b *Builder) buildUnary(op string, n *pg.Node, loc int32) (Expr, error) {
	arg, err := b.Build(n)
	if err != nil {
		return nil, err
	}
	if op != "-" && op != "+" {
		return nil, posErr(sqlerr.Unsupported("unary operator %s", op), loc)
	}
	if arg, err = b.unaryArg(op, arg); err != nil {
		return nil, posErr(err.(*pgcode.Error), loc)
	}
	if op == "+" {
		return arg, nil
	}
	if k, ok := arg.(*Const); ok && k.V != nil {
		if v, err := (&Neg{Arg: k}).Eval(nil, nil); err == nil {
			return &Const{T: k.T, V: v}, nil
		}
	}
	return &Neg{Arg: arg}, nil
}

// unaryArg types the operand of prefix + or -: PostgreSQL has them for
// the numeric types (and - for interval) only, and cannot choose among
// them for an untyped operand.
func (b *Builder) unaryArg(op string, arg Expr) (Expr, error) {
	t := arg.Type()
	switch {
	case t.IsNumeric(), t.Family == types.IntervalFamily && op == "-":
		return arg, nil
	case t.Family == types.UnknownFamily && op == "+":
		return b.Coerce(arg, types.Float8)
	case t.Family == types.UnknownFamily:
		e := pgcode.New(sqlerr.AmbiguousFunction, "operator is not unique: %s unknown", op)
		e.Hint = "Could not choose a best candidate operator. You might need to add explicit type casts."
		return nil, e
	}
	e := pgcode.New(pgcode.UndefinedFunction, "operator does not exist: %s %s", op, t.Name())
	e.Hint = "No operator matches the given name and argument type. You might need to add an explicit type cast."
	return nil, e
}

func (b *Builder) buildBinary(op string, ln, rn *pg.Node, loc int32) (Expr, error) {
	l, err := b.Build(ln)
	if err != nil {
		return nil, err
	}
	r, err := b.Build(rn)
	if err != nil {
		return nil, err
	}
	if e, ok, err := b.buildJSONOp(op, l, r); ok {
		return e, withPos(err, loc)
	}
	if e, ok, err := b.buildArrayContains(op, l, r); ok {
		return e, withPos(err, loc)
	}
	if c, ok := cmpNames[op]; ok {
		l, r, err := b.unify(l, r, op)
		if err != nil {
			return nil, withPos(err, loc)
		}
		return &Cmp{Op: c, L: l, R: r}, nil
	}
	switch op {
	case "+", "-", "*", "/", "%":
		e, err := b.buildArith(op[0], l, r)
		return e, withPos(err, loc)
	case "||":
		if e, ok, err := b.buildArrayConcat(l, r); ok {
			return e, withPos(err, loc)
		}
		if l, err = b.textOrSelf(l); err == nil {
			r, err = b.textOrSelf(r)
		}
		return &Concat{L: l, R: r}, err
	case "~~", "!~~", "~~*", "!~~*", "~", "!~", "~*", "!~*":
		if l, err = b.Coerce(l, types.Text); err == nil {
			r, err = b.Coerce(r, types.Text)
		}
		like := strings.Contains(op, "~~")
		return &Match{L: l, R: r, Not: op[0] == '!', Ins: strings.HasSuffix(op, "*"), Like: like}, withPos(err, loc)
	}
	return nil, posErr(pgcode.New(pgcode.UndefinedFunction, "operator does not exist: %s %s %s", l.Type().Name(), op, r.Type().Name()), loc)
}

func (b *Builder) textOrSelf(e Expr) (Expr, error) {
	if e.Type().Family == types.UnknownFamily || e.Type().OID == types.BPChar.OID {
		return b.Coerce(e, types.Text)
	}
	return e, nil
}

func (b *Builder) buildArith(op byte, l, r Expr) (Expr, error) {
	lt, rt := l.Type(), r.Type()
	if t, ok := timeArithType(op, lt, rt); ok {
		return &Arith{Op: op, L: l, R: r, T: t}, nil
	}
	if lt.Family == types.UnknownFamily && rt.Family == types.UnknownFamily {
		return nil, pgcode.New(pgcode.UndefinedFunction, "operator is not unique: unknown %c unknown", op)
	}
	l, r, err := b.unify(l, r, string(op))
	if err != nil {
		return nil, err
	}
	t := l.Type()
	if !t.IsNumeric() {
		return nil, pgcode.New(pgcode.UndefinedFunction, "operator does not exist: %s %c %s", t.Name(), op, r.Type().Name())
	}
	if t.Family == types.IntFamily && intRank(r.Type()) > intRank(t) {
		t = r.Type()
	}
	if t.Family == types.FloatFamily && r.Type().OID == types.Float8.OID {
		t = types.Float8
	}
	t.Width, t.Prec, t.Scale = 0, 0, 0
	return &Arith{Op: op, L: l, R: r, T: t}, nil
}

func intRank(t types.T) int {
	switch t.OID {
	case types.Int2.OID:
		return 1
	case types.Int4.OID:
		return 2
	}
	return 3
}

// timeArithType types date/time arithmetic.
func timeArithType(op byte, l, r types.T) (types.T, bool) {
	f := func(t types.T, fam types.Family) bool { return t.Family == fam }
	switch {
	case (f(l, types.TimestampFamily) || f(l, types.TimestampTZFamily)) && f(r, types.IntervalFamily) && (op == '+' || op == '-'):
		return l, true
	case f(l, types.DateFamily) && f(r, types.IntFamily) && (op == '+' || op == '-'):
		return types.Date, true
	case f(l, types.DateFamily) && f(r, types.IntervalFamily) && (op == '+' || op == '-'):
		return types.Timestamp, true
	case f(l, types.DateFamily) && f(r, types.DateFamily) && op == '-':
		return types.Int4, true
	case isTimeT(l) && l == r && op == '-':
		return types.Interval, true
	case f(l, types.IntervalFamily) && f(r, types.IntervalFamily) && (op == '+' || op == '-'):
		return types.Interval, true
	}
	return types.T{}, false
}

func (b *Builder) buildIn(a *pg.A_Expr, not bool) (Expr, error) {
	arg, err := b.Build(a.Lexpr)
	if err != nil {
		return nil, err
	}
	list := a.Rexpr.GetList()
	if list == nil {
		return nil, posErr(sqlerr.Unsupported("IN (subquery) is not supported yet"), a.Location)
	}
	in := &In{Arg: arg, Not: not}
	for _, n := range list.Items {
		e, err := b.Build(n)
		if err != nil {
			return nil, err
		}
		in.List = append(in.List, e)
	}
	return b.unifyIn(in, a.Location)
}

func (b *Builder) unifyIn(in *In, loc int32) (Expr, error) {
	t := in.Arg.Type()
	for _, e := range in.List {
		if t.Family == types.UnknownFamily {
			t = e.Type()
		} else if e.Type().IsNumeric() && t.IsNumeric() && e.Type().Family != t.Family {
			t = types.Numeric
			if e.Type().Family == types.FloatFamily || t.Family == types.FloatFamily {
				t = types.Float8
			}
		}
	}
	if t.Family == types.UnknownFamily {
		t = types.Text
	}
	var err error
	if in.Arg, err = b.Coerce(in.Arg, t); err != nil {
		return nil, withPos(err, loc)
	}
	for i := range in.List {
		if in.List[i], err = b.Coerce(in.List[i], t); err != nil {
			return nil, withPos(err, loc)
		}
	}
	return in, nil
}

func (b *Builder) buildBetween(a *pg.A_Expr) (Expr, error) {
	items := a.Rexpr.GetList().GetItems()
	if len(items) != 2 {
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "malformed BETWEEN"), a.Location)
	}
	lo, err := b.buildBinary(">=", a.Lexpr, items[0], a.Location)
	if err != nil {
		return nil, err
	}
	hi, err := b.buildBinary("<=", a.Lexpr, items[1], a.Location)
	if err != nil {
		return nil, err
	}
	var e Expr = &And{L: lo, R: hi}
	if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN {
		e = &Not{Arg: e}
	}
	return e, nil
}

func (b *Builder) buildBool(n *pg.Node) (Expr, error) {
	e, err := b.Build(n)
	if err != nil {
		return nil, err
	}
	return b.Predicate(e)
}

// Predicate coerces e to boolean (42804 if it is not).
func (b *Builder) Predicate(e Expr) (Expr, error) {
	if e.Type().Family == types.BoolFamily {
		return e, nil
	}
	if e.Type().Family == types.UnknownFamily {
		return b.Coerce(e, types.Bool)
	}
	ctx := b.Context
	if ctx == "" {
		ctx = "WHERE"
	}
	return nil, pgcode.New(sqlerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s", ctx, e.Type().Name())
}

func (b *Builder) buildBoolExpr(x *pg.BoolExpr) (Expr, error) {
	var out Expr
	for _, a := range x.Args {
		e, err := b.buildBool(a)
		if err != nil {
			return nil, err
		}
		switch {
		case x.Boolop == pg.BoolExprType_NOT_EXPR:
			return &Not{Arg: e}, nil
		case out == nil:
			out = e
		case x.Boolop == pg.BoolExprType_AND_EXPR:
			out = &And{L: out, R: e}
		default:
			out = &Or{L: out, R: e}
		}
	}
	return out, nil
}

func (b *Builder) buildBoolTest(x *pg.BooleanTest) (Expr, error) {
	arg, err := b.buildBool(x.Arg)
	if err != nil {
		return nil, err
	}
	t := &BoolTest{Arg: arg}
	switch x.Booltesttype {
	case pg.BoolTestType_IS_TRUE:
		t.Want = true
	case pg.BoolTestType_IS_NOT_TRUE:
		t.Want, t.Not = true, true
	case pg.BoolTestType_IS_FALSE:
		t.Want = false
	case pg.BoolTestType_IS_NOT_FALSE:
		t.Want, t.Not = false, true
	case pg.BoolTestType_IS_NOT_UNKNOWN:
		t.Not = true
	}
	return t, nil
}

func (b *Builder) buildCase(c *pg.CaseExpr) (Expr, error) {
	out := &Case{}
	var arg Expr
	var err error
	if c.Arg != nil {
		if arg, err = b.Build(c.Arg); err != nil {
			return nil, err
		}
	}
	var results []Expr
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		cond, err := b.caseCond(arg, cw.Expr)
		if err != nil {
			return nil, err
		}
		res, err := b.Build(cw.Result)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, cond)
		results = append(results, res)
	}
	if c.Defresult != nil {
		e, err := b.Build(c.Defresult)
		if err != nil {
			return nil, err
		}
		results = append(results, e)
	}
	t, results, err := b.commonType(results)
	if err != nil {
		return nil, err
	}
	out.T = t
	out.Thens = results[:len(out.Whens)]
	if c.Defresult != nil {
		out.Else = results[len(results)-1]
	}
	return out, nil
}

func (b *Builder) caseCond(arg Expr, n *pg.Node) (Expr, error) {
	if arg == nil {
		return b.buildBool(n)
	}
	w, err := b.Build(n)
	if err != nil {
		return nil, err
	}
	l, r, err := b.unify(arg, w, "=")
	if err != nil {
		return nil, err
	}
	return &Cmp{Op: EQ, L: l, R: r}, nil
}

// commonType resolves the type of CASE/COALESCE branches.
func (b *Builder) commonType(es []Expr) (types.T, []Expr, error) {
	t := types.Unknown
	for _, e := range es {
		et := e.Type()
		switch {
		case t.Family == types.UnknownFamily:
			t = et
		case et.IsNumeric() && t.IsNumeric() && et != t:
			t = widerNumeric(t, et)
		}
	}
	if t.Family == types.UnknownFamily {
		t = types.Text
	}
	out := make([]Expr, len(es))
	for i, e := range es {
		c, err := b.Coerce(e, t)
		if err != nil {
			return t, nil, err
		}
		out[i] = c
	}
	return t, out, nil
}

func widerNumeric(a, b types.T) types.T {
	switch {
	case a.Family == types.FloatFamily || b.Family == types.FloatFamily:
		return types.Float8
	case a.Family == types.DecimalFamily || b.Family == types.DecimalFamily:
		return types.Numeric
	case intRank(b) > intRank(a):
		return b
	}
	return a
}

func (b *Builder) buildCoalesce(args []*pg.Node) (Expr, error) {
	var es []Expr
	for _, a := range args {
		e, err := b.Build(a)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	t, es, err := b.commonType(es)
	if err != nil {
		return nil, err
	}
	return &Coalesce{Args: es, T: t}, nil
}

func (b *Builder) buildSQLValueFunc(f *pg.SQLValueFunction) (Expr, error) {
	name := map[pg.SQLValueFunctionOp]string{
		pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP: "now", pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: "now",
		pg.SQLValueFunctionOp_SVFOP_CURRENT_USER: "current_user", pg.SQLValueFunctionOp_SVFOP_SESSION_USER: "session_user",
		pg.SQLValueFunctionOp_SVFOP_USER: "current_user", pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE: "current_user",
		pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG: "current_database", pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA: "current_schema",
	}[f.Op]
	switch f.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		return &Cast{Arg: b.mustFunc("now"), T: types.Date}, nil
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		return &Cast{Arg: b.mustFunc("now"), T: types.Timestamp}, nil
	}
	if name == "" {
		return nil, posErr(sqlerr.Unsupported("%s is not supported", f.Op), f.Location)
	}
	return b.mustFunc(name), nil
}

func (b *Builder) mustFunc(name string) Expr {
	d := funcs[name]
	return &Func{Name: name, T: d.ret(nil), Fn: d.fn}
}

// Compare builds l op r for two built expressions, unifying their types
// (op is one of = <> < <= > >=).
func (b *Builder) Compare(op string, l, r Expr) (Expr, error) {
	c, ok := cmpNames[op]
	if !ok {
		return nil, sqlerr.Unsupported("comparison operator %s", op)
	}
	l, r, err := b.unify(l, r, op)
	if err != nil {
		return nil, err
	}
	return &Cmp{Op: c, L: l, R: r}, nil
}

// GreatestLeast is GREATEST(...) or LEAST(...): the largest (smallest)
// non-NULL argument, NULL if all are.
type GreatestLeast struct {
	Args  []Expr
	Least bool
	T     types.T
}

func (e *GreatestLeast) Type() types.T { return e.T }
func (e *GreatestLeast) String() string {
	return fmt.Sprintf("greatest(%v %v)", e.Least, e.Args)
}
func (e *GreatestLeast) Eval(c *Ctx, r Row) (types.Datum, error) {
	var best types.Datum
	for _, a := range e.Args {
		v, err := a.Eval(c, r)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if best == nil || (types.Compare(v, best) < 0) == e.Least && types.Compare(v, best) != 0 {
			best = v
		}
	}
	return best, nil
}

func (b *Builder) buildMinMax(m *pg.MinMaxExpr) (Expr, error) {
	var es []Expr
	for _, a := range m.Args {
		e, err := b.Build(a)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	t, es, err := b.commonType(es)
	if err != nil {
		return nil, withPos(err, m.Location)
	}
	return &GreatestLeast{Args: es, Least: m.Op == pg.MinMaxOp_IS_LEAST, T: t}, nil
}
