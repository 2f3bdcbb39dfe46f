package sem

import (
	"fmt"
	"math"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/types"
)

// registerMathFuncs adds trunc, power, sqrt, sign and pi.
func registerMathFuncs() {
	any1 := []types.T{types.Unknown}
	funcs["trunc"] = funcDef{args: []types.T{types.Unknown, types.Int4}, minArg: 1, strict: true, ret: floatOrNumeric, fn: trunc}
	funcs["power"] = funcDef{args: []types.T{types.Unknown, types.Unknown}, strict: true, ret: floatOrNumeric, fn: power}
	funcs["pow"] = funcs["power"]
	funcs["sqrt"] = funcDef{args: any1, strict: true, ret: retT(types.Float8), fn: sqrt}
	funcs["sign"] = funcDef{args: any1, strict: true, ret: floatOrNumeric, fn: sign}
	funcs["pi"] = funcDef{ret: retT(types.Float8), fn: func(*Ctx, []types.Datum) (types.Datum, error) { return math.Pi, nil }}
}

// floatOrNumeric is numeric when an argument is numeric, else float8
// (integers resolve to the float8 variant, as in PostgreSQL).
func floatOrNumeric(args []Expr) types.T {
	for _, a := range args {
		if a.Type().Family == types.DecimalFamily {
			return types.Numeric
		}
	}
	return types.Float8
}

func toF(d types.Datum) float64 {
	switch x := d.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case *apd.Decimal:
		f, _ := x.Float64()
		return f
	}
	return math.NaN()
}

func toD(d types.Datum) *apd.Decimal {
	switch x := d.(type) {
	case int64:
		return apd.New(x, 0)
	case *apd.Decimal:
		return x
	}
	return nil
}

func anyDecimal(a []types.Datum) bool {
	for _, d := range a {
		if _, ok := d.(*apd.Decimal); ok {
			return true
		}
	}
	return false
}

func trunc(_ *Ctx, a []types.Datum) (types.Datum, error) {
	if !anyDecimal(a[:1]) {
		return math.Trunc(toF(a[0])), nil
	}
	places := int64(0)
	if len(a) > 1 {
		places = a[1].(int64)
	}
	ctx := types.DecimalCtx
	ctx.Rounding = apd.RoundDown
	return quantize(ctx, toD(a[0]), places)
}

func power(_ *Ctx, a []types.Datum) (types.Datum, error) {
	if !anyDecimal(a) {
		x, y := toF(a[0]), toF(a[1])
		if x == 0 && y < 0 {
			return nil, pgcode.New("2201F", "zero raised to a negative power is undefined")
		}
		if x < 0 && y != math.Trunc(y) {
			return nil, pgcode.New("2201F", "a negative number raised to a non-integer power yields a complex result")
		}
		return math.Pow(x, y), nil
	}
	d := new(apd.Decimal)
	_, err := types.DecimalCtx.Pow(d, toD(a[0]), toD(a[1]))
	if err != nil {
		return nil, fmt.Errorf("sem: power: %w", err)
	}
	return d, nil
}

func sqrt(_ *Ctx, a []types.Datum) (types.Datum, error) {
	x := toF(a[0])
	if x < 0 {
		return nil, pgcode.New("2201F", "cannot take square root of a negative number")
	}
	return math.Sqrt(x), nil
}

func sign(_ *Ctx, a []types.Datum) (types.Datum, error) {
	if d, ok := a[0].(*apd.Decimal); ok {
		return apd.New(int64(d.Sign()), 0), nil
	}
	x := toF(a[0])
	switch {
	case x > 0:
		return 1.0, nil
	case x < 0:
		return -1.0, nil
	}
	return x, nil
}
