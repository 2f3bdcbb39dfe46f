package pgtype

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Conv converts values; Loc is the session TimeZone for timestamptz text
// (UTC when nil).
type Conv struct {
	Loc *time.Location
}

// ErrUnsupported reports a type OID this package does not handle.
var ErrUnsupported = errors.New("pgtype: unsupported type")

func typeErr(oid uint32, v any) error {
	return fmt.Errorf("pgtype: cannot encode %T as type %d", v, oid)
}

func decodeErr(oid uint32, src []byte) error {
	return fmt.Errorf("pgtype: invalid input for type %d: %q", oid, truncate(src))
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func (c Conv) loc() *time.Location {
	if c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

// AppendText appends v's text form. The result is never nil, even for an
// empty value, since nil means NULL on the wire.
func (c Conv) AppendText(dst []byte, oid uint32, v any) ([]byte, error) {
	if dst == nil {
		dst = []byte{}
	}
	if elem, ok := arrayOf[oid]; ok {
		return c.appendArrayText(dst, elem, v)
	}
	switch oid {
	case BoolOID:
		b, ok := v.(bool)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(dst, "ft"[boolInt(b)]), nil
	case Int2OID, Int4OID, Int8OID:
		n, err := intValue(oid, v)
		return strconv.AppendInt(dst, n, 10), err
	case OIDOID, XIDOID:
		n, err := oidValue(v)
		return strconv.AppendUint(dst, uint64(n), 10), err
	case Float4OID, Float8OID:
		f, ok := v.(float64)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return appendFloatText(dst, f, oid == Float4OID), nil
	case ByteaOID:
		b, ok := v.([]byte)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return hex.AppendEncode(append(dst, `\x`...), b), nil
	}
	return c.appendTextMore(dst, oid, v)
}

func (c Conv) appendTextMore(dst []byte, oid uint32, v any) ([]byte, error) {
	switch oid {
	case TextOID, VarcharOID, BPCharOID, NameOID, CharOID, JSONBOID:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(dst, s...), nil
	case NumericOID:
		n, ok := v.(Numeric)
		if !ok {
			return nil, typeErr(oid, v)
		}
		if _, err := ParseNumeric(string(n)); err != nil {
			return nil, err
		}
		return append(dst, n...), nil
	case DateOID, TimestampOID, TimestamptzOID:
		t, ok := v.(time.Time)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return c.appendTimeText(dst, oid, t), nil
	case IntervalOID:
		iv, ok := v.(Interval)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return iv.AppendText(dst), nil
	case UUIDOID:
		u, ok := v.(UUID)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(dst, u.String()...), nil
	case InetOID:
		return appendInetText(dst, v)
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupported, oid)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// oidValue accepts an oid as uint32, or as int64 within its range (the SQL
// layer keeps oids as integers).
func oidValue(v any) (uint32, error) {
	switch n := v.(type) {
	case uint32:
		return n, nil
	case int64:
		if n < 0 || n > math.MaxUint32 {
			return 0, fmt.Errorf("pgtype: %d out of range for type oid", n)
		}
		return uint32(n), nil
	}
	return 0, typeErr(OIDOID, v)
}

func intValue(oid uint32, v any) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, typeErr(oid, v)
	}
	lim := map[uint32]int64{Int2OID: math.MaxInt16, Int4OID: math.MaxInt32, Int8OID: math.MaxInt64}[oid]
	if n > lim || n < -lim-1 {
		return 0, fmt.Errorf("pgtype: %d out of range for type %d", n, oid)
	}
	return n, nil
}

// appendFloatText formats like PostgreSQL with extra_float_digits = 1: the
// shortest exact digits, in exponent form when the exponent is below -4 or
// at least 15 (float8) / 6 (float4).
func appendFloatText(dst []byte, f float64, is4 bool) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	bits, limit := 64, 15
	if is4 {
		bits, limit = 32, 6
	}
	e := strconv.FormatFloat(f, 'e', -1, bits)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= limit {
		return strconv.AppendFloat(dst, f, 'e', -1, bits)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits)
}

