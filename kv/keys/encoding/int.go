package encoding

import "math"

// AppendInt appends the order-preserving encoding of v.
//
// Values 0..63 take one byte; otherwise a tag byte says the sign and the
// number n (1..8) of big-endian bytes that follow. See doc.go.
func AppendInt(b []byte, v int64, dir Direction) []byte {
	start := len(b)
	if v < 0 {
		b = appendNegInt(b, v)
	} else {
		b = appendUvarint(b, uint64(v))
	}
	return finish(b, start, dir)
}

// EncodeUvarintAscending appends the ascending encoding of an unsigned
// integer (table and index IDs). For v <= math.MaxInt64 it is byte for byte
// AppendInt(b, int64(v), Ascending).
func EncodeUvarintAscending(b []byte, v uint64) []byte {
	return appendUvarint(b, v)
}

func appendUvarint(b []byte, v uint64) []byte {
	if v <= uint64(intMaxInline) {
		return append(b, tagIntZero+byte(v))
	}
	n := byteLen(v)
	b = append(b, tagIntPos1+byte(n-1))
	return appendBigEndian(b, v, n)
}

// appendNegInt encodes v < 0 as its low n bytes, where n is the number of
// bytes of ^v (= -v-1); more bytes means more negative, so a smaller tag.
func appendNegInt(b []byte, v int64) []byte {
	n := byteLen(uint64(^v))
	b = append(b, tagIntNeg1-byte(n-1))
	return appendBigEndian(b, uint64(v), n)
}

// byteLen is the number of bytes needed to hold v, at least 1.
func byteLen(v uint64) int {
	n := 1
	for v > 0xff {
		v >>= 8
		n++
	}
	return n
}

func appendBigEndian(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*uint(i))))
	}
	return b
}

// DecodeInt decodes a value written by AppendInt in direction dir.
func DecodeInt(b []byte, dir Direction) (rest []byte, v int64, err error) {
	rest, neg, u, err := decodeVarint(b, dir)
	if err != nil {
		return nil, 0, err
	}
	if !neg && u > math.MaxInt64 {
		return nil, 0, ErrOutOfRange
	}
	return rest, int64(u), nil
}

// DecodeUvarintAscending decodes a value written by EncodeUvarintAscending.
func DecodeUvarintAscending(b []byte) (rest []byte, v uint64, err error) {
	rest, neg, u, err := decodeVarint(b, Ascending)
	if err != nil {
		return nil, 0, err
	}
	if neg {
		return nil, 0, ErrOutOfRange
	}
	return rest, u, nil
}

// decodeVarint returns the magnitude bits of an int encoding: for negative
// values, u is the two's complement bit pattern of the int64.
func decodeVarint(b []byte, dir Direction) (rest []byte, neg bool, u uint64, err error) {
	t, err := tagOf(b, TypeInt, dir, tagIntMin, tagIntMax)
	if err != nil {
		return nil, false, 0, err
	}
	switch {
	case t < tagIntZero:
		rest, u, err = decodeNegInt(b, t, dir)
		return rest, true, u, err
	case t < tagIntPos1:
		return b[1:], false, uint64(t - tagIntZero), nil
	default:
		rest, u, err = decodePosInt(b, t, dir)
		return rest, false, u, err
	}
}

func decodeNegInt(b []byte, t byte, dir Direction) ([]byte, uint64, error) {
	n := int(tagIntNeg1-t) + 1
	u, err := readBigEndian(b[1:], n, dir)
	if err != nil {
		return nil, 0, err
	}
	if n < 8 {
		u |= math.MaxUint64 << (8 * uint(n)) // sign-extend
	}
	if int64(u) >= 0 || byteLen(^u) != n {
		return nil, 0, ErrInvalid // not negative, or not minimal
	}
	return b[1+n:], u, nil
}

func decodePosInt(b []byte, t byte, dir Direction) ([]byte, uint64, error) {
	n := int(t-tagIntPos1) + 1
	u, err := readBigEndian(b[1:], n, dir)
	if err != nil {
		return nil, 0, err
	}
	if u <= uint64(intMaxInline) || byteLen(u) != n {
		return nil, 0, ErrInvalid // not minimal
	}
	return b[1+n:], u, nil
}

func readBigEndian(b []byte, n int, dir Direction) (uint64, error) {
	if len(b) < n {
		return 0, ErrShortBuffer
	}
	m := mask(dir)
	var u uint64
	for _, c := range b[:n] {
		u = u<<8 | uint64(c^m)
	}
	return u, nil
}

func skipInt(b []byte, dir Direction) ([]byte, error) {
	rest, _, _, err := decodeVarint(b, dir)
	return rest, err
}
