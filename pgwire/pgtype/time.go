package pgtype

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// pgEpochUnix is 2000-01-01 00:00:00 UTC in Unix seconds.
const pgEpochUnix = 946684800

func unixMicros(t time.Time) int64 {
	return (t.Unix()-pgEpochUnix)*1_000_000 + int64(t.Nanosecond()/1000)
}

func fromMicros(us int64) time.Time {
	sec, rem := us/1_000_000, us%1_000_000
	if rem < 0 {
		sec, rem = sec-1, rem+1_000_000
	}
	return time.Unix(sec+pgEpochUnix, rem*1000).UTC()
}

// wallUTC reinterprets t's wall clock in UTC (timestamp without time zone).
func wallUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func appendTimeBinary(dst []byte, oid uint32, t time.Time) []byte {
	switch oid {
	case DateOID:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return binary.BigEndian.AppendUint32(dst, uint32(int32(floorDiv(unixMicros(d), 86_400_000_000))))
	case TimestampOID:
		return binary.BigEndian.AppendUint64(dst, uint64(unixMicros(wallUTC(t))))
	default:
		return binary.BigEndian.AppendUint64(dst, uint64(unixMicros(t)))
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func decodeTimeBinary(oid uint32, src []byte) time.Time {
	if oid == DateOID {
		return fromMicros(int64(int32(binary.BigEndian.Uint32(src))) * 86_400_000_000)
	}
	return fromMicros(int64(binary.BigEndian.Uint64(src)))
}

func (c Conv) appendTimeText(dst []byte, oid uint32, t time.Time) []byte {
	if oid == TimestamptzOID {
		t = t.In(c.loc())
	}
	y, bc := t.Year(), false
	if y <= 0 {
		y, bc = 1-y, true
	}
	dst = fmt.Appendf(dst, "%04d-%02d-%02d", y, t.Month(), t.Day())
	if oid != DateOID {
		dst = fmt.Appendf(dst, " %02d:%02d:%02d", t.Hour(), t.Minute(), t.Second())
		dst = appendMicros(dst, t.Nanosecond()/1000)
	}
	if oid == TimestamptzOID {
		dst = appendOffset(dst, t)
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendMicros appends ".ffffff" without trailing zeros, nothing for zero.
func appendMicros(dst []byte, us int) []byte {
	if us == 0 {
		return dst
	}
	s := strings.TrimRight(fmt.Sprintf("%06d", us), "0")
	return append(append(dst, '.'), s...)
}

func appendOffset(dst []byte, t time.Time) []byte {
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = fmt.Appendf(dst, "%c%02d", sign, off/3600)
	if m, s := off%3600/60, off%60; m != 0 || s != 0 {
		dst = fmt.Appendf(dst, ":%02d", m)
		if s != 0 {
			dst = fmt.Appendf(dst, ":%02d", s)
		}
	}
	return dst
}

// parseTime parses ISO dates and timestamps ("2006-01-02", "2006-01-02
// 15:04:05.999999", with an optional offset for timestamptz and " BC").
func (c Conv) parseTime(oid uint32, s string) (time.Time, error) {
	bad := fmt.Errorf("pgtype: invalid input syntax for type %d: %q", oid, s)
	str, bc := strings.CutSuffix(strings.TrimSpace(s), " BC")
	datePart, timePart, hasTime := strings.Cut(strings.Replace(str, "T", " ", 1), " ")
	y, mo, d, ok := parseDate(datePart)
	if !ok {
		return time.Time{}, bad
	}
	if bc {
		y = 1 - y
	}
	if oid == DateOID {
		if hasTime {
			return time.Time{}, bad
		}
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), nil
	}
	clock, zone := splitZone(timePart)
	h, mi, sec, ns, ok := parseClock(clock)
	if !ok || (zone != "" && oid == TimestampOID) {
		return time.Time{}, bad
	}
	loc := time.UTC
	if oid == TimestamptzOID {
		if loc, ok = c.zoneLoc(zone); !ok {
			return time.Time{}, bad
		}
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, loc)
	if oid == TimestamptzOID {
		return t.UTC(), nil
	}
	return t, nil
}

func parseDate(s string) (y, m, d int, ok bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var err [3]error
	y, err[0] = strconv.Atoi(parts[0])
	m, err[1] = strconv.Atoi(parts[1])
	d, err[2] = strconv.Atoi(parts[2])
	ok = err[0] == nil && err[1] == nil && err[2] == nil && m >= 1 && m <= 12 && d >= 1 && d <= 31
	return y, m, d, ok
}

func splitZone(s string) (clock, zone string) {
	if i := strings.IndexAny(s, "+-Z"); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func parseClock(s string) (h, m, sec, ns int, ok bool) {
	main, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(main, ":")
	if len(parts) != 3 || len(frac) > 9 {
		return 0, 0, 0, 0, false
	}
	var errs [3]error
	h, errs[0] = strconv.Atoi(parts[0])
	m, errs[1] = strconv.Atoi(parts[1])
	sec, errs[2] = strconv.Atoi(parts[2])
	if errs[0] != nil || errs[1] != nil || errs[2] != nil || h > 24 || m > 59 || sec > 60 {
		return 0, 0, 0, 0, false
	}
	if frac != "" {
		f, err := strconv.Atoi((frac + "000000000")[:9])
		if err != nil {
			return 0, 0, 0, 0, false
		}
		ns = f
	}
	return h, m, sec, ns, true
}

// zoneLoc turns "+HH[:MM[:SS]]", "Z" or "" (session zone) into a location.
func (c Conv) zoneLoc(z string) (*time.Location, bool) {
	if z == "" {
		return c.loc(), true
	}
	if z == "Z" {
		return time.UTC, true
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	parts := strings.Split(z[1:], ":")
	if len(parts) > 3 {
		return nil, false
	}
	off := 0
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		off += n * []int{3600, 60, 1}[i]
	}
	return time.FixedZone("", sign*off), true
}
