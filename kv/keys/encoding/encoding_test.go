package encoding

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestKnownEncodings(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"null", AppendNull(nil, Ascending), "01"},
		{"null desc", AppendNull(nil, Descending), "fe"},
		{"null high", AppendNullHigh(nil, Ascending), "fe"},
		{"false", AppendBool(nil, false, Ascending), "10"},
		{"true desc", AppendBool(nil, true, Descending), "ee"},
		{"int 0", AppendInt(nil, 0, Ascending), "38"},
		{"int 63", AppendInt(nil, 63, Ascending), "77"},
		{"int 64", AppendInt(nil, 64, Ascending), "7840"},
		{"int 256", AppendInt(nil, 256, Ascending), "790100"},
		{"int max", AppendInt(nil, math.MaxInt64, Ascending), "7f7fffffffffffffff"},
		{"int -1", AppendInt(nil, -1, Ascending), "37ff"},
		{"int -256", AppendInt(nil, -256, Ascending), "3700"},
		{"int -257", AppendInt(nil, -257, Ascending), "36feff"},
		{"int min", AppendInt(nil, math.MinInt64, Ascending), "308000000000000000"},
		{"int 1 desc", AppendInt(nil, 1, Descending), "c6"},
		{"uvarint max", EncodeUvarintAscending(nil, math.MaxUint64), "7fffffffffffffffff"},
		{"float 0", AppendFloat(nil, 0, Ascending), "128000000000000000"},
		{"float -0", AppendFloat(nil, math.Copysign(0, -1), Ascending), "128000000000000000"},
		{"float 1", AppendFloat(nil, 1, Ascending), "12bff0000000000000"},
		{"float -1", AppendFloat(nil, -1, Ascending), "12400fffffffffffff"},
		{"float nan", AppendFloat(nil, math.NaN(), Ascending), "13"},
		{"bytes empty", AppendBytes(nil, nil, Ascending), "140001"},
		{"bytes a\\x00b", AppendBytes(nil, []byte("a\x00b"), Ascending), "146100ff620001"},
		{"bytes desc", AppendBytes(nil, []byte("a\x00"), Descending), "eb9eff00fffe"},
		{"string ab", AppendString(nil, "ab", Ascending), "1561620001"},
		{"decimal 0", AppendDecimal(nil, mustDecimal("0.00"), Ascending), "18"},
		{"decimal 1", AppendDecimal(nil, mustDecimal("1.000"), Ascending), "19390b00"},
		{"decimal 12.5", AppendDecimal(nil, mustDecimal("12.5"), Ascending), "193a0d3300"},
		{"decimal -1", AppendDecimal(nil, mustDecimal("-1"), Ascending), "17c6f4ff"},
		{"decimal 0.01", AppendDecimal(nil, mustDecimal("0.01"), Ascending), "1937ff0b00"},
		{"decimal nan", AppendDecimal(nil, mustDecimal("NaN"), Ascending), "1b"},
		{"timestamp 0", AppendTimestamp(nil, 0, Ascending), "1c8000000000000000"},
		{"uuid", AppendUUID(nil, UUID{15: 1}, Ascending), "1d00000000000000000000000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(tt.got); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	var tagErr *TagError
	tests := []struct {
		name string
		in   string
		dec  func([]byte) error
		want any // error sentinel or **TagError
	}{
		{"empty int", "", decErr(DecodeInt), ErrShortBuffer},
		{"int wrong dir", "c6", decErr(DecodeInt), &tagErr},
		{"int is bytes", "140001", decErr(DecodeInt), &tagErr},
		{"int short", "7901", decErr(DecodeInt), ErrShortBuffer},
		{"int not minimal", "7805", decErr(DecodeInt), ErrInvalid},
		{"int not minimal 2", "790040", decErr(DecodeInt), ErrInvalid},
		{"neg not minimal", "36ffff", decErr(DecodeInt), ErrInvalid},
		{"neg 8 positive", "300000000000000000", decErr(DecodeInt), ErrInvalid},
		{"int overflow", "7fffffffffffffffff", decErr(DecodeInt), ErrOutOfRange},
		{"uvarint negative", "37ff", uvarintErr, ErrOutOfRange},
		{"float -0", "127fffffffffffffff", decErr(DecodeFloat), ErrInvalid},
		{"float nan bits", "12fff8000000000000", decErr(DecodeFloat), ErrInvalid},
		{"float short", "12bf", decErr(DecodeFloat), ErrShortBuffer},
		{"bytes no term", "146162", decErr(DecodeBytes), ErrShortBuffer},
		{"bytes bad escape", "14610002", decErr(DecodeBytes), ErrInvalid},
		{"bytes lone escape", "146100", decErr(DecodeBytes), ErrShortBuffer},
		{"string as bytes", "1561620001", decErr(DecodeBytes), &tagErr},
		{"decimal trailing 0", "19390c0100", decErr(DecodeDecimal), ErrInvalid},
		{"decimal leading 0", "19390200", decErr(DecodeDecimal), ErrInvalid},
		{"decimal no digits", "193900", decErr(DecodeDecimal), ErrInvalid},
		{"decimal digit > 100", "19396600", decErr(DecodeDecimal), ErrInvalid},
		{"decimal no term", "19390b", decErr(DecodeDecimal), ErrShortBuffer},
		{"decimal exp range", "197b800000010b00", decErr(DecodeDecimal), ErrOutOfRange},
		{"uuid short", "1d00", decErr(DecodeUUID), ErrShortBuffer},
		{"bool is null", "01", decErr(DecodeBool), &tagErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := hex.DecodeString(tt.in)
			err := tt.dec(in)
			var ok bool
			switch w := tt.want.(type) {
			case error:
				ok = errors.Is(err, w)
			default:
				ok = errors.As(err, w)
			}
			if !ok {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// decErr adapts an ascending decoder to the table above.
func decErr[T any](f func([]byte, Direction) ([]byte, T, error)) func([]byte) error {
	return func(b []byte) error {
		_, _, err := f(b, Ascending)
		return err
	}
}

func uvarintErr(b []byte) error {
	_, _, err := DecodeUvarintAscending(b)
	return err
}

// TestOrderProperty sorts random values of each type by their logical
// order and checks bytes.Compare of their encodings agrees, both directions,
// and that every encoding round-trips.
func TestOrderProperty(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			vals := make([]any, 300)
			for i := range vals {
				vals[i] = c.gen(r)
			}
			for _, dir := range []Direction{Ascending, Descending} {
				checkOrder(t, c, vals, dir)
			}
		})
	}
}

func checkOrder(t *testing.T, c codec, vals []any, dir Direction) {
	t.Helper()
	sign := 1
	if dir == Descending {
		sign = -1
	}
	encs := make([][]byte, len(vals))
	for i, v := range vals {
		encs[i] = c.enc(nil, v, dir)
		checkRoundTrip(t, c, v, encs[i], dir)
	}
	for i := range vals {
		j := (i*7 + 1) % len(vals)
		want := sign * c.cmp(vals[i], vals[j])
		if got := bytes.Compare(encs[i], encs[j]); got != want {
			t.Fatalf("%s: cmp(%v, %v) = %d, bytes.Compare(%x, %x) = %d", dir, vals[i], vals[j], want, encs[i], encs[j], got)
		}
	}
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return sign * c.cmp(vals[a], vals[b]) })
	for k := 1; k < len(idx); k++ {
		if bytes.Compare(encs[idx[k-1]], encs[idx[k]]) > 0 {
			t.Fatalf("%s: %v sorts before %v but %x > %x", dir, vals[idx[k-1]], vals[idx[k]], encs[idx[k-1]], encs[idx[k]])
		}
	}
}

