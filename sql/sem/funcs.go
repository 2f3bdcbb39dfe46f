package sem

import (
	"crypto/rand"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/types"
)

// Version is what version() returns; clients parse the leading
// "PostgreSQL 15.x".
const Version = "PostgreSQL 15.0 (ordo) on x86_64-pc-linux-gnu, compiled by Go, 64-bit"

// Func is a scalar function call.
type Func struct {
	Name string
	Args []Expr
	T    types.T
	// Strict functions return NULL when an argument is NULL.
	Strict bool
	Fn     func(c *Ctx, args []types.Datum) (types.Datum, error)
}

func (e *Func) Type() types.T  { return e.T }
func (e *Func) String() string { return fmt.Sprintf("%s%v", e.Name, e.Args) }
func (e *Func) Eval(c *Ctx, r Row) (types.Datum, error) {
	args := make([]types.Datum, len(e.Args))
	for i, a := range e.Args {
		v, err := a.Eval(c, r)
		if err != nil {
			return nil, err
		}
		if v == nil && e.Strict {
			return nil, nil
		}
		args[i] = v
	}
	return e.Fn(c, args)
}

// funcDef describes a function: its argument types (Unknown = any numeric
// type, nil = variadic any) and how to compute its result type and value.
type funcDef struct {
	args   []types.T
	minArg int
	ret    func(args []Expr) types.T
	strict bool
	fn     func(c *Ctx, args []types.Datum) (types.Datum, error)
}

func retT(t types.T) func([]Expr) types.T { return func([]Expr) types.T { return t } }
func retArg0(a []Expr) types.T            { return a[0].Type() }

var funcs map[string]funcDef

func init() {
	str := []types.T{types.Text}
	funcs = map[string]funcDef{
		"version":               {ret: retT(types.Text), fn: func(*Ctx, []types.Datum) (types.Datum, error) { return Version, nil }},
		"current_database":      {ret: retT(types.Name), fn: func(c *Ctx, _ []types.Datum) (types.Datum, error) { return c.Env.Database(), nil }},
		"current_schema":        {ret: retT(types.Name), fn: func(*Ctx, []types.Datum) (types.Datum, error) { return "public", nil }},
		"current_user":          {ret: retT(types.Name), fn: func(c *Ctx, _ []types.Datum) (types.Datum, error) { return c.Env.User(), nil }},
		"session_user":          {ret: retT(types.Name), fn: func(c *Ctx, _ []types.Datum) (types.Datum, error) { return c.Env.User(), nil }},
		"now":                   {ret: retT(types.TimestampTZ), fn: now},
		"transaction_timestamp": {ret: retT(types.TimestampTZ), fn: now},
		"statement_timestamp":   {ret: retT(types.TimestampTZ), fn: now},
		"clock_timestamp": {ret: retT(types.TimestampTZ), fn: func(*Ctx, []types.Datum) (types.Datum, error) {
			return time.Now().UTC().Truncate(time.Microsecond), nil
		}},
		"lower":       {args: str, strict: true, ret: retT(types.Text), fn: strFn(strings.ToLower)},
		"upper":       {args: str, strict: true, ret: retT(types.Text), fn: strFn(strings.ToUpper)},
		"length":      {args: str, strict: true, ret: retT(types.Int4), fn: length},
		"char_length": {args: str, strict: true, ret: retT(types.Int4), fn: length},
		"octet_length": {args: str, strict: true, ret: retT(types.Int4), fn: func(_ *Ctx, a []types.Datum) (types.Datum, error) {
			return int64(len(a[0].(string))), nil
		}},
		"btrim":     {args: str, strict: true, ret: retT(types.Text), fn: strFn(func(s string) string { return strings.Trim(s, " ") })},
		"ltrim":     {args: str, strict: true, ret: retT(types.Text), fn: strFn(func(s string) string { return strings.TrimLeft(s, " ") })},
		"rtrim":     {args: str, strict: true, ret: retT(types.Text), fn: strFn(func(s string) string { return strings.TrimRight(s, " ") })},
		"replace":   {args: []types.T{types.Text, types.Text, types.Text}, strict: true, ret: retT(types.Text), fn: replace},
		"substr":    {args: []types.T{types.Text, types.Int8, types.Int8}, minArg: 2, strict: true, ret: retT(types.Text), fn: substr},
		"substring": {args: []types.T{types.Text, types.Int8, types.Int8}, minArg: 2, strict: true, ret: retT(types.Text), fn: substr},
		"concat":    {ret: retT(types.Text), fn: nil},
		"abs":       {args: []types.T{types.Unknown}, strict: true, ret: retArg0, fn: abs},
		"round":     {args: []types.T{types.Unknown, types.Int4}, minArg: 1, strict: true, ret: retArg0, fn: round},
		"floor":     {args: []types.T{types.Unknown}, strict: true, ret: retArg0, fn: floorCeil(math.Floor, apd.RoundFloor)},
		"ceil":      {args: []types.T{types.Unknown}, strict: true, ret: retArg0, fn: floorCeil(math.Ceil, apd.RoundCeiling)},
		"ceiling":   {args: []types.T{types.Unknown}, strict: true, ret: retArg0, fn: floorCeil(math.Ceil, apd.RoundCeiling)},
		"mod":       {args: []types.T{types.Unknown, types.Unknown}, strict: true, ret: retArg0, fn: nil},
		"random": {ret: retT(types.Float8), fn: func(*Ctx, []types.Datum) (types.Datum, error) {
			return mrand.Float64(), nil
		}},
		"gen_random_uuid": {ret: retT(types.UUID), fn: genUUID},
		"pg_backend_pid":  {ret: retT(types.Int4), fn: backendPID},
		"current_setting": {args: str, strict: true, ret: retT(types.Text), fn: currentSetting},
		"nextval":         {args: str, strict: true, ret: retT(types.Int8), fn: nextval},
		"currval":         {args: str, strict: true, ret: retT(types.Int8), fn: currval},
		"lastval":         {ret: retT(types.Int8), fn: lastval},
		"setval":          {args: []types.T{types.Text, types.Int8, types.Bool}, minArg: 2, strict: true, ret: retT(types.Int8), fn: setval},
	}
	registerTextFuncs()
	registerMathFuncs()
}

