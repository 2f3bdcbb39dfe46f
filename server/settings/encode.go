package settings

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Encode encodes a value for storage: a byte holding the type, then the
// payload (bool: one byte 0 or 1; int, bytes, duration: a signed varint;
// string: its bytes). The zero Value encodes to nil.
func Encode(v Value) []byte {
	if v.typ == 0 {
		return nil
	}
	b := []byte{byte(v.typ)}
	switch v.typ {
	case Bool:
		return append(b, byte(v.i))
	case String:
		return append(b, v.s...)
	}
	return binary.AppendVarint(b, v.i)
}

// Decode decodes a stored value of s and validates it: a value stored with
// another type (the setting changed type) or outside the bounds (they
// tightened) is an error, so the caller keeps the default.
func (s *Setting) Decode(data []byte) (Value, error) {
	v, err := decode(data)
	if err != nil {
		return Value{}, s.invalid(fmt.Sprintf("%x", data), err)
	}
	if err := s.Validate(v); err != nil {
		return Value{}, err
	}
	return v, nil
}

func decode(data []byte) (Value, error) {
	if len(data) == 0 {
		return Value{}, errors.New("empty encoding")
	}
	t, payload := Type(data[0]), data[1:]
	switch t {
	case Bool:
		if len(payload) != 1 || payload[0] > 1 {
			return Value{}, errors.New("bad bool encoding")
		}
		return BoolValue(payload[0] == 1), nil
	case String:
		return StringValue(string(payload)), nil
	case Int, Bytes, Duration:
		i, n := binary.Varint(payload)
		if n <= 0 || n != len(payload) {
			return Value{}, fmt.Errorf("bad %s encoding", t)
		}
		return Value{typ: t, i: i}, nil
	}
	return Value{}, fmt.Errorf("unknown type byte %d", data[0])
}
