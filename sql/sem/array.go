package sem

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// Arrays (see types/array.go): ARRAY[...], ARRAY(subquery), x op ANY/ALL
// (array), a || b, a[i], casts to array types, and the array functions
// psql's catalog queries call. Table columns may have array types.

// anyArray is the declared type of an argument that takes any array; an
// untyped literal passed for it is read as text[].
var anyArray = types.T{Family: types.ArrayFamily, OID: 1009}

// ArrayExpr is ARRAY[e1, e2, ...].
type ArrayExpr struct {
	Elems []Expr
	T     types.T
}

func (e *ArrayExpr) Type() types.T { return e.T }
func (e *ArrayExpr) Eval(c *Ctx, r Row) (types.Datum, error) {
	out := make([]types.Datum, len(e.Elems))
	for i, el := range e.Elems {
		v, err := el.Eval(c, r)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
func (e *ArrayExpr) String() string { return fmt.Sprintf("ARRAY%v", e.Elems) }

func (b *Builder) buildArrayExpr(a *pg.A_ArrayExpr) (Expr, error) {
	elems := make([]Expr, len(a.Elements))
	elemT := types.Unknown
	for i, n := range a.Elements {
		e, err := b.Build(n)
		if err != nil {
			return nil, err
		}
		elems[i] = e
		if t := e.Type(); elemT.Family == types.UnknownFamily && t.Family != types.UnknownFamily {
			elemT = t
		}
	}
	if elemT.Family == types.UnknownFamily {
		elemT = types.Text
	}
	t, ok := types.ArrayOf(elemT)
	if !ok {
		return nil, posErr(sqlerr.Unsupported("arrays of %s are not supported", elemT.Name()), a.Location)
	}
	for i := range elems {
		c, err := b.Coerce(elems[i], elemT)
		if err != nil {
			return nil, withPos(err, a.Location)
		}
		elems[i] = c
	}
	return &ArrayExpr{Elems: elems, T: t}, nil
}

// buildArraySubLink is ARRAY(subquery): the first column's values.
func (b *Builder) buildArraySubLink(e *Subquery, s *pg.SubLink, ts []types.T) (Expr, error) {
	if len(ts) != 1 {
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "subquery must return only one column"), s.Location)
	}
	elemT := ts[0]
	if elemT.Family == types.UnknownFamily {
		elemT = types.Text
	}
	t, ok := types.ArrayOf(elemT)
	if !ok {
		return nil, posErr(sqlerr.Unsupported("arrays of %s are not supported", elemT.Name()), s.Location)
	}
	e.Kind, e.T = ArraySubquery, t
	return e, nil
}

