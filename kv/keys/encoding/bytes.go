package encoding

import "bytes"

// Escapes of the ascending bytes encoding: a 0x00 in the value becomes
// 0x00 0xff and the value ends with 0x00 0x01, so a value sorts before every
// value it is a proper prefix of.
const (
	escape    byte = 0x00
	escaped00 byte = 0xff
	escTerm   byte = 0x01
)

// AppendBytes appends the order-preserving encoding of v.
func AppendBytes(b, v []byte, dir Direction) []byte {
	return appendEscaped(b, tagBytes, v, dir)
}

// AppendString appends the order-preserving encoding of s. It is the bytes
// encoding under its own tag, so strings sort bytewise (C collation).
func AppendString(b []byte, s string, dir Direction) []byte {
	return appendEscaped(b, tagString, []byte(s), dir)
}

func appendEscaped(b []byte, tag byte, v []byte, dir Direction) []byte {
	start := len(b)
	b = append(b, tag)
	for {
		i := bytes.IndexByte(v, escape)
		if i < 0 {
			break
		}
		b = append(b, v[:i]...)
		b = append(b, escape, escaped00)
		v = v[i+1:]
	}
	b = append(b, v...)
	b = append(b, escape, escTerm)
	return finish(b, start, dir)
}

// DecodeBytes decodes a value written by AppendBytes. The result is a new
// slice that does not alias b.
func DecodeBytes(b []byte, dir Direction) (rest, v []byte, err error) {
	if _, err = tagOf(b, TypeBytes, dir, tagBytes, tagBytes); err != nil {
		return nil, nil, err
	}
	return decodeEscaped(b[1:], dir)
}

// DecodeString decodes a value written by AppendString.
func DecodeString(b []byte, dir Direction) (rest []byte, s string, err error) {
	if _, err = tagOf(b, TypeString, dir, tagString, tagString); err != nil {
		return nil, "", err
	}
	if i := bytes.IndexByte(b[1:], escape); dir == Ascending && i >= 0 && i+2 < len(b) && b[i+2] == escTerm {
		return b[i+3:], string(b[1 : i+1]), nil // fast path: no escapes, one allocation
	}
	rest, v, err := decodeEscaped(b[1:], dir)
	return rest, string(v), err
}

// decodeEscaped unescapes b up to its terminator into a new slice.
func decodeEscaped(b []byte, dir Direction) (rest, out []byte, err error) {
	m := mask(dir)
	for {
		i := bytes.IndexByte(b, escape^m)
		if i < 0 || i+1 >= len(b) {
			return nil, nil, ErrShortBuffer
		}
		out = appendMasked(out, b[:i], m)
		switch b[i+1] ^ m {
		case escTerm:
			return b[i+2:], out, nil
		case escaped00:
			out = append(out, 0)
			b = b[i+2:]
		default:
			return nil, nil, ErrInvalid
		}
	}
}

func appendMasked(out, b []byte, m byte) []byte {
	if m == 0 {
		return append(out, b...)
	}
	for _, c := range b {
		out = append(out, c^m)
	}
	return out
}

func skipBytes(b []byte, dir Direction) ([]byte, error) {
	rest, _, err := decodeEscaped(b[1:], dir)
	return rest, err
}