// DecodeText parses a text-format value.
func (c Conv) DecodeText(oid uint32, src []byte) (any, error) {
	if elem, ok := arrayOf[oid]; ok {
		return c.decodeArrayText(elem, src)
	}
	s := string(src)
	switch oid {
	case BoolOID:
		return parseBool(s)
	case Int2OID, Int4OID, Int8OID:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, decodeErr(oid, src)
		}
		return intValue(oid, n)
	case OIDOID, XIDOID:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return nil, decodeErr(oid, src)
		}
		return uint32(n), nil
	case Float4OID, Float8OID:
		return parseFloat(oid, s)
	case ByteaOID:
		return parseBytea(src)
	}
	return c.decodeTextMore(oid, src)
}

func (c Conv) decodeTextMore(oid uint32, src []byte) (any, error) {
	s := string(src)
	switch oid {
	case TextOID, VarcharOID, BPCharOID, NameOID, CharOID, JSONBOID:
		return s, nil
	case NumericOID:
		return ParseNumeric(s)
	case DateOID, TimestampOID, TimestamptzOID:
		return c.parseTime(oid, s)
	case IntervalOID:
		return ParseInterval(s)
	case UUIDOID:
		return ParseUUID(s)
	case InetOID:
		return parseInet(s)
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupported, oid)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("pgtype: invalid input syntax for type boolean: %q", s)
}

func parseFloat(oid uint32, s string) (float64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	bits := 64
	if oid == Float4OID {
		bits = 32
	}
	f, err := strconv.ParseFloat(t, bits)
	if err != nil {
		return 0, decodeErr(oid, []byte(s))
	}
	return f, nil
}

func parseBytea(src []byte) ([]byte, error) {
	if len(src) >= 2 && src[0] == '\\' && src[1] == 'x' {
		out := make([]byte, hex.DecodedLen(len(src)-2))
		if _, err := hex.Decode(out, src[2:]); err != nil {
			return nil, decodeErr(ByteaOID, src)
		}
		return out, nil
	}
	return parseByteaEscape(src)
}

// parseByteaEscape decodes the traditional escape format (\\ and \ooo).
func parseByteaEscape(src []byte) ([]byte, error) {
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); i++ {
		if src[i] != '\\' {
			out = append(out, src[i])
			continue
		}
		switch {
		case i+1 < len(src) && src[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(src) && isOctal(src[i+1]) && isOctal(src[i+2]) && isOctal(src[i+3]) && src[i+1] <= '3':
			out = append(out, (src[i+1]-'0')<<6|(src[i+2]-'0')<<3|(src[i+3]-'0'))
			i += 3
		default:
			return nil, decodeErr(ByteaOID, src)
		}
	}
	return out, nil
}

func isOctal(b byte) bool { return b >= '0' && b <= '7' }

// AppendBinary appends v's binary form; never nil (nil means NULL).
func (c Conv) AppendBinary(dst []byte, oid uint32, v any) ([]byte, error) {
	if dst == nil {
		dst = []byte{}
	}
	if elem, ok := arrayOf[oid]; ok {
		return c.appendArrayBinary(dst, elem, v)
	}
	switch oid {
	case BoolOID:
		b, ok := v.(bool)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(dst, byte(boolInt(b))), nil
	case Int2OID, Int4OID, Int8OID:
		n, err := intValue(oid, v)
		if err != nil {
			return nil, err
		}
		size := map[uint32]int{Int2OID: 2, Int4OID: 4, Int8OID: 8}[oid]
		return append(dst, binary.BigEndian.AppendUint64(nil, uint64(n))[8-size:]...), nil
	case OIDOID, XIDOID:
		n, err := oidValue(v)
		if err != nil {
			return nil, err
		}
		return binary.BigEndian.AppendUint32(dst, n), nil
	case Float4OID:
		f, ok := v.(float64)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(f))), nil
	case Float8OID:
		f, ok := v.(float64)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(f)), nil
	}
	return c.appendBinaryMore(dst, oid, v)
}

