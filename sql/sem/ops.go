package sem

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/types"
)

// CmpOp is a comparison operator.
type CmpOp uint8

// Comparison operators.
const (
	EQ CmpOp = iota
	NE
	LT
	LE
	GT
	GE
	Distinct    // IS DISTINCT FROM
	NotDistinct // IS NOT DISTINCT FROM
)

var cmpNames = map[string]CmpOp{"=": EQ, "<>": NE, "!=": NE, "<": LT, "<=": LE, ">": GT, ">=": GE}

// Cmp compares two operands of equivalent types.
type Cmp struct {
	Op   CmpOp
	L, R Expr
}

func (e *Cmp) Type() types.T { return types.Bool }
func (e *Cmp) String() string {
	return fmt.Sprintf("(%s %d %s)", e.L, e.Op, e.R)
}

func (e *Cmp) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil {
		return nil, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil {
		return nil, err
	}
	if e.Op == Distinct || e.Op == NotDistinct {
		return distinct(l, rv) == (e.Op == Distinct), nil
	}
	if l == nil || rv == nil {
		return nil, nil
	}
	return cmpResult(e.Op, types.Compare(l, rv)), nil
}

func distinct(l, r types.Datum) bool {
	if l == nil || r == nil {
		return (l == nil) != (r == nil)
	}
	return types.Compare(l, r) != 0
}

func cmpResult(op CmpOp, c int) bool {
	switch op {
	case EQ:
		return c == 0
	case NE:
		return c != 0
	case LT:
		return c < 0
	case LE:
		return c <= 0
	case GT:
		return c > 0
	}
	return c >= 0
}

// Arith is + - * / % on numbers, and the date/time arithmetic PostgreSQL
// defines.
type Arith struct {
	Op   byte
	L, R Expr
	T    types.T
}

func (e *Arith) Type() types.T  { return e.T }
func (e *Arith) String() string { return fmt.Sprintf("(%s %c %s)", e.L, e.Op, e.R) }

func (e *Arith) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == nil {
		return nil, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil || rv == nil {
		return nil, err
	}
	return arith(e.Op, l, rv, e.T)
}

var errDivZero = pgcode.New(pgcode.DivisionByZero, "division by zero")

func arith(op byte, l, r types.Datum, t types.T) (types.Datum, error) {
	switch x := l.(type) {
	case int64:
		if y, ok := r.(int64); ok {
			return intArith(op, x, y, t)
		}
	case float64:
		return floatArith(op, x, r.(float64))
	case *apd.Decimal:
		return decArith(op, x, r.(*apd.Decimal))
	}
	return timeArith(op, l, r, t)
}

func intArith(op byte, x, y int64, t types.T) (types.Datum, error) {
	var v int64
	switch op {
	case '+':
		v = x + y
		if (v > x) != (y > 0) {
			return nil, types.OutOfRange(t)
		}
	case '-':
		v = x - y
		if (v < x) != (y > 0) {
			return nil, types.OutOfRange(t)
		}
	case '*':
		if x != 0 && y != 0 {
			v = x * y
			if v/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
				return nil, types.OutOfRange(t)
			}
		}
	case '/', '%':
		if y == 0 {
			return nil, errDivZero
		}
		if y == -1 {
			if op == '%' {
				return int64(0), nil
			}
			if x == math.MinInt64 {
				return nil, types.OutOfRange(t)
			}
			v = -x
		} else if op == '/' {
			v = x / y
		} else {
			v = x % y
		}
	}
	if !types.IntFits(t, v) {
		return nil, types.OutOfRange(t)
	}
	return v, nil
}

func floatArith(op byte, x, y float64) (types.Datum, error) {
	switch op {
	case '+':
		return x + y, nil
	case '-':
		return x - y, nil
	case '*':
		return x * y, nil
	case '/':
		if y == 0 {
			return nil, errDivZero
		}
		return x / y, nil
	}
	if y == 0 {
		return nil, errDivZero
	}
	return math.Mod(x, y), nil
}

func decArith(op byte, x, y *apd.Decimal) (types.Datum, error) {
	d := new(apd.Decimal)
	var err error
	switch op {
	case '+':
		_, err = types.DecimalCtx.Add(d, x, y)
	case '-':
		_, err = types.DecimalCtx.Sub(d, x, y)
	case '*':
		_, err = types.DecimalCtx.Mul(d, x, y)
	case '/':
		return DecimalDiv(x, y)
	case '%':
		if y.IsZero() {
			return nil, errDivZero
		}
		_, err = types.DecimalCtx.Rem(d, x, y)
	}
	if err != nil {
		return nil, pgcode.New(pgcode.NumericValueOutOfRange, "value overflows numeric format")
	}
	return d, nil
}

