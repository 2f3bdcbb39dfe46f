package pgtype

import (
	"math"
	"net/netip"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata"

	jpgtype "github.com/jackc/pgx/v5/pgtype"
)

var (
	ts   = time.Date(2024, 2, 29, 13, 14, 15, 123456000, time.UTC)
	uuid = UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8}
)

// roundTrip is one value in our representation and in the form pgx encodes
// and scans, with a function normalising what pgx scanned to ours.
type roundTrip struct {
	oid     uint32
	ours    any
	pgx     any           // value pgx encodes
	scan    func() any    // new pointer for pgx to scan into
	fromPgx func(any) any // pointer scanned by pgx → our representation
}

func deref[T any](p any) any { return *(p.(*T)) }

func newOf[T any]() func() any { return func() any { return new(T) } }

func intsFrom[T int16 | int32 | int64](p any) any { return int64(*(p.(*T))) }

func roundTrips() []roundTrip {
	num := func(s string) jpgtype.Numeric {
		var n jpgtype.Numeric
		if err := n.Scan(s); err != nil {
			panic(err)
		}
		return n
	}
	numFrom := func(p any) any {
		v, _ := p.(*jpgtype.Numeric).Value()
		n, _ := ParseNumeric(v.(string))
		return n
	}
	rts := []roundTrip{
		{BoolOID, true, true, newOf[bool](), deref[bool]},
		{BoolOID, false, false, newOf[bool](), deref[bool]},
		{Int2OID, int64(-32768), int16(-32768), newOf[int16](), intsFrom[int16]},
		{Int4OID, int64(2147483647), int32(2147483647), newOf[int32](), intsFrom[int32]},
		{Int8OID, int64(math.MinInt64), int64(math.MinInt64), newOf[int64](), intsFrom[int64]},
		{Float8OID, 3.141592653589793, 3.141592653589793, newOf[float64](), deref[float64]},
		{Float8OID, 1e300, 1e300, newOf[float64](), deref[float64]},
		{Float8OID, math.Inf(-1), math.Inf(-1), newOf[float64](), deref[float64]},
		{Float4OID, float64(float32(1.5)), float32(1.5), newOf[float32](), func(p any) any { return float64(*(p.(*float32))) }},
		{TextOID, "héllo, wörld", "héllo, wörld", newOf[string](), deref[string]},
		{VarcharOID, "", "", newOf[string](), deref[string]},
		{NameOID, "pg_class", "pg_class", newOf[string](), deref[string]},
		{BPCharOID, "ab  ", "ab  ", newOf[string](), deref[string]},
		{ByteaOID, []byte{0, 1, 0xfe, 0xff}, []byte{0, 1, 0xfe, 0xff}, newOf[[]byte](), deref[[]byte]},
		{DateOID, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), newOf[time.Time](), deref[time.Time]},
		{DateOID, time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), newOf[time.Time](), deref[time.Time]},
		{TimestampOID, ts, ts, newOf[time.Time](), deref[time.Time]},
		{TimestamptzOID, ts, ts, newOf[time.Time](), func(p any) any { return p.(*time.Time).UTC() }},
		{TimestamptzOID, time.Date(1960, 5, 6, 7, 8, 9, 10000, time.UTC), time.Date(1960, 5, 6, 7, 8, 9, 10000, time.UTC), newOf[time.Time](), func(p any) any { return p.(*time.Time).UTC() }},
		{IntervalOID, Interval{Months: 14, Days: -3, Micros: 3723000004}, jpgtype.Interval{Months: 14, Days: -3, Microseconds: 3723000004, Valid: true},
			newOf[jpgtype.Interval](), func(p any) any {
				iv := p.(*jpgtype.Interval)
				return Interval{Months: iv.Months, Days: iv.Days, Micros: iv.Microseconds}
			}},
		{UUIDOID, uuid, [16]byte(uuid), newOf[[16]byte](), func(p any) any { return UUID(*(p.(*[16]byte))) }},
		{OIDOID, uint32(4294967295), uint32(4294967295), newOf[uint32](), deref[uint32]},
		{XIDOID, uint32(4294967295), uint32(4294967295), newOf[uint32](), deref[uint32]},
		{InetOID, "127.0.0.1", netip.MustParsePrefix("127.0.0.1/32"), newOf[netip.Prefix](), prefixText},
		{InetOID, "10.1.2.3/8", netip.MustParsePrefix("10.1.2.3/8"), newOf[netip.Prefix](), prefixText},
		{InetOID, "::1", netip.MustParsePrefix("::1/128"), newOf[netip.Prefix](), prefixText},
		{1016, []any{int64(1), nil, int64(-3)}, []*int64{ptr(int64(1)), nil, ptr(int64(-3))}, newOf[[]*int64](), func(p any) any {
			var out []any
			for _, v := range *(p.(*[]*int64)) {
				if v == nil {
					out = append(out, nil)
				} else {
					out = append(out, *v)
				}
			}
			return out
		}},
		{1009, []any{"a b", `q"uote`, `back\slash`, "", "NULL", "{x}", "plain"}, []string{"a b", `q"uote`, `back\slash`, "", "NULL", "{x}", "plain"},
			newOf[[]string](), func(p any) any {
				var out []any
				for _, v := range *(p.(*[]string)) {
					out = append(out, v)
				}
				return out
			}},
		{1007, []any{}, []int32{}, newOf[[]int32](), func(p any) any {
			out := []any{}
			for _, v := range *(p.(*[]int32)) {
				out = append(out, int64(v))
			}
			return out
		}},
	}
	for _, s := range []string{"0", "123.4500", "-0.000012", "99999999999999999999.1", "10000", "NaN", "Infinity", "-Infinity", "0.0001"} {
		rts = append(rts, roundTrip{NumericOID, Numeric(s), num(s), newOf[jpgtype.Numeric](), numFrom})
	}
	return rts
}

