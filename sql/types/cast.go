package types

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// DecimalCtx is the context for numeric arithmetic and conversions.
var DecimalCtx = apd.Context{Precision: 1000, MaxExponent: 100000, MinExponent: -100000, Rounding: apd.RoundHalfUp, Traps: apd.DefaultTraps}

// CannotCast is 42846 for a cast that does not exist.
func CannotCast(from, to T) error {
	return pgcode.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", from.Name(), to.Name())
}

// CanCast reports whether an explicit cast from → to exists.
func CanCast(from, to T) bool {
	if from.Family == ArrayFamily && to.Family == ArrayFamily {
		return CanCast(from.Elem(), to.Elem())
	}
	if from.Family == to.Family || from.Family == UnknownFamily {
		return true
	}
	if from.Family == StringFamily || to.Family == StringFamily {
		return true
	}
	if from.IsNumeric() && to.IsNumeric() {
		return true
	}
	switch {
	case from.Family == BoolFamily && to.OID == Int4.OID, from.OID == Int4.OID && to.Family == BoolFamily:
		return true
	case isTime(from) && isTime(to):
		return true
	case from.Family == IntFamily && to.Family == OidFamily, from.Family == OidFamily && to.Family == IntFamily:
		return true
	case from.Family == JSONBFamily && to.Family == StringFamily:
		return true
	}
	return false
}

func isTime(t T) bool {
	return t.Family == DateFamily || t.Family == TimestampFamily || t.Family == TimestampTZFamily
}

// Cast converts d from type from to type to (an explicit cast: char and
// varchar lengths truncate). loc is the session time zone.
func Cast(d Datum, from, to T, loc *time.Location) (Datum, error) {
	if d == nil {
		return nil, nil
	}
	if !CanCast(from, to) {
		return nil, CannotCast(from, to)
	}
	v, err := convert(d, from, to, loc)
	if err != nil {
		return nil, err
	}
	return fitWidth(v, to, true)
}

// AssignCast converts d for storage in a column of type to: PostgreSQL's
// assignment rules (length and range errors instead of truncation).
func AssignCast(d Datum, from, to T, loc *time.Location) (Datum, error) {
	if d == nil {
		return nil, nil
	}
	v, err := convert(d, from, to, loc)
	if err != nil {
		return nil, err
	}
	return fitWidth(v, to, false)
}

// CanAssign reports whether a value of from may be stored in a column of to.
func CanAssign(from, to T) bool {
	if from.Family == ArrayFamily && to.Family == ArrayFamily {
		return CanAssign(from.Elem(), to.Elem())
	}
	if from.Family == to.Family || from.Family == UnknownFamily || to.Family == StringFamily {
		return true
	}
	if from.IsNumeric() && to.IsNumeric() {
		return true
	}
	return isTime(from) && isTime(to)
}

func convert(d Datum, from, to T, loc *time.Location) (Datum, error) {
	if s, ok := d.(string); ok && to.Family != StringFamily && (to.Family != JSONBFamily || from.Family != JSONBFamily) {
		return ParseText(to, s, loc)
	}
	switch to.Family {
	case ArrayFamily:
		return castArray(d, from, to, loc)
	case StringFamily, JSONBFamily:
		if s, ok := d.(string); ok {
			if from.OID == BPChar.OID && to.OID != BPChar.OID {
				s = strings.TrimRight(s, " ") // char(n)'s padding is not significant
			}
			return s, nil
		}
		if b, ok := d.(bool); ok && to.Family == StringFamily {
			return strconv.FormatBool(b), nil
		}
		return String(from, d), nil
	case IntFamily, OidFamily:
		return toInt(d, to)
	case FloatFamily:
		return toFloat(d, to)
	case DecimalFamily:
		return toDecimal(d)
	case BoolFamily:
		if n, ok := d.(int64); ok {
			return n != 0, nil
		}
	case DateFamily, TimestampFamily, TimestampTZFamily:
		return toTime(d, from, to, loc)
	}
	return d, nil
}

