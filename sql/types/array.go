package types

import (
	"fmt"
	"strings"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// Arrays are one-dimensional, with lower bound 1. Their Datum is []Datum
// (nil elements are NULL); their type is T{Family: ArrayFamily, OID: the
// array type's OID}: the element type follows from the OID, and the
// element's modifiers (varchar(10)[], numeric(5,2)[]) are the array type's
// Width, Prec and Scale, as PostgreSQL's atttypmod of an array column is
// its element's.

// arrayElems maps array type OIDs to their element types' OIDs.
var arrayElems = map[uint32]uint32{
	1000: 16, 1005: 21, 1007: 23, 1016: 20, 1021: 700, 1022: 701, 1231: 1700,
	1009: 25, 1015: 1043, 1014: 1042, 1003: 19, 1001: 17, 1028: 26,
	1182: 1082, 1115: 1114, 1185: 1184, 1187: 1186, 2951: 2950, 3807: 3802,
}

var elemArrays = map[uint32]uint32{}

func init() {
	for a, e := range arrayElems {
		elemArrays[e] = a
		t := T{Family: ArrayFamily, OID: a}
		byOID[a] = t
		// names and typnames, not byOID: types.go's init, which fills
		// byOID, runs after this one.
		names[a] = names[e] + "[]"
		typnames[a] = "_" + typnames[e]
		byName["_"+typnames[e]] = t
	}
}

// ArrayOf returns the array type of elem; ok is false when ordo has none.
func ArrayOf(elem T) (T, bool) {
	a, ok := elemArrays[elem.OID]
	if elem.Family == UnknownFamily {
		a, ok = elemArrays[Text.OID]
	}
	return T{Family: ArrayFamily, OID: a}, ok
}

// Elem returns an array type's element type, modifiers included.
func (t T) Elem() T {
	e := byOID[arrayElems[t.OID]]
	e.Width, e.Prec, e.Scale = t.Width, t.Prec, t.Scale
	return e
}

// ArrayOfMod is ArrayOf keeping elem's modifiers (a column of type
// varchar(10)[]).
func ArrayOfMod(elem T) (T, bool) {
	a, ok := ArrayOf(elem)
	a.Width, a.Prec, a.Scale = elem.Width, elem.Prec, elem.Scale
	return a, ok
}

// ArrayTypeOID is pg_type.typarray: the OID of t's array type, 0 if none.
func (t T) ArrayTypeOID() uint32 { return elemArrays[t.OID] }

// formatArray appends the text form: {a,"b c",NULL}.
func formatArray(dst []byte, t T, a []Datum, loc *time.Location) ([]byte, error) {
	dst = append(dst, '{')
	for i, d := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		if d == nil {
			dst = append(dst, "NULL"...)
			continue
		}
		b, err := Format(nil, t.Elem(), d, pgwirebase.FormatText, loc)
		if err != nil {
			return nil, err
		}
		dst = appendArrayElem(dst, string(b))
	}
	return append(dst, '}'), nil
}

func appendArrayElem(dst []byte, s string) []byte {
	if s != "" && !strings.EqualFold(s, "NULL") && !strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

func malformedArray(s, detail string) error {
	e := pgcode.New(pgcode.InvalidTextRepresentation, "malformed array literal: %q", s)
	e.Detail = detail
	return e
}

// parseArray parses a one-dimensional array literal.
func parseArray(t T, s string, loc *time.Location) (Datum, error) {
	in := strings.TrimSpace(s)
	if in != "" && in[0] == '[' {
		return nil, sqlerr.Unsupported("array literals with dimension decorations are not supported")
	}
	if in == "" || in[0] != '{' {
		return nil, malformedArray(s, `Array value must start with "{" or dimension information.`)
	}
	if len(in) < 2 || in[len(in)-1] != '}' {
		return nil, malformedArray(s, "Unexpected end of input.")
	}
	body := in[1 : len(in)-1]
	if b := strings.TrimLeft(body, " \t\n"); b != "" && b[0] == '{' {
		return nil, sqlerr.Unsupported("multidimensional arrays are not supported")
	}
	out := []Datum{}
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	for body != "" || len(out) == 0 {
		elem, quoted, rest, err := nextArrayElem(body)
		if err != nil {
			return nil, malformedArray(s, err.Error())
		}
		if !quoted && strings.EqualFold(elem, "NULL") {
			out = append(out, nil)
		} else {
			d, err := ParseText(t.Elem(), elem, loc)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		if rest == "" {
			break
		}
		body = rest[1:] // the comma
	}
	return out, nil
}

// nextArrayElem splits the first element off body; rest starts at the
// comma after it, or is empty.
func nextArrayElem(body string) (elem string, quoted bool, rest string, err error) {
	body = strings.TrimLeft(body, " \t\n")
	var b strings.Builder
	i := 0
	if strings.HasPrefix(body, `"`) {
		quoted = true
		for i = 1; i < len(body) && body[i] != '"'; i++ {
			if body[i] == '\\' && i+1 < len(body) {
				i++
			}
			b.WriteByte(body[i])
		}
		if i == len(body) {
			return "", false, "", arrayDetail("Unexpected end of input.")
		}
		i++
	} else {
		for ; i < len(body) && body[i] != ','; i++ {
			if strings.IndexByte("{}\"", body[i]) >= 0 {
				return "", false, "", arrayDetail(fmt.Sprintf("Unexpected %q character.", body[i]))
			}
		}
		b.WriteString(strings.TrimRight(body[:i], " \t\n"))
		if b.Len() == 0 {
			return "", false, "", arrayDetail(`Unexpected "," character.`)
		}
	}
	rest = strings.TrimLeft(body[i:], " \t\n")
	if rest != "" && rest[0] != ',' {
		return "", false, "", arrayDetail("Unexpected array element.")
	}
	if rest == "," {
		return "", false, "", arrayDetail(`Unexpected "}" character.`)
	}
	return b.String(), quoted, rest, nil
}

// compareArrays orders arrays element by element, NULL elements last, a
// prefix first.
func compareArrays(a, b []Datum) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch {
		case a[i] == nil && b[i] == nil:
			continue
		case a[i] == nil:
			return 1
		case b[i] == nil:
			return -1
		}
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// castArray casts each element.
func castArray(d Datum, from, to T, loc *time.Location) (Datum, error) {
	a, ok := d.([]Datum)
	if !ok {
		return d, nil
	}
	out := make([]Datum, len(a))
	for i, e := range a {
		if e == nil {
			continue
		}
		// Lengths and precisions are fitted by fitWidth (explicitly or
		// for assignment), like a scalar's.
		v, err := convert(e, from.Elem(), to.Elem(), loc)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// arrayDetail is the DETAIL of a malformed array literal, worded (and
// punctuated) exactly as PostgreSQL's.
type arrayDetail string

func (d arrayDetail) Error() string { return string(d) }

// fitArray applies the element type's length or precision to each element.
func fitArray(a []Datum, to T, explicit bool) (Datum, error) {
	et := to.Elem()
	if et.Width == 0 && et.Prec == 0 && et.OID != Name.OID {
		return a, nil
	}
	out := make([]Datum, len(a))
	for i, e := range a {
		v, err := fitWidth(e, et, explicit)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// arrayFromPgtype converts a decoded binary array's elements to Datums of
// t's element type.
func arrayFromPgtype(t T, a []any) (Datum, error) {
	et := t.Elem()
	out := make([]Datum, len(a))
	for i, e := range a {
		if e == nil {
			continue
		}
		v, err := fromPgtype(et, e)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
