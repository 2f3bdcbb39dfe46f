package encoding

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// codec describes one type for the property and fuzz tests: how to make a
// random value, encode, decode and compare it logically.
type codec struct {
	name string
	typ  Type
	gen  func(r *rand.Rand) any
	// fromBytes builds a value from fuzz input.
	fromBytes func(b []byte) any
	enc       func(b []byte, v any, dir Direction) []byte
	dec       func(b []byte, dir Direction) ([]byte, any, error)
	cmp       func(a, b any) int
}

var codecs = []codec{
	{
		name: "bool", typ: TypeBool,
		gen:       func(r *rand.Rand) any { return r.IntN(2) == 1 },
		fromBytes: func(b []byte) any { return len(b) > 0 && b[0]&1 == 1 },
		enc:       func(b []byte, v any, d Direction) []byte { return AppendBool(b, v.(bool), d) },
		dec:       func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeBool(b, d)) },
		cmp:       func(a, b any) int { return cmpBool(a.(bool), b.(bool)) },
	},
	{
		name: "int", typ: TypeInt,
		gen:       func(r *rand.Rand) any { return randInt(r) },
		fromBytes: func(b []byte) any { return int64(u64(b)) },
		enc:       func(b []byte, v any, d Direction) []byte { return AppendInt(b, v.(int64), d) },
		dec:       func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeInt(b, d)) },
		cmp:       func(a, b any) int { return cmp.Compare(a.(int64), b.(int64)) },
	},
	{
		name: "uvarint", typ: TypeInt,
		gen:       func(r *rand.Rand) any { return uint64(randInt(r)) },
		fromBytes: func(b []byte) any { return u64(b) },
		enc: func(b []byte, v any, d Direction) []byte {
			return finish(EncodeUvarintAscending(b, v.(uint64)), len(b), d)
		},
		dec: func(b []byte, d Direction) ([]byte, any, error) {
			c := append([]byte(nil), b...)
			rest, v, err := DecodeUvarintAscending(finish(c, 0, d))
			return b[len(b)-len(rest):], v, err
		},
		cmp: func(a, b any) int { return cmp.Compare(a.(uint64), b.(uint64)) },
	},
	{
		name: "float", typ: TypeFloat,
		gen:       func(r *rand.Rand) any { return randFloat(r) },
		fromBytes: func(b []byte) any { return math.Float64frombits(u64(b)) },
		enc:       func(b []byte, v any, d Direction) []byte { return AppendFloat(b, v.(float64), d) },
		dec:       func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeFloat(b, d)) },
		cmp:       func(a, b any) int { return cmpFloat(a.(float64), b.(float64)) },
	},
	{
		name: "bytes", typ: TypeBytes,
		gen:       func(r *rand.Rand) any { return randBytes(r) },
		fromBytes: func(b []byte) any { return b },
		enc:       func(b []byte, v any, d Direction) []byte { return AppendBytes(b, v.([]byte), d) },
		dec:       func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeBytes(b, d)) },
		cmp:       func(a, b any) int { return bytes.Compare(a.([]byte), b.([]byte)) },
	},
	{
		name: "string", typ: TypeString,
		gen:       func(r *rand.Rand) any { return string(randBytes(r)) },
		fromBytes: func(b []byte) any { return string(b) },
		enc:       func(b []byte, v any, d Direction) []byte { return AppendString(b, v.(string), d) },
		dec:       func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeString(b, d)) },
		cmp:       func(a, b any) int { return strings.Compare(a.(string), b.(string)) },
	},
	{
		name: "decimal", typ: TypeDecimal,
		gen:       func(r *rand.Rand) any { return randDecimal(r) },
		fromBytes: decimalFromBytes,
		enc:       func(b []byte, v any, d Direction) []byte { return AppendDecimal(b, v.(*apd.Decimal), d) },
		dec: func(b []byte, d Direction) ([]byte, any, error) {
			rest, v, err := DecodeDecimal(b, d)
			return rest, &v, err
		},
		cmp: func(a, b any) int { return cmpDecimal(a.(*apd.Decimal), b.(*apd.Decimal)) },
	},
	{
		name: "timestamp", typ: TypeTimestamp,
		gen:       func(r *rand.Rand) any { return randInt(r) },
		fromBytes: func(b []byte) any { return int64(u64(b)) },
		enc:       func(b []byte, v any, d Direction) []byte { return AppendTimestamp(b, v.(int64), d) },
		dec:       func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeTimestamp(b, d)) },
		cmp:       func(a, b any) int { return cmp.Compare(a.(int64), b.(int64)) },
	},
	{
		name: "time", typ: TypeTimestamp,
		gen:       func(r *rand.Rand) any { return time.UnixMicro(randInt(r) >> 8).UTC() },
		fromBytes: func(b []byte) any { return time.UnixMicro(int64(u64(b)) >> 8).UTC() },
		enc:       func(b []byte, v any, d Direction) []byte { return AppendTime(b, v.(time.Time), d) },
		dec:       func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeTime(b, d)) },
		cmp:       func(a, b any) int { return a.(time.Time).Compare(b.(time.Time)) },
	},
	{
		name: "uuid", typ: TypeUUID,
		gen: func(r *rand.Rand) any {
			var u UUID
			for i := range u {
				u[i] = byte(r.IntN(3)) * 0x7f // few distinct bytes: ties and near ties
			}
			return u
		},
		fromBytes: func(b []byte) any {
			var u UUID
			copy(u[:], b)
			return u
		},
		enc: func(b []byte, v any, d Direction) []byte { return AppendUUID(b, v.(UUID), d) },
		dec: func(b []byte, d Direction) ([]byte, any, error) { return wrap(DecodeUUID(b, d)) },
		cmp: func(a, b any) int {
			x, y := a.(UUID), b.(UUID)
			return bytes.Compare(x[:], y[:])
		},
	},
}