func ptr[T any](v T) *T { return &v }

func TestRoundTripWithPgx(t *testing.T) {
	m := jpgtype.NewMap()
	var c Conv
	for _, rt := range roundTrips() {
		for _, format := range []int16{jpgtype.TextFormatCode, jpgtype.BinaryFormatCode} {
			// ours → pgx
			var enc []byte
			var err error
			if format == jpgtype.TextFormatCode {
				enc, err = c.AppendText(nil, rt.oid, rt.ours)
			} else {
				enc, err = c.AppendBinary(nil, rt.oid, rt.ours)
			}
			if err != nil {
				t.Fatalf("oid %d %v format %d: encode: %v", rt.oid, rt.ours, format, err)
			}
			dst := rt.scan()
			if err := m.Scan(rt.oid, format, enc, dst); err != nil {
				t.Fatalf("oid %d %v format %d: pgx scan of %q: %v", rt.oid, rt.ours, format, enc, err)
			}
			if got := rt.fromPgx(dst); !equal(got, rt.ours) {
				t.Errorf("oid %d format %d: ours→pgx %v, want %v (wire %q)", rt.oid, format, got, rt.ours, enc)
			}
			// pgx → ours
			penc, err := m.Encode(rt.oid, format, rt.pgx, nil)
			if err != nil {
				t.Fatalf("oid %d %v format %d: pgx encode: %v", rt.oid, rt.pgx, format, err)
			}
			var got any
			if format == jpgtype.TextFormatCode {
				got, err = c.DecodeText(rt.oid, penc)
			} else {
				got, err = c.DecodeBinary(rt.oid, penc)
			}
			if err != nil || !equal(got, rt.ours) {
				t.Errorf("oid %d format %d: pgx→ours %v (%v), want %v (wire %q)", rt.oid, format, got, err, rt.ours, penc)
			}
		}
	}
}

func equal(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}

