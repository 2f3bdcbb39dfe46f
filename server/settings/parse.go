package settings

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Parse parses SQL-ish text into a value of the setting's type and
// validates it. The text may be single-quoted ('15s', with ” for a quote)
// or bare (262144, true):
//   - bool: true/false, on/off, yes/no, t/f, 1/0 (any case), as Postgres;
//   - int: a decimal integer;
//   - bytes: a non-negative number with an optional unit: B, KiB, MiB, GiB,
//     TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000), any case,
//     space optional: 262144, '64MiB', '64 MiB', '1.5GiB';
//   - duration: Go syntax ('15s', '1h30m', '250ms'), spaces ignored; a bare
//     number must be 0;
//   - string: the text.
func (s *Setting) Parse(text string) (Value, error) {
	raw := unquote(strings.TrimSpace(text))
	v, err := parseAs(s.typ, raw)
	if err != nil {
		return Value{}, s.invalid(text, err)
	}
	if err := s.Validate(v); err != nil {
		var iv *InvalidValueError
		if errors.As(err, &iv) {
			iv.Input = text
		}
		return Value{}, err
	}
	return v, nil
}

// unquote strips one pair of single quotes and undoubles inner quotes.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

func parseAs(t Type, s string) (Value, error) {
	switch t {
	case Bool:
		b, err := parseBool(s)
		return BoolValue(b), err
	case Int:
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return Value{}, errors.New("not an integer")
		}
		return IntValue(i), nil
	case Bytes:
		n, err := parseBytes(s)
		return BytesValue(n), err
	case Duration:
		d, err := parseDuration(s)
		return DurationValue(d), err
	case String:
		return StringValue(s), nil
	}
	return Value{}, fmt.Errorf("unknown type %s", t)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "on", "yes", "t", "y", "1":
		return true, nil
	case "false", "off", "no", "f", "n", "0":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// byteUnits maps lower-case unit names to multipliers.
var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
}

func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := byteUnits[unit]
	if !ok || num == "" {
		return 0, fmt.Errorf("not a size: %q (want a number of bytes or a size like '64 MiB')", s)
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n > math.MaxInt64/mult {
			return 0, errors.New("too large")
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	f *= float64(mult)
	if f >= math.MaxInt64 {
		return 0, errors.New("too large")
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	return int64(f), nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.ReplaceAll(s, " ", "")
	if s == "" {
		return 0, errors.New("empty duration")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			return 0, errors.New("a duration needs a unit, like '15s' or '5m'")
		}
		return 0, fmt.Errorf("not a duration: %q (want like '15s', '5m', '1h30m')", s)
	}
	return d, nil
}

// format writes a value so that Parse reads it back.
func format(v Value) string {
	switch v.typ {
	case Bool:
		return strconv.FormatBool(v.Bool())
	case Int:
		return strconv.FormatInt(v.i, 10)
	case Bytes:
		return formatBytes(v.i)
	case Duration:
		return formatDuration(v.Duration())
	case String:
		return v.s
	}
	return "<unset>"
}

// formatBytes uses the largest binary unit that divides n: "64 MiB",
// "262144" → "256 KiB", "1000 B".
func formatBytes(n int64) string {
	units := []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n != 0 && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}

// formatDuration drops Go's trailing zero units: "5m" not "5m0s", "1h" not
// "1h0m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
