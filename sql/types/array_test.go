package types

import (
	"errors"
	"testing"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// int4Array is integer[] (not a package variable: the array types are
// registered by init, after package variables are initialised).
func int4Array() T {
	t, _ := ArrayOf(Int4)
	return t
}

// TestParseArray covers the text forms PostgreSQL accepts and the errors
// it gives, and the multidimensional forms ordo refuses.
func TestParseArray(t *testing.T) {
	for _, c := range []struct {
		in, out, code string
	}{
		{in: "{1,2,3}", out: "{1,2,3}"},
		{in: " { 1 , NULL ,\"3\" } ", out: "{1,NULL,3}"},
		{in: "{}", out: "{}"},
		{in: "{a}", code: "22P02"},
		{in: "1,2", code: "22P02"},
		{in: "{1,2", code: "22P02"},
		{in: "{1,,2}", code: "22P02"},
		{in: "{99999999999}", code: "22003"},
		{in: "{{1,2},{3,4}}", code: "0A000"},
		{in: "[0:1]={1,2}", code: "0A000"},
	} {
		d, err := ParseText(int4Array(), c.in, time.UTC)
		if c.code != "" {
			var pe *pgcode.Error
			if !errors.As(err, &pe) || string(pe.Code) != c.code {
				t.Errorf("%q: got %v, want %s", c.in, err, c.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if s := String(int4Array(), d); s != c.out {
			t.Errorf("%q: %s, want %s", c.in, s, c.out)
		}
	}
}

// TestArrayBinaryRoundTrip formats arrays in binary and decodes them back
// as a parameter, element types converted (numeric, int ranges).
func TestArrayBinaryRoundTrip(t *testing.T) {
	num, _ := ArrayOf(Numeric)
	for _, c := range []struct {
		t  T
		in string
	}{{int4Array(), "{1,NULL,-2147483648}"}, {int4Array(), "{}"}, {num, "{1.50,NULL,-3}"}} {
		d, err := ParseText(c.t, c.in, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Format(nil, c.t, d, pgwirebase.FormatBinary, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeParam(c.t, b, pgwirebase.FormatBinary, time.UTC)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if s := String(c.t, back); s != c.in {
			t.Errorf("%s: round trip gave %s", c.in, s)
		}
	}
}

// TestArrayModifiers: an array type keeps its element's modifiers, which
// assignment applies element by element and an explicit cast truncates.
func TestArrayModifiers(t *testing.T) {
	vc3, _ := ArrayOfMod(Varchar.WithWidth(3))
	if s, m := vc3.SQLString(), vc3.TypeMod(); s != "character varying(3)[]" || m != 7 {
		t.Errorf("varchar(3)[]: %s, typmod %d", s, m)
	}
	text, _ := ArrayOf(Text)
	long := []Datum{"abcd", nil}
	if _, err := AssignCast(long, text, vc3, time.UTC); err == nil {
		t.Error("assignment of {abcd} to varchar(3)[] succeeded")
	}
	d, err := Cast(long, text, vc3, time.UTC)
	if err != nil || String(vc3, d) != "{abc,NULL}" {
		t.Errorf("cast: %v %v", d, err)
	}
}