// TestTextOutput pins text forms to what PostgreSQL 15 prints by default.
func TestTextOutput(t *testing.T) {
	nyc, err := time.LoadLocation("America/New_York") // time/tzdata is embedded in this test
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		conv Conv
		oid  uint32
		v    any
		want string
	}{
		{Conv{}, Float8OID, 0.1, "0.1"},
		{Conv{}, Float8OID, 1e15, "1e+15"},
		{Conv{}, Float8OID, 123456789012345.0, "123456789012345"},
		{Conv{}, Float8OID, 0.0001, "0.0001"},
		{Conv{}, Float8OID, 0.00001, "1e-05"},
		{Conv{}, Float8OID, math.NaN(), "NaN"},
		{Conv{}, Float4OID, float64(float32(1234567)), "1.234567e+06"},
		{Conv{}, BoolOID, true, "t"},
		{Conv{}, ByteaOID, []byte("\x00ab"), `\x006162`},
		{Conv{}, TimestampOID, ts, "2024-02-29 13:14:15.123456"},
		{Conv{}, TimestamptzOID, ts, "2024-02-29 13:14:15.123456+00"},
		{Conv{Loc: nyc}, TimestamptzOID, ts, "2024-02-29 08:14:15.123456-05"},
		{Conv{Loc: time.FixedZone("", 5*3600+1800)}, TimestamptzOID, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), "2020-01-01 05:30:00+05:30"},
		{Conv{}, DateOID, time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC), "0044-03-15 BC"},
		{Conv{}, IntervalOID, Interval{Months: 14, Days: 3, Micros: 14706789000}, "1 year 2 mons 3 days 04:05:06.789"},
		{Conv{}, IntervalOID, Interval{Days: -1, Micros: 7200000000}, "-1 days +02:00:00"},
		{Conv{}, IntervalOID, Interval{}, "00:00:00"},
		{Conv{}, IntervalOID, Interval{Months: -1}, "-1 mons"},
		{Conv{}, UUIDOID, uuid, "12345678-9abc-def0-0102-030405060708"},
		{Conv{}, 1009, []any{"a", nil, "b c"}, `{a,NULL,"b c"}`},
	}
	for _, tt := range tests {
		got, err := tt.conv.AppendText(nil, tt.oid, tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("oid %d %v: got %q (%v), want %q", tt.oid, tt.v, got, err, tt.want)
		}
	}
}

func TestParseNumeric(t *testing.T) {
	for in, want := range map[string]Numeric{
		"1.5e3": "1500", "-0.0": "0.0", "+12": "12", " 7.10 ": "7.10", "1e-2": "0.01", ".5": "0.5", "nan": "NaN",
	} {
		if got, err := ParseNumeric(in); err != nil || got != want {
			t.Errorf("ParseNumeric(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "abc", "1e", "--1", "1e99999"} {
		if _, err := ParseNumeric(bad); err == nil {
			t.Errorf("ParseNumeric(%q) succeeded", bad)
		}
	}
}

func TestIntervalParse(t *testing.T) {
	for _, iv := range []Interval{{Months: 14, Days: 3, Micros: 14706789000}, {Days: -1, Micros: 7200000000}, {Micros: -1}, {}} {
		got, err := ParseInterval(iv.String())
		if err != nil || got != iv {
			t.Errorf("ParseInterval(%q) = %v, %v", iv.String(), got, err)
		}
	}
}

// FuzzDecode checks that no input makes a decoder panic.
func FuzzDecode(f *testing.F) {
	f.Add(uint16(1700), []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, false)
	f.Add(uint16(1009), []byte(`{a,"b\"",NULL}`), true)
	f.Add(uint16(1016), []byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 1}, false)
	f.Fuzz(func(t *testing.T, oid uint16, src []byte, text bool) {
		var c Conv
		if text {
			_, _ = c.DecodeText(uint32(oid), src)
		} else {
			_, _ = c.DecodeBinary(uint32(oid), src)
		}
	})
}

// The SQL layer keeps oids as int64: they encode like uint32 within the
// oid range and are refused outside it.
func TestOIDFromInt64(t *testing.T) {
	var c Conv
	for _, enc := range []func([]byte, uint32, any) ([]byte, error){c.AppendText, c.AppendBinary} {
		want, err := enc(nil, OIDOID, uint32(4294967295))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := enc(nil, OIDOID, int64(4294967295)); err != nil || string(got) != string(want) {
			t.Errorf("int64: %q %v, want %q", got, err, want)
		}
		for _, bad := range []any{int64(-1), int64(1 << 32), "10"} {
			if _, err := enc(nil, OIDOID, bad); err == nil {
				t.Errorf("%T %v encoded as oid", bad, bad)
			}
		}
	}
}

// prefixText is inet's text form of a pgx-decoded prefix.
func prefixText(p any) any { return inetText(*(p.(*netip.Prefix))) }
