package pgtype

import (
	"fmt"
	"strconv"
	"strings"
)

// Interval is PostgreSQL's interval: months, days and microseconds are kept
// apart because their lengths vary.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// AppendText formats with IntervalStyle postgres ("1 year 2 mons 3 days
// 04:05:06.5"); a field after a negative one gets an explicit '+'.
func (iv Interval) AppendText(dst []byte) []byte {
	start := len(dst)
	neg := false
	part := func(n int64, unit string) {
		if n == 0 {
			return
		}
		if len(dst) > start {
			dst = append(dst, ' ')
		}
		if neg && n > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, n, 10)
		dst = append(dst, ' ')
		dst = append(dst, unit...)
		if n != 1 {
			dst = append(dst, 's')
		}
		neg = n < 0
	}
	part(int64(iv.Months/12), "year")
	part(int64(iv.Months%12), "mon")
	part(int64(iv.Days), "day")
	if iv.Micros == 0 && len(dst) > start {
		return dst
	}
	if len(dst) > start {
		dst = append(dst, ' ')
	}
	us := iv.Micros
	switch {
	case us < 0:
		dst, us = append(dst, '-'), -us
	case neg:
		dst = append(dst, '+')
	}
	dst = fmt.Appendf(dst, "%02d:%02d:%02d", us/3_600_000_000, us/60_000_000%60, us/1_000_000%60)
	return appendMicros(dst, int(us%1_000_000))
}

func (iv Interval) String() string { return string(iv.AppendText(nil)) }

var intervalUnits = map[string]func(*Interval, int64){
	"year": func(iv *Interval, n int64) { iv.Months += int32(n * 12) },
	"mon":  func(iv *Interval, n int64) { iv.Months += int32(n) },
	"day":  func(iv *Interval, n int64) { iv.Days += int32(n) },
}

// ParseInterval parses the postgres style: "N unit" pairs (years, mons,
// days, and their singular and long forms) and an optional [+-]HH:MM:SS[.f].
func ParseInterval(s string) (Interval, error) {
	var iv Interval
	f := strings.Fields(s)
	bad := fmt.Errorf("pgtype: invalid input syntax for type interval: %q", s)
	for i := 0; i < len(f); i++ {
		if strings.Contains(f[i], ":") {
			us, err := parseIntervalClock(f[i])
			if err != nil {
				return iv, bad
			}
			iv.Micros += us
			continue
		}
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil || i+1 >= len(f) {
			return iv, bad
		}
		add, ok := intervalUnits[normalizeUnit(f[i+1])]
		if !ok {
			return iv, bad
		}
		add(&iv, n)
		i++
	}
	return iv, nil
}

func normalizeUnit(u string) string {
	u = strings.TrimSuffix(strings.ToLower(u), "s")
	switch u {
	case "month":
		return "mon"
	}
	return u
}

func parseIntervalClock(s string) (int64, error) {
	sign := int64(1)
	if s[0] == '-' || s[0] == '+' {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	main, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(main, ":")
	if len(parts) < 2 || len(parts) > 3 || len(frac) > 6 {
		return 0, fmt.Errorf("bad clock")
	}
	var us int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad clock")
		}
		us += n * []int64{3_600_000_000, 60_000_000, 1_000_000}[i]
	}
	if frac != "" {
		n, err := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		if err != nil {
			return 0, err
		}
		us += n
	}
	return sign * us, nil
}
