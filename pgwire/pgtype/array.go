package pgtype

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// maxArrayElems bounds decoded arrays against hostile element counts.
const maxArrayElems = 1 << 20

func arrayValue(v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("pgtype: cannot encode %T as an array", v)
	}
	return a, nil
}

func (c Conv) appendArrayText(dst []byte, elem uint32, v any) ([]byte, error) {
	a, err := arrayValue(v)
	if err != nil {
		return nil, err
	}
	dst = append(dst, '{')
	for i, e := range a {
		if i > 0 {
			dst = append(dst, ',')
		}
		if e == nil {
			dst = append(dst, "NULL"...)
			continue
		}
		s, err := c.AppendText(nil, elem, e)
		if err != nil {
			return nil, err
		}
		dst = appendArrayElem(dst, s)
	}
	return append(dst, '}'), nil
}

// appendArrayElem quotes an element when PostgreSQL would.
func appendArrayElem(dst, s []byte) []byte {
	if !needsQuote(s) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, b := range s {
		if b == '"' || b == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, b)
	}
	return append(dst, '"')
}

func needsQuote(s []byte) bool {
	if len(s) == 0 || strings.EqualFold(string(s), "NULL") {
		return true
	}
	for _, b := range s {
		switch b {
		case '{', '}', ',', '"', '\\', ' ', '\t', '\n', '\r', '\v', '\f':
			return true
		}
	}
	return false
}

func (c Conv) decodeArrayText(elem uint32, src []byte) ([]any, error) {
	s := strings.TrimSpace(string(src))
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("pgtype: malformed array literal: %q", truncate(src))
	}
	items, err := splitArrayText(s[1 : len(s)-1])
	if err != nil {
		return nil, fmt.Errorf("pgtype: malformed array literal: %q: %w", truncate(src), err)
	}
	out := make([]any, len(items))
	for i, it := range items {
		if it == nil {
			continue
		}
		if out[i], err = c.DecodeText(elem, it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// splitArrayText splits the inside of a 1-D array literal; nil = NULL.
func splitArrayText(s string) ([][]byte, error) {
	var out [][]byte
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for i := 0; ; {
		item, next, err := nextArrayItem(s, i)
		if err != nil {
			return nil, err
		}
		out = append(out, item)
		if len(out) > maxArrayElems {
			return nil, fmt.Errorf("too many elements")
		}
		if next >= len(s) {
			return out, nil
		}
		i = next + 1 // skip ','
	}
}

func nextArrayItem(s string, i int) ([]byte, int, error) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) && s[i] == '"' {
		b := []byte{}
		for i++; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i++; i >= len(s) {
					return nil, 0, fmt.Errorf("unterminated escape")
				}
				b = append(b, s[i])
			case '"':
				return b, skipToComma(s, i+1), nil
			default:
				b = append(b, s[i])
			}
		}
		return nil, 0, fmt.Errorf("unterminated quote")
	}
	j := strings.IndexByte(s[i:], ',')
	if j < 0 {
		j = len(s) - i
	}
	raw := strings.TrimSpace(s[i : i+j])
	if strings.ContainsAny(raw, `{}"\`) || raw == "" {
		return nil, 0, fmt.Errorf("unexpected character")
	}
	if strings.EqualFold(raw, "NULL") {
		return nil, i + j, nil
	}
	return []byte(raw), i + j, nil
}

func skipToComma(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// appendArrayBinary writes ndim, has-null flag, element OID, dimensions and
// length-prefixed elements.
func (c Conv) appendArrayBinary(dst []byte, elem uint32, v any) ([]byte, error) {
	a, err := arrayValue(v)
	if err != nil {
		return nil, err
	}
	hasNull := 0
	for _, e := range a {
		if e == nil {
			hasNull = 1
		}
	}
	if len(a) == 0 {
		dst = binary.BigEndian.AppendUint32(dst, 0)
		dst = binary.BigEndian.AppendUint32(dst, 0)
		return binary.BigEndian.AppendUint32(dst, elem), nil
	}
	for _, x := range []uint32{1, uint32(hasNull), elem, uint32(len(a)), 1} {
		dst = binary.BigEndian.AppendUint32(dst, x)
	}
	for _, e := range a {
		if e == nil {
			dst = binary.BigEndian.AppendUint32(dst, 0xFFFFFFFF)
			continue
		}
		lenAt := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		if dst, err = c.AppendBinary(dst, elem, e); err != nil {
			return nil, err
		}
		binary.BigEndian.PutUint32(dst[lenAt:], uint32(len(dst)-lenAt-4))
	}
	return dst, nil
}

func (c Conv) decodeArrayBinary(elem uint32, src []byte) ([]any, error) {
	bad := fmt.Errorf("pgtype: invalid binary array")
	if len(src) < 12 {
		return nil, bad
	}
	ndim := binary.BigEndian.Uint32(src)
	if binary.BigEndian.Uint32(src[8:]) != elem || ndim > 1 {
		return nil, bad
	}
	if ndim == 0 {
		return []any{}, nil
	}
	if len(src) < 20 {
		return nil, bad
	}
	n := int(int32(binary.BigEndian.Uint32(src[12:])))
	if n < 0 || n > maxArrayElems || n > (len(src)-20)/4 {
		return nil, bad
	}
	out, rest := make([]any, n), src[20:]
	for i := range out {
		if len(rest) < 4 {
			return nil, bad
		}
		l := int(int32(binary.BigEndian.Uint32(rest)))
		rest = rest[4:]
		if l == -1 {
			continue
		}
		if l < 0 || l > len(rest) {
			return nil, bad
		}
		v, err := c.DecodeBinary(elem, rest[:l])
		if err != nil {
			return nil, err
		}
		out[i], rest = v, rest[l:]
	}
	if len(rest) != 0 {
		return nil, bad
	}
	return out, nil
}
