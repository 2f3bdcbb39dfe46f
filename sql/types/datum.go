package types

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// shortNames are the names PostgreSQL uses in input-syntax errors.
var shortNames = map[Family]string{
	BoolFamily: "boolean", FloatFamily: "double precision", DecimalFamily: "numeric",
	DateFamily: "date", TimestampFamily: "timestamp", TimestampTZFamily: "timestamp with time zone",
	IntervalFamily: "interval", UUIDFamily: "uuid", JSONBFamily: "json", BytesFamily: "bytea",
}

func inputName(t T) string {
	if t.Family == IntFamily || t.OID == Float4.OID {
		return t.Name()
	}
	if n, ok := shortNames[t.Family]; ok {
		return n
	}
	return t.Name()
}

// InvalidInput is the error for text that does not parse as t.
func InvalidInput(t T, s string) error {
	code := pgcode.InvalidTextRepresentation
	switch t.Family {
	case DateFamily, TimestampFamily, TimestampTZFamily, IntervalFamily:
		code = sqlerr.InvalidDatetimeFormat
	}
	return pgcode.New(code, "invalid input syntax for type %s: %q", inputName(t), s)
}

// OutOfRange is 22003 for a value outside t's range.
func OutOfRange(t T) error {
	return pgcode.New(pgcode.NumericValueOutOfRange, "%s out of range", rangeName(t))
}

func rangeName(t T) string {
	switch t.OID {
	case Int2.OID:
		return "smallint"
	case Int4.OID:
		return "integer"
	case Int8.OID:
		return "bigint"
	}
	return t.Name()
}

// ParseText parses s as a value of t (a literal or a text parameter); loc is
// the session time zone for timestamptz.
func ParseText(t T, s string, loc *time.Location) (Datum, error) {
	if t.OID == Inet.OID {
		v, err := pgtype.Conv{}.DecodeText(t.OID, []byte(s))
		if err != nil {
			return nil, InvalidInput(t, s)
		}
		return v, nil
	}
	switch t.Family {
	case StringFamily, UnknownFamily:
		return s, nil
	case JSONBFamily:
		return ParseJSONB(s)
	case IntFamily:
		return parseInt(t, s)
	case DecimalFamily:
		return parseDecimal(s)
	case ArrayFamily:
		return parseArray(t, s, loc)
	case OidFamily:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return nil, InvalidInput(t, s)
		}
		return int64(n), nil
	}
	v, err := pgtype.Conv{Loc: loc}.DecodeText(t.OID, []byte(s))
	if err != nil {
		return nil, InvalidInput(t, s)
	}
	return fromPgtype(t, v)
}

func parseInt(t T, s string) (Datum, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, pgcode.New(pgcode.NumericValueOutOfRange, "value %q is out of range for type %s", s, t.Name())
		}
		return nil, InvalidInput(t, s)
	}
	if !IntFits(t, n) {
		return nil, pgcode.New(pgcode.NumericValueOutOfRange, "value %q is out of range for type %s", s, t.Name())
	}
	return n, nil
}

// IntFits reports whether n is in the range of the integer type t.
func IntFits(t T, n int64) bool {
	switch t.OID {
	case Int2.OID:
		return n >= math.MinInt16 && n <= math.MaxInt16
	case Int4.OID:
		return n >= math.MinInt32 && n <= math.MaxInt32
	}
	return true
}

func parseDecimal(s string) (Datum, error) {
	n, err := pgtype.ParseNumeric(s)
	if err != nil {
		return nil, InvalidInput(Numeric, s)
	}
	d, _, err := apd.NewFromString(string(n))
	if err != nil {
		return nil, InvalidInput(Numeric, s)
	}
	return d, nil
}

// fromPgtype converts pgtype's Go representation to a Datum of t.
func fromPgtype(t T, v any) (Datum, error) {
	switch x := v.(type) {
	case []any:
		if t.Family == ArrayFamily {
			return arrayFromPgtype(t, x)
		}
	case pgtype.Numeric:
		return parseDecimal(string(x))
	case uint32:
		return int64(x), nil
	case int64:
		if t.Family == IntFamily && !IntFits(t, x) {
			return nil, OutOfRange(t)
		}
	}
	return v, nil
}