func now(c *Ctx, _ []types.Datum) (types.Datum, error) { return c.Env.Now(), nil }

func strFn(f func(string) string) func(*Ctx, []types.Datum) (types.Datum, error) {
	return func(_ *Ctx, a []types.Datum) (types.Datum, error) { return f(a[0].(string)), nil }
}

func length(_ *Ctx, a []types.Datum) (types.Datum, error) {
	return int64(utf8.RuneCountInString(a[0].(string))), nil
}

func replace(_ *Ctx, a []types.Datum) (types.Datum, error) {
	return strings.ReplaceAll(a[0].(string), a[1].(string), a[2].(string)), nil
}

func substr(_ *Ctx, a []types.Datum) (types.Datum, error) {
	rs := []rune(a[0].(string))
	start := a[1].(int64) - 1
	end := int64(len(rs))
	if len(a) > 2 {
		n := a[2].(int64)
		if n < 0 {
			return nil, pgcode.New("22011", "negative substring length not allowed")
		}
		end = min(start+n, end)
	}
	start = max(start, 0)
	if start >= end {
		return "", nil
	}
	return string(rs[start:end]), nil
}

func concat(_ *Ctx, a []types.Datum, ts []types.T) (types.Datum, error) {
	var b strings.Builder
	for i, v := range a {
		if v != nil {
			b.WriteString(types.String(ts[i], v))
		}
	}
	return b.String(), nil
}

func abs(_ *Ctx, a []types.Datum) (types.Datum, error) {
	switch x := a[0].(type) {
	case int64:
		if x == math.MinInt64 {
			return nil, types.OutOfRange(types.Int8)
		}
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	case *apd.Decimal:
		return new(apd.Decimal).Abs(x), nil
	}
	return nil, fmt.Errorf("sem: abs of %T", a[0])
}

