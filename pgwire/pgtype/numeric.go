package pgtype

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Numeric is a numeric value in canonical decimal text: an optional '-',
// digits, optionally '.' and digits (the scale); or "NaN", "Infinity",
// "-Infinity".
type Numeric string

// Binary sign words.
const (
	numPos    = 0x0000
	numNeg    = 0x4000
	numNaN    = 0xC000
	numPosInf = 0xD000
	numNegInf = 0xF000
)

// ParseNumeric validates and canonicalizes numeric input text, including
// exponent notation ("1.5e3" → "1500").
func ParseNumeric(s string) (Numeric, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "nan":
		return "NaN", nil
	case "infinity", "+infinity", "inf", "+inf":
		return "Infinity", nil
	case "-infinity", "-inf":
		return "-Infinity", nil
	}
	bad := fmt.Errorf("pgtype: invalid input syntax for type numeric: %q", s)
	neg := strings.HasPrefix(t, "-")
	if neg || strings.HasPrefix(t, "+") {
		t = t[1:]
	}
	mant, expStr, hasExp := strings.Cut(strings.ToLower(t), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if (intPart == "" && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return "", bad
	}
	exp := 0
	if hasExp {
		var err error
		if exp, err = strconv.Atoi(expStr); err != nil || exp > 1000 || exp < -1000 {
			return "", bad
		}
	}
	return canonicalNumeric(neg, intPart, frac, exp), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// canonicalNumeric shifts the decimal point by exp and formats.
func canonicalNumeric(neg bool, intPart, frac string, exp int) Numeric {
	digits, point := intPart+frac, len(intPart)+exp
	scale := max(len(frac)-exp, 0)
	for point <= 0 {
		digits, point = "0"+digits, point+1
	}
	for len(digits) < point+scale {
		digits += "0"
	}
	ip := strings.TrimLeft(digits[:point], "0")
	if ip == "" {
		ip = "0"
	}
	out := ip
	if scale > 0 {
		out += "." + digits[point:point+scale]
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return Numeric(out)
}

// AppendBinary appends the binary numeric form: ndigits, weight, sign,
// dscale, then base-10000 digits.
func (n Numeric) AppendBinary(dst []byte) ([]byte, error) {
	switch n {
	case "NaN":
		return appendNumHeader(dst, 0, 0, numNaN, 0), nil
	case "Infinity":
		return appendNumHeader(dst, 0, 0, numPosInf, 0), nil
	case "-Infinity":
		return appendNumHeader(dst, 0, 0, numNegInf, 0), nil
	}
	c, err := ParseNumeric(string(n))
	if err != nil {
		return nil, err
	}
	s, sign := string(c), uint16(numPos)
	if strings.HasPrefix(s, "-") {
		s, sign = s[1:], numNeg
	}
	ip, frac, _ := strings.Cut(s, ".")
	groups, weight := numericGroups(ip, frac)
	dst = appendNumHeader(dst, len(groups), weight, sign, len(frac))
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, g)
	}
	return dst, nil
}

// numericGroups splits digits into base-10000 groups around the point and
// strips zero groups at both ends.
func numericGroups(ip, frac string) ([]uint16, int) {
	ip = strings.Repeat("0", (4-len(ip)%4)%4) + ip
	frac += strings.Repeat("0", (4-len(frac)%4)%4)
	all := ip + frac
	groups := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		g, _ := strconv.Atoi(all[i : i+4])
		groups = append(groups, uint16(g))
	}
	weight := len(ip)/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	if len(groups) == 0 {
		weight = 0
	}
	return groups, weight
}

func appendNumHeader(dst []byte, ndigits, weight int, sign uint16, dscale int) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(ndigits))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	return binary.BigEndian.AppendUint16(dst, uint16(dscale))
}

// DecodeNumericBinary parses the binary numeric form.
func DecodeNumericBinary(src []byte) (Numeric, error) {
	bad := fmt.Errorf("pgtype: invalid binary numeric")
	if len(src) < 8 {
		return "", bad
	}
	nd := int(binary.BigEndian.Uint16(src))
	weight := int(int16(binary.BigEndian.Uint16(src[2:])))
	sign := binary.BigEndian.Uint16(src[4:])
	dscale := int(binary.BigEndian.Uint16(src[6:]))
	if len(src) != 8+2*nd || dscale > 0x3FFF {
		return "", bad
	}
	switch sign {
	case numNaN:
		return "NaN", nil
	case numPosInf:
		return "Infinity", nil
	case numNegInf:
		return "-Infinity", nil
	case numPos, numNeg:
	default:
		return "", bad
	}
	digits := make([]int, nd)
	for i := range digits {
		if digits[i] = int(binary.BigEndian.Uint16(src[8+2*i:])); digits[i] >= 10000 {
			return "", bad
		}
	}
	return formatNumeric(digits, weight, sign == numNeg, dscale), nil
}

func formatNumeric(digits []int, weight int, neg bool, dscale int) Numeric {
	group := func(i int) int { // i is the index relative to digits[0]
		if i < 0 || i >= len(digits) {
			return 0
		}
		return digits[i]
	}
	var sb strings.Builder
	if weight < 0 {
		sb.WriteByte('0')
	}
	for w := 0; w <= weight; w++ {
		if w == 0 {
			sb.WriteString(strconv.Itoa(group(w)))
		} else {
			fmt.Fprintf(&sb, "%04d", group(w))
		}
	}
	if dscale > 0 {
		var fb strings.Builder
		for i := weight + 1; fb.Len() < dscale; i++ {
			fmt.Fprintf(&fb, "%04d", group(i))
		}
		sb.WriteByte('.')
		sb.WriteString(fb.String()[:dscale])
	}
	out := sb.String()
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return Numeric(out)
}