func wrap[T any](rest []byte, v T, err error) ([]byte, any, error) { return rest, v, err }

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// cmpFloat is PostgreSQL's float order: NaN is greatest and equals NaN.
func cmpFloat(a, b float64) int {
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

// cmpDecimal is PostgreSQL's numeric order: NaN is greatest and equals NaN.
func cmpDecimal(a, b *apd.Decimal) int {
	an, bn := a.Form >= apd.NaNSignaling, b.Form >= apd.NaNSignaling
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return a.Cmp(b)
}

func u64(b []byte) uint64 {
	var u uint64
	for i := 0; i < 8 && i < len(b); i++ {
		u = u<<8 | uint64(b[i])
	}
	return u
}

// randInt favours the boundaries of the int format.
func randInt(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return int64(r.IntN(200)) - 100
	case 1:
		edges := []int64{0, 63, 64, 255, 256, -1, -256, -257, math.MaxInt64, math.MinInt64, 1 << 32, -1 << 32}
		return edges[r.IntN(len(edges))] + int64(r.IntN(3)) - 1
	case 2:
		return r.Int64() >> r.IntN(64)
	}
	return -(r.Int64() >> r.IntN(64))
}

func randFloat(r *rand.Rand) float64 {
	switch r.IntN(5) {
	case 0:
		specials := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
			math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64}
		return specials[r.IntN(len(specials))]
	case 1:
		return float64(r.IntN(10) - 5)
	}
	f := math.Float64frombits(r.Uint64())
	if math.IsNaN(f) {
		return 1.5
	}
	return f
}

func randBytes(r *rand.Rand) []byte {
	alphabet := []byte{0x00, 0x01, 0xfe, 0xff, 'a', 'b'}
	b := make([]byte, r.IntN(6))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func randDecimal(r *rand.Rand) *apd.Decimal {
	switch r.IntN(10) {
	case 0:
		forms := []string{"NaN", "Infinity", "-Infinity", "0", "-0", "0.000", "0E+10"}
		return mustDecimal(forms[r.IntN(len(forms))])
	}
	var digits strings.Builder
	for range 1 + r.IntN(25) {
		digits.WriteByte('0' + byte(r.IntN(10)))
	}
	s := digits.String() + "E" + strconv.Itoa(r.IntN(60)-30)
	if r.IntN(2) == 0 {
		s = "-" + s
	}
	return mustDecimal(s)
}

// decimalFromBytes builds a finite decimal from fuzz bytes: sign, exponent,
// then at most 40 digits (long ones only slow the fuzzer down).
func decimalFromBytes(b []byte) any {
	b = b[:min(len(b), 40)]
	var s strings.Builder
	if len(b) > 0 && b[0]&1 == 1 {
		s.WriteByte('-')
	}
	for _, c := range b {
		s.WriteByte('0' + c%10)
	}
	if len(b) < 2 {
		s.WriteByte('7')
	}
	exp := 0
	if len(b) > 1 {
		exp = int(int8(b[1]))
	}
	return mustDecimal(s.String() + "E" + strconv.Itoa(exp))
}

func mustDecimal(s string) *apd.Decimal {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		panic(err)
	}
	return d
}