// DecodeParam decodes a bind parameter of type t in the given format.
func DecodeParam(t T, b []byte, f pgwirebase.FormatCode, loc *time.Location) (Datum, error) {
	if b == nil {
		return nil, nil
	}
	if f == pgwirebase.FormatText {
		return ParseText(t, string(b), loc)
	}
	oid := t.OID
	if t.Family == UnknownFamily || t.IsReg() {
		oid = Text.OID
	}
	v, err := pgtype.Conv{Loc: loc}.DecodeBinary(oid, b)
	if err != nil {
		return nil, pgcode.Wrap(err, pgcode.InvalidBinaryRepresentation, "incorrect binary data format")
	}
	return fromPgtype(t, v)
}

// Format appends d's wire form in format f. d must not be NULL.
func Format(dst []byte, t T, d Datum, f pgwirebase.FormatCode, loc *time.Location) ([]byte, error) {
	oid := t.OID
	if t.Family == UnknownFamily || t.IsReg() {
		oid = Text.OID
	}
	if a, ok := d.([]Datum); ok {
		if f == pgwirebase.FormatBinary {
			// pgtype writes the array header and each element in binary.
			elems := make([]any, len(a))
			for i, e := range a {
				if e != nil {
					elems[i] = toPgtype(e)
				}
			}
			return pgtype.Conv{Loc: loc}.AppendBinary(dst, oid, elems)
		}
		return formatArray(dst, t, a, loc)
	}
	v := toPgtype(d)
	c := pgtype.Conv{Loc: loc}
	if f == pgwirebase.FormatBinary {
		return c.AppendBinary(dst, oid, v)
	}
	return c.AppendText(dst, oid, v)
}

func toPgtype(d Datum) any {
	switch x := d.(type) {
	case *apd.Decimal:
		return pgtype.Numeric(DecimalText(x))
	}
	return d
}

// DecimalText formats a decimal like PostgreSQL: plain notation, scale kept.
func DecimalText(d *apd.Decimal) string {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return "NaN"
	case apd.Infinite:
		if d.Negative {
			return "-Infinity"
		}
		return "Infinity"
	}
	s := d.Text('f')
	if s == "-0" || strings.HasPrefix(s, "-0") && strings.Trim(s[1:], "0.") == "" {
		return s[1:]
	}
	return s
}

// String formats d in text for messages (and the text format); NULL is
// "NULL" only in messages' callers.
func String(t T, d Datum) string {
	b, err := Format(nil, t, d, pgwirebase.FormatText, time.UTC)
	if err != nil {
		return fmt.Sprint(d)
	}
	return string(b)
}

// Compare orders two non-NULL values of the same family.
func Compare(a, b Datum) int {
	switch x := a.(type) {
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return compareFloat(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		return cmpBool(x, b.(bool))
	case *apd.Decimal:
		return x.Cmp(b.(*apd.Decimal))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case time.Time:
		return x.Compare(b.(time.Time))
	case pgtype.Interval:
		return cmp.Compare(intervalKey(x), intervalKey(b.(pgtype.Interval)))
	case []Datum:
		return compareArrays(x, b.([]Datum))
	case pgtype.UUID:
		return bytes.Compare(x[:], func(u pgtype.UUID) []byte { return u[:] }(b.(pgtype.UUID)))
	}
	panic(fmt.Sprintf("types: cannot compare %T", a))
}

// compareFloat orders NaN after everything and equal to itself, as
// PostgreSQL does.
func compareFloat(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// intervalKey is the interval's length with PostgreSQL's 30-day months and
// 24-hour days, the order PostgreSQL compares intervals in.
func intervalKey(iv pgtype.Interval) int64 {
	const day = 86_400_000_000
	return int64(iv.Months)*30*day + int64(iv.Days)*day + iv.Micros
}