// DecimalDiv divides with PostgreSQL's result scale (select_div_scale): at
// least 16 significant digits, and no less than either input's scale.
func DecimalDiv(x, y *apd.Decimal) (types.Datum, error) {
	if y.IsZero() {
		return nil, errDivZero
	}
	qweight := weight(x) - weight(y)
	if lead(x) < lead(y) {
		qweight--
	}
	rscale := max(16-qweight*4, scale(x), scale(y), 0)
	rscale = min(rscale, 1000)
	q := new(apd.Decimal)
	ctx := types.DecimalCtx
	ctx.Precision = uint32(max(rscale+int32(x.NumDigits())+int32(y.NumDigits())+8, 16))
	if _, err := ctx.Quo(q, x, y); err != nil {
		return nil, pgcode.New(pgcode.NumericValueOutOfRange, "value overflows numeric format")
	}
	if _, err := types.DecimalCtx.Quantize(q, q, -rscale); err != nil {
		return nil, pgcode.New(pgcode.NumericValueOutOfRange, "value overflows numeric format")
	}
	return q, nil
}

func scale(d *apd.Decimal) int32 { return max(-d.Exponent, 0) }

// weight is the base-10000 exponent of d's first digit group.
func weight(d *apd.Decimal) int32 {
	if d.IsZero() {
		return 0
	}
	e := int32(d.NumDigits()) - 1 + d.Exponent // 10^e is the leading digit's place
	return floorDiv(e, 4)
}

func floorDiv(a, b int32) int32 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// lead is d's first base-10000 digit.
func lead(d *apd.Decimal) int64 {
	if d.IsZero() {
		return 0
	}
	var a, p, q apd.Decimal
	a.Abs(d)
	p.SetFinite(1, weight(d)*4)
	_, _ = types.DecimalCtx.QuoInteger(&q, &a, &p)
	n, _ := q.Int64()
	return n
}

func timeArith(op byte, l, r types.Datum, t types.T) (types.Datum, error) {
	switch x := l.(type) {
	case time.Time:
		switch y := r.(type) {
		case pgtype.Interval:
			if op == '-' {
				y = pgtype.Interval{Months: -y.Months, Days: -y.Days, Micros: -y.Micros}
			}
			return addMonths(x, int(y.Months)).AddDate(0, 0, int(y.Days)).Add(time.Duration(y.Micros) * time.Microsecond), nil
		case int64:
			if op == '-' {
				y = -y
			}
			return x.AddDate(0, 0, int(y)), nil
		case time.Time:
			if t.Family == types.IntFamily {
				return int64(x.Sub(y).Hours() / 24), nil
			}
			d := x.Sub(y)
			days := int64(d / (24 * time.Hour))
			return pgtype.Interval{Days: int32(days), Micros: (d - time.Duration(days)*24*time.Hour).Microseconds()}, nil
		}
	case pgtype.Interval:
		if y, ok := r.(pgtype.Interval); ok {
			if op == '-' {
				y = pgtype.Interval{Months: -y.Months, Days: -y.Days, Micros: -y.Micros}
			}
			return pgtype.Interval{Months: x.Months + y.Months, Days: x.Days + y.Days, Micros: x.Micros + y.Micros}, nil
		}
	}
	return nil, fmt.Errorf("sem: no arithmetic %T %c %T", l, op, r)
}

// Neg is unary minus.
type Neg struct{ Arg Expr }

func (e *Neg) Type() types.T  { return e.Arg.Type() }
func (e *Neg) String() string { return fmt.Sprintf("(-%s)", e.Arg) }
func (e *Neg) Eval(c *Ctx, r Row) (types.Datum, error) {
	v, err := e.Arg.Eval(c, r)
	if err != nil || v == nil {
		return nil, err
	}
	switch x := v.(type) {
	case int64:
		return intArith('-', 0, x, e.Arg.Type())
	case float64:
		return -x, nil
	case *apd.Decimal:
		return new(apd.Decimal).Neg(x), nil
	case pgtype.Interval:
		return pgtype.Interval{Months: -x.Months, Days: -x.Days, Micros: -x.Micros}, nil
	}
	return nil, fmt.Errorf("sem: cannot negate %T", v)
}

// Concat is ||.
type Concat struct{ L, R Expr }

func (e *Concat) Type() types.T  { return types.Text }
func (e *Concat) String() string { return fmt.Sprintf("(%s || %s)", e.L, e.R) }
func (e *Concat) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == nil {
		return nil, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil || rv == nil {
		return nil, err
	}
	return types.String(e.L.Type(), l) + types.String(e.R.Type(), rv), nil
}

// likeRegexp translates a LIKE / ILIKE pattern into an anchored regexp.
func likeRegexp(p string, ins bool) (*regexp.Regexp, error) {
	var b strings.Builder
	if ins {
		b.WriteString("(?is)^")
	} else {
		b.WriteString("(?s)^")
	}
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; ch {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		case '\\':
			if i+1 >= len(p) {
				return nil, pgcode.New("22025", "LIKE pattern must not end with escape character")
			}
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// addMonths adds months as PostgreSQL does: a day past the end of the
// resulting month becomes its last day (Jan 31 + 1 mon = Feb 29 in 2024).
func addMonths(t time.Time, months int) time.Time {
	if months == 0 {
		return t
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	h, mi, s := t.Clock()
	return time.Date(first.Year(), first.Month(), min(d, last), h, mi, s, t.Nanosecond(), t.Location())
}
