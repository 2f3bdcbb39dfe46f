package encoding

import "math"

// AppendFloat appends the order-preserving encoding of f. -0 encodes as +0.
// NaN (every NaN) sorts after +Inf, as in PostgreSQL, and equals itself.
func AppendFloat(b []byte, f float64, dir Direction) []byte {
	start := len(b)
	if math.IsNaN(f) {
		return finish(append(b, tagFloatNaN), start, dir)
	}
	b = append(b, tagFloat)
	b = appendBigEndian(b, floatBits(f), 8)
	return finish(b, start, dir)
}

// floatBits maps f to a uint64 whose unsigned order is f's order: negative
// values have all bits flipped, the others just the sign bit.
func floatBits(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 becomes +0
	}
	u := math.Float64bits(f)
	if u>>63 == 1 {
		return ^u
	}
	return u | 1<<63
}

// DecodeFloat decodes a value written by AppendFloat in direction dir.
func DecodeFloat(b []byte, dir Direction) (rest []byte, f float64, err error) {
	t, err := tagOf(b, TypeFloat, dir, tagFloat, tagFloatNaN)
	if err != nil {
		return nil, 0, err
	}
	if t == tagFloatNaN {
		return b[1:], math.NaN(), nil
	}
	u, err := readBigEndian(b[1:], 8, dir)
	if err != nil {
		return nil, 0, err
	}
	if u>>63 == 1 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	f = math.Float64frombits(u)
	if math.IsNaN(f) || u == 1<<63 {
		return nil, 0, ErrInvalid // NaN has its own tag; -0 is written as +0
	}
	return b[9:], f, nil
}
