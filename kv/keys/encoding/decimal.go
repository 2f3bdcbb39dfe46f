package encoding

import (
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// decTerm ends the digit bytes of a decimal; digit pairs are 1..100.
const decTerm byte = 0x00

// AppendDecimal appends the order-preserving encoding of d.
//
// Order: -Infinity < negatives < zero < positives < +Infinity < NaN (NaN
// sorts last and equals itself, as in PostgreSQL). Equal values encode
// identically whatever their scale (1.0 and 1.00), so the scale is not kept:
// DecodeDecimal returns the value with trailing zeros removed.
func AppendDecimal(b []byte, d *apd.Decimal, dir Direction) []byte {
	start := len(b)
	switch {
	case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
		b = append(b, tagDecNaN)
	case d.Form == apd.Infinite && d.Negative:
		b = append(b, tagDecNInf)
	case d.Form == apd.Infinite:
		b = append(b, tagDecPInf)
	case d.Coeff.Sign() == 0:
		b = append(b, tagDecZero)
	default:
		b = appendFiniteDecimal(b, d)
	}
	return finish(b, start, dir)
}

// appendFiniteDecimal writes a nonzero d as 0.DIGITS × 10^E: the tag, E as
// an int, then the digits two per byte. Negative values complement
// everything after the tag.
func appendFiniteDecimal(b []byte, d *apd.Decimal) []byte {
	digits := d.Coeff.Text(10)
	trimmed := strings.TrimRight(digits, "0")
	exp := int64(d.Exponent) + int64(len(digits))
	tag := tagDecPos
	if d.Negative {
		tag = tagDecNeg
	}
	b = append(b, tag)
	body := len(b)
	b = AppendInt(b, exp, Ascending)
	b = appendDigitPairs(b, trimmed)
	if d.Negative {
		b = finish(b, body, Descending)
	}
	return b
}

// appendDigitPairs writes digits (no leading or trailing zero) as bytes
// 1 + 10*first + second, padding an odd last digit with 0, then decTerm.
func appendDigitPairs(b []byte, digits string) []byte {
	for i := 0; i < len(digits); i += 2 {
		p := 10 * (digits[i] - '0')
		if i+1 < len(digits) {
			p += digits[i+1] - '0'
		}
		b = append(b, 1+p)
	}
	return append(b, decTerm)
}

// DecodeDecimal decodes a value written by AppendDecimal.
func DecodeDecimal(b []byte, dir Direction) (rest []byte, d apd.Decimal, err error) {
	t, err := tagOf(b, TypeDecimal, dir, tagDecNInf, tagDecNaN)
	if err != nil {
		return nil, d, err
	}
	switch t {
	case tagDecNaN:
		d.Form = apd.NaN
	case tagDecNInf, tagDecPInf:
		d.Form, d.Negative = apd.Infinite, t == tagDecNInf
	case tagDecNeg, tagDecPos:
		return decodeFiniteDecimal(b[1:], t == tagDecNeg, dir)
	}
	return b[1:], d, nil
}

func decodeFiniteDecimal(b []byte, neg bool, dir Direction) (rest []byte, d apd.Decimal, err error) {
	bodyDir := dir
	if neg {
		bodyDir ^= 1
	}
	rest, exp, err := DecodeInt(b, bodyDir)
	if err != nil {
		return nil, d, err
	}
	rest, digits, err := decodeDigitPairs(rest, bodyDir)
	if err != nil {
		return nil, d, err
	}
	e := exp - int64(len(digits))
	if e < math.MinInt32 || e > math.MaxInt32 {
		return nil, d, ErrOutOfRange
	}
	if _, ok := d.Coeff.SetString(digits, 10); !ok {
		return nil, d, ErrInvalid
	}
	d.Exponent, d.Negative = int32(e), neg
	return rest, d, nil
}

// decodeDigitPairs reads digit bytes up to decTerm and checks they are
// canonical: nonempty, no leading zero digit, no trailing zero digit.
func decodeDigitPairs(b []byte, dir Direction) (rest []byte, digits string, err error) {
	m := mask(dir)
	var sb strings.Builder
	for i, c := range b {
		c ^= m
		if c == decTerm {
			digits, err = unpadDigits(sb.String())
			return b[i+1:], digits, err
		}
		if c > 100 {
			return nil, "", ErrInvalid
		}
		sb.WriteByte('0' + (c-1)/10)
		sb.WriteByte('0' + (c-1)%10)
	}
	return nil, "", ErrShortBuffer
}

// unpadDigits drops the pad of an odd digit count (a trailing '0', since a
// canonical last digit is never 0) and checks the digits are canonical:
// nonempty, with neither a leading nor a trailing zero.
func unpadDigits(s string) (string, error) {
	s = strings.TrimSuffix(s, "0")
	if len(s) == 0 || s[0] == '0' || s[len(s)-1] == '0' {
		return "", ErrInvalid
	}
	return s, nil
}

func skipDecimal(b []byte, dir Direction) ([]byte, error) {
	rest, _, err := DecodeDecimal(b, dir)
	return rest, err
}