func checkRoundTrip(t *testing.T, c codec, v any, enc []byte, dir Direction) {
	t.Helper()
	tail := []byte{0x00, 0xff, 0x42}
	rest, got, err := c.dec(append(slices.Clip(enc), tail...), dir)
	if err != nil {
		t.Fatalf("%s: decode %x (%v): %v", dir, enc, v, err)
	}
	if !bytes.Equal(rest, tail) || c.cmp(v, got) != 0 {
		t.Fatalf("%s: decode %x = %v rest %x, want %v rest %x", dir, enc, got, rest, v, tail)
	}
	if re := c.enc(nil, got, dir); !bytes.Equal(re, enc) {
		t.Fatalf("%s: re-encode of %v = %x, want %x", dir, got, re, enc)
	}
	if typ, _ := PeekType(enc); typ != c.typ {
		t.Fatalf("PeekType(%x) = %s, want %s", enc, typ, c.typ)
	}
	if n, err := PeekLength(enc); err != nil || n != len(enc) {
		t.Fatalf("PeekLength(%x) = %d, %v", enc, n, err)
	}
}

// TestCompositeOrder checks that concatenated columns with mixed directions
// and NULLs sort lexicographically by column.
func TestCompositeOrder(t *testing.T) {
	type row struct {
		null bool
		s    string
		i    int64
	}
	r := rand.New(rand.NewPCG(2, 2))
	rows := make([]row, 400)
	for k := range rows {
		rows[k] = row{null: r.IntN(5) == 0, s: string(randBytes(r)), i: randInt(r)}
	}
	enc := func(x row) []byte {
		var b []byte
		if x.null {
			b = AppendNull(b, Descending)
		} else {
			b = AppendString(b, x.s, Descending)
		}
		return AppendInt(b, x.i, Ascending)
	}
	logical := func(x, y row) int { // col 1: s DESC with NULL smallest (so last), col 2: i ASC
		switch {
		case x.null != y.null:
			return cmpBool(x.null, y.null)
		case !x.null && x.s != y.s:
			return -compareStrings(x.s, y.s)
		}
		return compareInts(x.i, y.i)
	}
	slices.SortFunc(rows, logical)
	for k := 1; k < len(rows); k++ {
		a, b := enc(rows[k-1]), enc(rows[k])
		if want, got := logical(rows[k-1], rows[k]), bytes.Compare(a, b); want != got {
			t.Fatalf("%+v vs %+v: logical %d, bytes %d", rows[k-1], rows[k], want, got)
		}
	}
}

