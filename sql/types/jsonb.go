package types

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// A jsonb Datum is its canonical text, as PostgreSQL prints it: object
// keys unique (the last wins) and ordered by length then bytes, ", " and
// ": " between elements, numbers in numeric's text form. Equal documents
// therefore have equal text, so comparison and hashing work on strings.

// ParseJSONB validates s and returns its canonical text.
func ParseJSONB(s string) (string, error) {
	v, err := DecodeJSON(s)
	if err != nil {
		return "", err
	}
	return EncodeJSON(v), nil
}

// DecodeJSON parses JSON text into nil, bool, string, json.Number,
// []any and map[string]any.
func DecodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	bad := pgcode.New(pgcode.InvalidTextRepresentation, "invalid input syntax for type json")
	if err := dec.Decode(&v); err != nil {
		return nil, bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad
	}
	return v, nil
}

// EncodeJSON renders a decoded value in canonical form.
func EncodeJSON(v any) string {
	var b strings.Builder
	encodeJSON(&b, v)
	return b.String()
}

func encodeJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, x)
	case json.Number:
		b.WriteString(canonicalNumber(string(x)))
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			encodeJSON(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range jsonKeys(x) {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, k)
			b.WriteString(": ")
			encodeJSON(b, x[k])
		}
		b.WriteByte('}')
	}
}

// jsonKeys orders keys as jsonb stores them: shorter first, then bytes.
func jsonKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return keys
}

func canonicalNumber(s string) string {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return s
	}
	return d.Text('f')
}

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	b.WriteByte('"')
}

// JSONContains reports whether a contains b (jsonb's @>): objects contain
// objects whose keys they have with contained values; arrays contain arrays
// whose every element some element of theirs contains (and a scalar they
// hold); scalars contain equal scalars.
func JSONContains(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, bv := range y {
			av, ok := x[k]
			if !ok || !JSONContains(av, bv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok {
			if _, scalar := b.(map[string]any); scalar {
				return false
			}
			y = []any{b}
		}
		for _, bv := range y {
			if !slices.ContainsFunc(x, func(av any) bool { return JSONContains(av, bv) }) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && bytes.Equal([]byte(canonicalNumber(string(x))), []byte(canonicalNumber(string(y))))
	}
	return a == b
}