func round(_ *Ctx, a []types.Datum) (types.Datum, error) {
	places := int64(0)
	if len(a) > 1 {
		places = a[1].(int64)
	}
	switch x := a[0].(type) {
	case int64:
		return x, nil
	case float64:
		return math.RoundToEven(x), nil
	case *apd.Decimal:
		return quantize(types.DecimalCtx, x, places)
	}
	return nil, fmt.Errorf("sem: round of %T", a[0])
}

// maxNumericScale is the most fraction digits a numeric has in
// PostgreSQL (NUMERIC_DSCALE_MAX).
const maxNumericScale = 16383

// quantize rounds x to places fraction digits (negative: to tens,
// hundreds ...) under ctx's rounding, bounding places as PostgreSQL's
// round and trunc do: at most maxNumericScale, and past x's integer digits
// the result is 0.
func quantize(ctx apd.Context, x *apd.Decimal, places int64) (types.Datum, error) {
	d := new(apd.Decimal)
	if x.Form != apd.Finite {
		return d.Set(x), nil // NaN, ±Infinity
	}
	intDigits := x.NumDigits() + int64(x.Exponent)
	places = max(min(places, maxNumericScale), -intDigits-1)
	ctx.Precision = max(ctx.Precision, uint32(max(intDigits+places+1, 1)))
	if _, err := ctx.Quantize(d, x, int32(-places)); err != nil {
		return nil, fmt.Errorf("sem: round: %w", err)
	}
	if d.IsZero() && d.Exponent > 0 {
		d.Exponent, d.Negative = 0, false // 0, not 000
	}
	return d, nil
}

func floorCeil(f func(float64) float64, mode apd.Rounder) func(*Ctx, []types.Datum) (types.Datum, error) {
	return func(_ *Ctx, a []types.Datum) (types.Datum, error) {
		switch x := a[0].(type) {
		case int64:
			return x, nil
		case float64:
			return f(x), nil
		case *apd.Decimal:
			ctx := types.DecimalCtx
			ctx.Rounding = mode
			d := new(apd.Decimal)
			_, err := ctx.RoundToIntegralValue(d, x)
			return d, err
		}
		return nil, fmt.Errorf("sem: floor/ceil of %T", a[0])
	}
}

func genUUID(*Ctx, []types.Datum) (types.Datum, error) {
	var u pgtype.UUID
	if _, err := rand.Read(u[:]); err != nil {
		return nil, err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u, nil
}

func currentSetting(c *Ctx, a []types.Datum) (types.Datum, error) {
	v, ok := c.Env.Setting(strings.ToLower(a[0].(string)))
	if !ok {
		return nil, pgcode.New(pgcode.UndefinedObject, "unrecognized configuration parameter %q", a[0])
	}
	return v, nil
}

func currval(c *Ctx, a []types.Datum) (types.Datum, error) {
	n, err := c.Env.CurrVal(c.Context, a[0].(string))
	if err != nil {
		return nil, err
	}
	return n, nil
}

func lastval(c *Ctx, _ []types.Datum) (types.Datum, error) {
	n, err := c.Env.LastVal()
	if err != nil {
		return nil, err
	}
	return n, nil
}

// setval(seq, v [, is_called]) returns v.
func setval(c *Ctx, a []types.Datum) (types.Datum, error) {
	called := len(a) < 3 || a[2].(bool)
	if err := c.Env.SetVal(c.Context, a[0].(string), a[1].(int64), called); err != nil {
		return nil, err
	}
	return a[1], nil
}

func nextval(c *Ctx, a []types.Datum) (types.Datum, error) {
	n, err := c.Env.NextVal(c.Context, a[0].(string))
	if err != nil {
		return nil, err
	}
	return n, nil
}

// backendPID is pg_backend_pid(): the session's process ID when the Env
// knows it, else 1.
func backendPID(c *Ctx, _ []types.Datum) (types.Datum, error) {
	if p, ok := c.Env.(interface{ BackendPID() int64 }); ok && p.BackendPID() != 0 {
		return p.BackendPID(), nil
	}
	return int64(1), nil
}