func compareStrings(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) }

func compareInts(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestNullOrder(t *testing.T) {
	for _, dir := range []Direction{Ascending, Descending} {
		low, high := AppendNull(nil, dir), AppendNullHigh(nil, dir)
		for _, c := range codecs {
			v := c.enc(nil, c.gen(rand.New(rand.NewPCG(3, 3))), dir)
			lowFirst := bytes.Compare(low, v) < 0 && bytes.Compare(v, high) < 0
			if lowFirst != (dir == Ascending) {
				t.Errorf("%s %s: null low %x, value %x, null high %x", c.name, dir, low, v, high)
			}
			if _, ok := DecodeIfNull(low); !ok {
				t.Errorf("DecodeIfNull(%x) = false", low)
			}
			if _, ok := DecodeIfNull(v); ok && c.typ != TypeNull {
				t.Errorf("DecodeIfNull(%x) = true", v)
			}
		}
	}
}

func TestSkipComposite(t *testing.T) {
	var b []byte
	b = AppendInt(b, 1<<40, Descending)
	b = AppendNull(b, Ascending)
	b = AppendString(b, "x\x00y", Descending)
	b = AppendDecimal(b, mustDecimal("-3.25"), Descending)
	b = AppendFloat(b, 2.5, Ascending)
	want := []Type{TypeInt, TypeNull, TypeString, TypeDecimal, TypeFloat}
	for i, typ := range want {
		if got, _ := PeekType(b); got != typ {
			t.Fatalf("column %d: PeekType = %s, want %s", i, got, typ)
		}
		var err error
		if b, err = Skip(b); err != nil {
			t.Fatalf("column %d: %v", i, err)
		}
	}
	if len(b) != 0 {
		t.Fatalf("left %x", b)
	}
}

func TestPeekTypeDirection(t *testing.T) {
	typ, dir := PeekType(AppendBytes(nil, nil, Descending))
	if typ != TypeBytes || dir != Descending {
		t.Fatalf("got %s %s", typ, dir)
	}
	if typ, _ := PeekType([]byte{0x02}); typ != TypeUnknown {
		t.Fatalf("got %s", typ)
	}
	if _, err := PeekLength([]byte{0x02}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
}