func arrayOfRows(rows []Row) types.Datum {
	out := make([]types.Datum, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out
}

// ArrayQuantified is x op ANY (array) or x op ALL (array).
type ArrayQuantified struct {
	Arg, Array Expr
	Op         CmpOp
	All        bool
}

func (e *ArrayQuantified) Type() types.T { return types.Bool }
func (e *ArrayQuantified) String() string {
	return fmt.Sprintf("(%s %d ANY/ALL(%v) %s)", e.Arg, e.Op, e.All, e.Array)
}

// Eval uses SQL's three-valued logic, as for a subquery.
func (e *ArrayQuantified) Eval(c *Ctx, r Row) (types.Datum, error) {
	v, err := e.Arg.Eval(c, r)
	if err != nil {
		return nil, err
	}
	a, err := e.Array.Eval(c, r)
	if err != nil || a == nil {
		return nil, err
	}
	elems := a.([]types.Datum)
	if len(elems) == 0 {
		return e.All, nil
	}
	if v == nil {
		return nil, nil
	}
	sawNull := false
	for _, w := range elems {
		if w == nil {
			sawNull = true
		} else if cmpResult(e.Op, types.Compare(v, w)) != e.All {
			return !e.All, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return e.All, nil
}

// buildArrayQuantified is x op ANY/SOME/ALL (array expression).
func (b *Builder) buildArrayQuantified(a *pg.A_Expr) (Expr, error) {
	op := opName(a.Name)
	c, ok := cmpNames[op]
	if !ok {
		return nil, posErr(sqlerr.Unsupported("operator %s with ANY/ALL is not supported", op), a.Location)
	}
	l, err := b.Build(a.Lexpr)
	if err != nil {
		return nil, err
	}
	r, err := b.Build(a.Rexpr)
	if err != nil {
		return nil, err
	}
	if r.Type().Family == types.UnknownFamily {
		lt := l.Type()
		if lt.Family == types.UnknownFamily {
			lt = types.Text
		}
		at, ok := types.ArrayOf(lt)
		if !ok {
			return nil, posErr(sqlerr.Unsupported("arrays of %s are not supported", lt.Name()), a.Location)
		}
		if r, err = b.Coerce(r, at); err != nil {
			return nil, withPos(err, a.Location)
		}
	}
	if r.Type().Family != types.ArrayFamily {
		return nil, posErr(pgcode.New(sqlerr.DatatypeMismatch, "op ANY/ALL (array) requires array on right side"), a.Location)
	}
	l, elem, err := b.unify(l, &Const{T: r.Type().Elem()}, op)
	if err != nil {
		return nil, withPos(err, a.Location)
	}
	if et := elem.Type(); et.Family != r.Type().Elem().Family { // int = ANY(numeric[]) the other way
		at, ok := types.ArrayOf(et)
		if !ok {
			return nil, posErr(sqlerr.Unsupported("arrays of %s are not supported", et.Name()), a.Location)
		}
		r = castTo(r, at)
	}
	return &ArrayQuantified{Arg: l, Array: r, Op: c, All: a.Kind == pg.A_Expr_Kind_AEXPR_OP_ALL}, nil
}

// ArrayConcat is array || array, array || element, element || array.
type ArrayConcat struct {
	L, R Expr
	T    types.T
}

func (e *ArrayConcat) Type() types.T  { return e.T }
func (e *ArrayConcat) String() string { return fmt.Sprintf("(%s || %s)", e.L, e.R) }
func (e *ArrayConcat) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil {
		return nil, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil {
		return nil, err
	}
	out := []types.Datum{}
	for _, side := range []struct {
		v types.Datum
		x Expr
	}{{l, e.L}, {rv, e.R}} {
		switch {
		case side.x.Type().Family != types.ArrayFamily:
			out = append(out, side.v)
		case side.v != nil:
			out = append(out, side.v.([]types.Datum)...)
		}
	}
	if l == nil && rv == nil {
		return nil, nil
	}
	return out, nil
}

// buildArrayConcat types || when either side is an array; ok is false
// when neither is.
func (b *Builder) buildArrayConcat(l, r Expr) (Expr, bool, error) {
	lt, rt := l.Type(), r.Type()
	if lt.Family != types.ArrayFamily && rt.Family != types.ArrayFamily {
		return nil, false, nil
	}
	t, err := b.concatType(lt, rt)
	if err != nil {
		return nil, true, err
	}
	for _, side := range []*Expr{&l, &r} {
		want := t
		if f := (*side).Type().Family; f != types.ArrayFamily && f != types.UnknownFamily {
			want = t.Elem()
		}
		if *side, err = b.Coerce(*side, want); err != nil {
			return nil, true, err
		}
	}
	return &ArrayConcat{L: l, R: r, T: t}, true, nil
}

// concatType is the type of array || array or element, PostgreSQL's
// anycompatiblearray: the array of the two sides' elements' common type
// (an untyped side is an array literal).
func (b *Builder) concatType(lt, rt types.T) (types.T, error) {
	elem := func(t, other types.T) types.T {
		switch t.Family {
		case types.ArrayFamily:
			return t.Elem()
		case types.UnknownFamily:
			return other.Elem()
		}
		return t
	}
	le, re := elem(lt, rt), elem(rt, lt)
	cl, cr, err := b.unify(&Const{T: le}, &Const{T: re}, "||")
	et := types.T{}
	if err == nil && cl.Type().Family == cr.Type().Family {
		et = cl.Type()
		if et.Family == types.IntFamily && intRank(re) > intRank(le) {
			et = re
		}
	}
	if at, ok := types.ArrayOf(et); ok && et.Family != types.UnknownFamily {
		return at, nil
	}
	return types.T{}, pgcode.New(pgcode.UndefinedFunction, "operator does not exist: %s || %s", lt.Name(), rt.Name())
}

// Subscript is a[i]: NULL when i is out of bounds.
type Subscript struct{ Array, Index Expr }

func (e *Subscript) Type() types.T  { return e.Array.Type().Elem() }
func (e *Subscript) String() string { return fmt.Sprintf("%s[%s]", e.Array, e.Index) }
func (e *Subscript) Eval(c *Ctx, r Row) (types.Datum, error) {
	a, err := e.Array.Eval(c, r)
	if err != nil || a == nil {
		return nil, err
	}
	i, err := e.Index.Eval(c, r)
	if err != nil || i == nil {
		return nil, err
	}
	elems, n := a.([]types.Datum), i.(int64)
	if n < 1 || n > int64(len(elems)) {
		return nil, nil
	}
	return elems[n-1], nil
}

func (b *Builder) buildIndirection(x *pg.A_Indirection) (Expr, error) {
	e, err := b.Build(x.Arg)
	if err != nil {
		return nil, err
	}
	for _, n := range x.Indirection {
		idx := n.GetAIndices()
		if _, ok := e.(*Slice); ok || len(x.Indirection) > 1 && e.Type().Family == types.ArrayFamily {
			return nil, sqlerr.Unsupported("multidimensional arrays are not supported")
		}
		if idx == nil || e.Type().Family != types.ArrayFamily {
			return nil, sqlerr.Unsupported("only subscripts of arrays are supported")
		}
		if idx.IsSlice {
			lo, hi, err := b.sliceBounds(idx)
			if err != nil {
				return nil, err
			}
			e = &Slice{Array: e, Lo: lo, Hi: hi}
			continue
		}
		i, err := b.subscript(idx.Uidx)
		if err != nil {
			return nil, err
		}
		e = &Subscript{Array: e, Index: i}
	}
	return e, nil
}

// subscript types an array subscript; nil stays nil (an omitted bound).
func (b *Builder) subscript(n *pg.Node) (Expr, error) {
	if n == nil {
		return nil, nil
	}
	i, err := b.Build(n)
	if err != nil {
		return nil, err
	}
	return b.subscriptInt(i)
}

// subscriptInt makes a subscript an integer: any integer type as it is
// (its value is an int64), others coerced to integer.
func (b *Builder) subscriptInt(i Expr) (Expr, error) {
	if i.Type().Family == types.IntFamily {
		return i, nil
	}
	c, err := b.Coerce(i, types.Int4)
	if err != nil {
		return nil, pgcode.New(sqlerr.DatatypeMismatch, "array subscript must have type integer")
	}
	return c, nil
}

func (b *Builder) sliceBounds(idx *pg.A_Indices) (lo, hi Expr, err error) {
	if lo, err = b.subscript(idx.Lidx); err == nil {
		hi, err = b.subscript(idx.Uidx)
	}
	return lo, hi, err
}

// Slice is a[lo:hi] (either bound may be omitted): the elements in the
// bounds, renumbered from 1; empty when none is.
type Slice struct{ Array, Lo, Hi Expr }

func (e *Slice) Type() types.T  { return e.Array.Type() }
func (e *Slice) String() string { return fmt.Sprintf("%s[%v:%v]", e.Array, e.Lo, e.Hi) }
func (e *Slice) Eval(c *Ctx, r Row) (types.Datum, error) {
	a, err := e.Array.Eval(c, r)
	if err != nil || a == nil {
		return nil, err
	}
	elems := a.([]types.Datum)
	lo, hi := int64(1), int64(len(elems))
	for _, bound := range []struct {
		x Expr
		v *int64
	}{{e.Lo, &lo}, {e.Hi, &hi}} {
		if bound.x == nil {
			continue
		}
		v, err := bound.x.Eval(c, r)
		if err != nil || v == nil {
			return nil, err
		}
		*bound.v = v.(int64)
	}
	lo, hi = max(lo, 1), min(hi, int64(len(elems)))
	if lo > hi {
		return []types.Datum{}, nil
	}
	return append([]types.Datum{}, elems[lo-1:hi]...), nil
}

// castType resolves a cast's target type, arrays included.
func castType(tn *pg.TypeName) (types.T, error) { return ResolveType(tn) }

// resolveArrayType is elem[], elem[][] or elem ARRAY: PostgreSQL ignores
// the bounds and the number of dimensions a type is declared with, and
// keeps the element's modifiers (varchar(10)[]).
func resolveArrayType(tn *pg.TypeName) (types.T, error) {
	elem := &pg.TypeName{Names: tn.Names, Typmods: tn.Typmods, Location: tn.Location}
	et, err := ResolveType(elem)
	if err != nil {
		return types.T{}, err
	}
	t, ok := types.ArrayOfMod(et)
	if !ok {
		return types.T{}, posErr(sqlerr.Unsupported("arrays of %s are not supported", et.Name()), tn.Location)
	}
	return t, nil
}

// ArraySet is the new value of a column set through a subscript
// (UPDATE ... SET a[i] = v): a with element i replaced, NULLs filling the
// gap when i is past the end.
type ArraySet struct{ Array, Index, Value Expr }

func (e *ArraySet) Type() types.T  { return e.Array.Type() }
func (e *ArraySet) String() string { return fmt.Sprintf("%s[%s] := %s", e.Array, e.Index, e.Value) }
func (e *ArraySet) Eval(c *Ctx, r Row) (types.Datum, error) {
	a, err := e.Array.Eval(c, r)
	if err != nil {
		return nil, err
	}
	i, err := e.Index.Eval(c, r)
	if err != nil {
		return nil, err
	}
	v, err := e.Value.Eval(c, r)
	if err != nil {
		return nil, err
	}
	if i == nil {
		return nil, pgcode.New(sqlerr.NullValueNotAllowed, "array subscript in assignment must not be null")
	}
	old, _ := a.([]types.Datum)
	n := i.(int64)
	if n < 1 || len(old) == 0 && n != 1 {
		return nil, sqlerr.Unsupported("arrays with a lower bound other than 1 are not supported")
	}
	if n > 1<<20 {
		return nil, pgcode.New(sqlerr.ProgramLimitExceeded, "array size exceeds the maximum allowed (%d)", 1<<20)
	}
	out := make([]types.Datum, max(int(n), len(old)))
	copy(out, old)
	out[n-1] = v
	return out, nil
}

// BuildArrayAssign types col[i] = val, a SET target with a subscript;
// arr is the column's current value.
func (b *Builder) BuildArrayAssign(arr Expr, col string, ind []*pg.Node, val *pg.Node) (Expr, error) {
	var idx *pg.A_Indices
	if len(ind) == 1 {
		idx = ind[0].GetAIndices()
	}
	if idx == nil || idx.IsSlice || arr.Type().Family != types.ArrayFamily {
		return nil, sqlerr.Unsupported("only assignments to one element of an array column are supported")
	}
	i, err := b.subscript(idx.Uidx)
	if err != nil {
		return nil, err
	}
	v, err := b.Build(val)
	if err != nil {
		return nil, err
	}
	et := arr.Type().Elem()
	if v.Type().Family != types.UnknownFamily && !types.CanAssign(v.Type(), et) {
		e := pgcode.New(sqlerr.DatatypeMismatch, "subscripted assignment to %q requires type %s but expression is of type %s", col, et.Name(), v.Type().Name())
		e.Hint = "You will need to rewrite or cast the expression."
		return nil, e
	}
	if v, err = b.AssignTo(v, et, col); err != nil {
		return nil, err
	}
	return &ArraySet{Array: arr, Index: i, Value: v}, nil
}
