package copyfmt

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func decodeAll(t *testing.T, in string, o Options) ([][]*string, error) {
	t.Helper()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(strings.NewReader(in), o)
	var out [][]*string
	for {
		row, err := d.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var r []*string
		for _, f := range row {
			if f == nil {
				r = append(r, nil)
				continue
			}
			s := string(f)
			r = append(r, &s)
		}
		out = append(out, r)
	}
}

func p(s string) *string { return &s }

func TestDecodeText(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		o        Options
		want     [][]*string
	}{
		{"pgbench", "1\t1\t0\t\n2\t1\t0\t\n\\.\n", Options{}, [][]*string{{p("1"), p("1"), p("0"), p("")}, {p("2"), p("1"), p("0"), p("")}}},
		{"null and escapes", "\\N\ta\\tb\\\\c\\nd\\101\\x41\n", Options{}, [][]*string{{nil, p("a\tb\\c\ndAA")}}},
		{"escaped delimiter", "a\\\tb\tc\n", Options{}, [][]*string{{p("a\tb"), p("c")}}},
		{"no final newline", "x\ty", Options{}, [][]*string{{p("x"), p("y")}}},
		{"crlf", "x\ty\r\n", Options{}, [][]*string{{p("x"), p("y")}}},
		{"custom delimiter and null", "a|NULL|\\N\n", Options{Delimiter: '|', DelimiterSet: true, Null: "NULL", NullSet: true}, [][]*string{{p("a"), nil, p("N")}}},
		{"data after marker ignored", "a\n\\.\nb\n", Options{}, [][]*string{{p("a")}}},
		{"escaped newline", "a\\\nb\n", Options{}, [][]*string{{p("a\nb")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeAll(t, tc.in, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v want %v", show(got), show(tc.want))
			}
		})
	}
}

func TestDecodeCSV(t *testing.T) {
	csv := Options{Format: CSV}
	for _, tc := range []struct {
		name, in string
		o        Options
		want     [][]*string
	}{
		{"basic", "1,a,\"b,c\"\n", csv, [][]*string{{p("1"), p("a"), p("b,c")}}},
		{"null vs empty", ",\"\"\n", csv, [][]*string{{nil, p("")}}},
		{"doubled quote", "\"a\"\"b\"\n", csv, [][]*string{{p("a\"b")}}},
		{"multiline", "\"a\nb\",c\n", csv, [][]*string{{p("a\nb"), p("c")}}},
		{"header", "id,name\n1,x\n", Options{Format: CSV, Header: true}, [][]*string{{p("1"), p("x")}}},
		{"options", "1;'a;b';\\N\n", Options{Format: CSV, Delimiter: ';', DelimiterSet: true, Quote: '\'', QuoteSet: true, Null: `\N`, NullSet: true}, [][]*string{{p("1"), p("a;b"), nil}}},
		{"escape char", "\"a\\\"b\"\n", Options{Format: CSV, Escape: '\\', EscapeSet: true}, [][]*string{{p("a\"b")}}},
		{"end marker", "a\n\\.\n", csv, [][]*string{{p("a")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeAll(t, tc.in, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v want %v", show(got), show(tc.want))
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		o        Options
	}{
		{"unterminated quote", "\"abc\n", Options{Format: CSV}},
		{"bad signature", "PGCOPY\n\xff\r\n\x01xxxxxxxx", Options{Format: Binary}},
		{"short field", string(Signature) + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x05ab", Options{Format: Binary}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeAll(t, tc.in, tc.o)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a FormatError", err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	rows := [][][]byte{
		{[]byte("1"), []byte("plain"), nil},
		{[]byte("2"), []byte("tab\there, comma \"quote\"\nnewline\\back"), []byte("")},
		{[]byte(`\.`), []byte("|;"), []byte("\r")},
	}
	for _, o := range []Options{{}, {Format: CSV}, {Format: Binary}, {Format: CSV, Header: true}, {Delimiter: '|', DelimiterSet: true}} {
		t.Run(o.Format.String(), func(t *testing.T) {
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			e := NewEncoder(o)
			var buf bytes.Buffer
			buf.Write(e.Header([]string{"a", "b", "c"}))
			for _, r := range rows {
				buf.Write(e.Row(r))
			}
			buf.Write(e.Trailer())
			d := NewDecoder(&buf, o)
			for i, want := range rows {
				got, err := d.Next()
				if err != nil {
					t.Fatalf("row %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("row %d: got %q want %q", i, got, want)
				}
			}
			if _, err := d.Next(); err != io.EOF {
				t.Fatalf("want EOF, got %v", err)
			}
		})
	}
}

func TestBinaryWithoutTrailer(t *testing.T) {
	o := Options{Format: Binary}
	e := NewEncoder(o)
	in := append(append([]byte{}, e.Header(nil)...), e.Row([][]byte{[]byte("x")})...)
	got, err := decodeAll(t, string(in), o)
	if err != nil || len(got) != 1 || *got[0][0] != "x" {
		t.Fatalf("got %v, %v", show(got), err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("1\t\\N\t\\x41\n\\.\n"), uint8(0))
	f.Add([]byte("\"a\"\"b\",,\"\"\n"), uint8(1))
	f.Add(append(append([]byte{}, Signature...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'x'), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, format uint8) {
		o := Options{Format: Format(format % 3)}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		d := NewDecoder(bytes.NewReader(in), o)
		for i := 0; i < len(in)+2; i++ {
			if _, err := d.Next(); err != nil {
				return
			}
		}
		t.Fatal("decoder did not end")
	})
}

func show(rows [][]*string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("[")
		for _, f := range r {
			if f == nil {
				b.WriteString("NULL ")
			} else {
				b.WriteString("'" + *f + "' ")
			}
		}
		b.WriteString("]")
	}
	return b.String()
}