func (c Conv) appendBinaryMore(dst []byte, oid uint32, v any) ([]byte, error) {
	switch oid {
	case TextOID, VarcharOID, BPCharOID, NameOID, CharOID:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(dst, s...), nil
	case JSONBOID:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(append(dst, 1), s...), nil
	case ByteaOID:
		b, ok := v.([]byte)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(dst, b...), nil
	case NumericOID:
		n, ok := v.(Numeric)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return n.AppendBinary(dst)
	case DateOID, TimestampOID, TimestamptzOID:
		t, ok := v.(time.Time)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return appendTimeBinary(dst, oid, t), nil
	case IntervalOID:
		iv, ok := v.(Interval)
		if !ok {
			return nil, typeErr(oid, v)
		}
		dst = binary.BigEndian.AppendUint64(dst, uint64(iv.Micros))
		dst = binary.BigEndian.AppendUint32(dst, uint32(iv.Days))
		return binary.BigEndian.AppendUint32(dst, uint32(iv.Months)), nil
	case UUIDOID:
		u, ok := v.(UUID)
		if !ok {
			return nil, typeErr(oid, v)
		}
		return append(dst, u[:]...), nil
	case InetOID:
		return appendInetBinary(dst, v)
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupported, oid)
}

// DecodeBinary parses a binary-format value.
func (c Conv) DecodeBinary(oid uint32, src []byte) (any, error) {
	if elem, ok := arrayOf[oid]; ok {
		return c.decodeArrayBinary(elem, src)
	}
	need := map[uint32]int{BoolOID: 1, Int2OID: 2, Int4OID: 4, Int8OID: 8, OIDOID: 4, XIDOID: 4, Float4OID: 4,
		Float8OID: 8, DateOID: 4, TimestampOID: 8, TimestamptzOID: 8, IntervalOID: 16, UUIDOID: 16}
	if n, ok := need[oid]; ok && len(src) != n {
		return nil, decodeErr(oid, src)
	}
	switch oid {
	case BoolOID:
		return src[0] != 0, nil
	case Int2OID:
		return int64(int16(binary.BigEndian.Uint16(src))), nil
	case Int4OID:
		return int64(int32(binary.BigEndian.Uint32(src))), nil
	case Int8OID:
		return int64(binary.BigEndian.Uint64(src)), nil
	case OIDOID, XIDOID:
		return binary.BigEndian.Uint32(src), nil
	case Float4OID:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(src))), nil
	case Float8OID:
		return math.Float64frombits(binary.BigEndian.Uint64(src)), nil
	}
	return c.decodeBinaryMore(oid, src)
}

func (c Conv) decodeBinaryMore(oid uint32, src []byte) (any, error) {
	switch oid {
	case TextOID, VarcharOID, BPCharOID, NameOID, CharOID:
		return string(src), nil
	case JSONBOID:
		if len(src) < 1 || src[0] != 1 {
			return nil, decodeErr(oid, src)
		}
		return string(src[1:]), nil
	case ByteaOID:
		return append([]byte{}, src...), nil
	case NumericOID:
		return DecodeNumericBinary(src)
	case DateOID, TimestampOID, TimestamptzOID:
		return decodeTimeBinary(oid, src), nil
	case IntervalOID:
		return Interval{
			Micros: int64(binary.BigEndian.Uint64(src)),
			Days:   int32(binary.BigEndian.Uint32(src[8:])),
			Months: int32(binary.BigEndian.Uint32(src[12:])),
		}, nil
	case UUIDOID:
		return UUID(src), nil
	case InetOID:
		return decodeInetBinary(src)
	}
	return nil, fmt.Errorf("%w: %d", ErrUnsupported, oid)
}