func toInt(d Datum, to T) (Datum, error) {
	var n int64
	switch x := d.(type) {
	case int64:
		n = x
	case bool:
		if x {
			n = 1
		}
	case float64:
		r := math.RoundToEven(x)
		if math.IsNaN(r) || r < math.MinInt64 || r >= math.MaxInt64 {
			return nil, OutOfRange(to)
		}
		n = int64(r)
	case *apd.Decimal:
		var r apd.Decimal
		if _, err := DecimalCtx.RoundToIntegralValue(&r, x); err != nil {
			return nil, OutOfRange(to)
		}
		v, err := r.Int64()
		if err != nil {
			return nil, OutOfRange(to)
		}
		n = v
	}
	if !IntFits(to, n) {
		return nil, OutOfRange(to)
	}
	return n, nil
}

func toFloat(d Datum, to T) (Datum, error) {
	var f float64
	switch x := d.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	case *apd.Decimal:
		v, err := x.Float64()
		if err != nil {
			return nil, OutOfRange(to)
		}
		f = v
	}
	if to.OID == Float4.OID {
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
			return nil, OutOfRange(to)
		}
		f = float64(f32)
	}
	return f, nil
}

func toDecimal(d Datum) (Datum, error) {
	switch x := d.(type) {
	case int64:
		return apd.New(x, 0), nil
	case float64:
		if math.IsNaN(x) {
			return &apd.Decimal{Form: apd.NaN}, nil
		}
		if math.IsInf(x, 0) {
			return &apd.Decimal{Form: apd.Infinite, Negative: x < 0}, nil
		}
		v := new(apd.Decimal)
		if _, err := v.SetFloat64(x); err != nil {
			return nil, OutOfRange(Numeric)
		}
		return v, nil
	}
	return d, nil
}

func toTime(d Datum, from, to T, loc *time.Location) (Datum, error) {
	t, ok := d.(time.Time)
	if !ok {
		return d, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	if from.Family == TimestampTZFamily && to.Family != TimestampTZFamily {
		t = wallUTC(t.In(loc))
	}
	if from.Family != TimestampTZFamily && to.Family == TimestampTZFamily {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC()
	}
	if to.Family == DateFamily {
		t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t, nil
}

func wallUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// fitWidth applies char(n)/varchar(n) lengths and numeric(p,s).
func fitWidth(d Datum, to T, explicit bool) (Datum, error) {
	switch x := d.(type) {
	case []Datum:
		if to.Family == ArrayFamily {
			return fitArray(x, to, explicit)
		}
	case string:
		return fitString(x, to, explicit)
	case *apd.Decimal:
		if to.Prec > 0 {
			return fitDecimal(x, to)
		}
	}
	return d, nil
}

func fitString(s string, to T, explicit bool) (Datum, error) {
	if to.Family != StringFamily {
		return s, nil
	}
	if to.OID == Name.OID && len(s) > 63 {
		return s[:63], nil
	}
	if to.Width == 0 {
		return s, nil
	}
	n := utf8.RuneCountInString(s)
	w := int(to.Width)
	if n > w {
		cut := s[:byteIndex(s, w)]
		if !explicit && strings.TrimRight(s[len(cut):], " ") != "" {
			return nil, pgcode.New(sqlerr.StringDataRightTruncation, "value too long for type %s", to.SQLString())
		}
		s, n = cut, w
	}
	if to.OID == BPChar.OID && n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s, nil
}

func byteIndex(s string, runes int) int {
	i := 0
	for j := range s {
		if i == runes {
			return j
		}
		i++
	}
	return len(s)
}

func fitDecimal(x *apd.Decimal, to T) (Datum, error) {
	if x.Form != apd.Finite {
		return x, nil
	}
	r := new(apd.Decimal)
	if _, err := DecimalCtx.Quantize(r, x, -to.Scale); err != nil {
		return nil, numericOverflow(to)
	}
	intDigits := int32(r.NumDigits()) + r.Exponent
	if !r.IsZero() && intDigits > to.Prec-to.Scale {
		return nil, numericOverflow(to)
	}
	return r, nil
}

func numericOverflow(to T) error {
	e := pgcode.New(pgcode.NumericValueOutOfRange, "numeric field overflow")
	e.Detail = "A field with precision " + itoa(to.Prec) + ", scale " + itoa(to.Scale) +
		" must round to an absolute value less than 10^" + itoa(to.Prec-to.Scale) + "."
	return e
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
