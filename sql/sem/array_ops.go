package sem

import (
	"fmt"
	"strings"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/types"
)

// The array containment operators (@>, <@, &&) and the array functions
// whose types follow their array argument's (array_append, array_prepend,
// array_cat, array_position, array_remove, array_to_string).

// ArrayContains is l @> r (every element of r is in l), or l && r when
// Overlap (some element is in both). NULL elements match nothing.
type ArrayContains struct {
	L, R    Expr
	Overlap bool
	// Contained records that it was written r <@ l, for EXPLAIN.
	Contained bool
}

func (e *ArrayContains) Type() types.T { return types.Bool }
func (e *ArrayContains) String() string {
	op := "@>"
	if e.Overlap {
		op = "&&"
	}
	return fmt.Sprintf("(%s %s %s)", e.L, op, e.R)
}

func (e *ArrayContains) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == nil {
		return nil, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil || rv == nil {
		return nil, err
	}
	la, ra := l.([]types.Datum), rv.([]types.Datum)
	for _, x := range ra {
		found := x != nil && arrayHas(la, x)
		if found == e.Overlap {
			return found, nil
		}
	}
	return !e.Overlap, nil
}

// arrayHas reports whether a holds the non-NULL x.
func arrayHas(a []types.Datum, x types.Datum) bool {
	for _, y := range a {
		if y != nil && types.Compare(x, y) == 0 {
			return true
		}
	}
	return false
}

// buildArrayContains types @>, <@ and && when either side is an array;
// ok is false when neither is.
func (b *Builder) buildArrayContains(op string, l, r Expr) (Expr, bool, error) {
	isA := func(e Expr) bool { return e.Type().Family == types.ArrayFamily }
	if op != "@>" && op != "<@" && op != "&&" || !isA(l) && !isA(r) {
		return nil, false, nil
	}
	l, r, err := b.unify(l, r, op)
	if err != nil {
		return nil, true, err
	}
	if !isA(l) || !isA(r) {
		return nil, true, pgcode.New(pgcode.UndefinedFunction, "operator does not exist: %s %s %s", l.Type().Name(), op, r.Type().Name())
	}
	if op == "<@" {
		l, r = r, l
	}
	return &ArrayContains{L: l, R: r, Overlap: op == "&&", Contained: op == "<@"}, true, nil
}

// buildArrayFunc builds the array functions whose result type is their
// array argument's; ok is false for other names.
func (b *Builder) buildArrayFunc(name string, args []Expr) (Expr, bool, error) {
	switch {
	case name == "array_cat" && len(args) == 2 && isArrayArg(args[0]) && isArrayArg(args[1]),
		name == "array_append" && len(args) == 2 && isArrayArg(args[0]) && !isArrayArg(args[1]),
		name == "array_prepend" && len(args) == 2 && !isArrayArg(args[0]) && isArrayArg(args[1]):
		e, _, err := b.buildArrayConcat(args[0], args[1])
		return e, true, err
	case (name == "array_position" || name == "array_remove") && len(args) == 2 && isArrayArg(args[0]):
		return b.buildArraySearch(name, args[0], args[1])
	case name == "array_to_string" && len(args) >= 2 && len(args) <= 3 && args[0].Type().Family == types.ArrayFamily:
		return b.buildArrayToString(args)
	}
	return nil, false, nil
}

// buildArrayToString is array_to_string(array, delimiter [, null_string])
// over an array of any element type, each element in its text form.
func (b *Builder) buildArrayToString(args []Expr) (Expr, bool, error) {
	for i := 1; i < len(args); i++ {
		c, err := b.Coerce(args[i], types.Text)
		if err != nil {
			return nil, true, noFunc("array_to_string", args)
		}
		args[i] = c
	}
	et := args[0].Type().Elem()
	fn := func(c *Ctx, a []types.Datum) (types.Datum, error) {
		if a[0] == nil || a[1] == nil {
			return nil, nil
		}
		var parts []string
		for _, e := range a[0].([]types.Datum) {
			switch {
			case e != nil:
				parts = append(parts, elemText(c, et, e))
			case len(a) > 2 && a[2] != nil:
				parts = append(parts, a[2].(string))
			}
		}
		return strings.Join(parts, a[1].(string)), nil
	}
	return &Func{Name: "array_to_string", Args: args, T: types.Text, Fn: fn}, true, nil
}

// elemText is an element's text form, in the session's time zone.
func elemText(c *Ctx, t types.T, d types.Datum) string {
	loc := time.UTC
	if c != nil && c.Env != nil {
		loc = c.Env.Location()
	}
	b, err := types.Format(nil, t, d, pgwirebase.FormatText, loc)
	if err != nil {
		return fmt.Sprint(d)
	}
	return string(b)
}

// isArrayArg reports whether e may be an array argument: an array, or an
// untyped literal read as one.
func isArrayArg(e Expr) bool {
	f := e.Type().Family
	return f == types.ArrayFamily || f == types.UnknownFamily
}

// buildArraySearch is array_position(a, x) (the 1-based index of x's first
// occurrence, NULL if none) and array_remove(a, x) (a without the elements
// equal to x). Both compare with IS NOT DISTINCT FROM, as PostgreSQL does.
func (b *Builder) buildArraySearch(name string, a, x Expr) (Expr, bool, error) {
	if a.Type().Family == types.UnknownFamily {
		return nil, true, noFunc(name, []Expr{a, x})
	}
	c, err := b.Coerce(x, a.Type().Elem())
	if err != nil {
		return nil, true, noFunc(name, []Expr{a, x})
	}
	x = c
	if name == "array_position" {
		return &Func{Name: name, Args: []Expr{a, x}, T: types.Int4, Fn: arrayPosition}, true, nil
	}
	return &Func{Name: name, Args: []Expr{a, x}, T: a.Type(), Fn: arrayRemove}, true, nil
}

func arrayPosition(_ *Ctx, args []types.Datum) (types.Datum, error) {
	if args[0] == nil {
		return nil, nil
	}
	for i, e := range args[0].([]types.Datum) {
		if !distinct(e, args[1]) {
			return int64(i + 1), nil
		}
	}
	return nil, nil
}

func arrayRemove(_ *Ctx, args []types.Datum) (types.Datum, error) {
	if args[0] == nil {
		return nil, nil
	}
	out := []types.Datum{}
	for _, e := range args[0].([]types.Datum) {
		if distinct(e, args[1]) {
			out = append(out, e)
		}
	}
	return out, nil
}
