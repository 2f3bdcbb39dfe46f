package sem

import (
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/types"
)

// buildTimeFunc builds date_trunc, extract, date_part and to_char, whose
// result types depend on their arguments; ok is false for other names.
func (b *Builder) buildTimeFunc(name string, args []Expr) (Expr, bool, error) {
	switch name {
	case "date_trunc", "extract", "date_part", "to_char":
	default:
		return nil, false, nil
	}
	if len(args) != 2 {
		return nil, true, noFunc(name, args)
	}
	field, arg := 0, 1
	if name == "to_char" {
		field, arg = 1, 0
	}
	var err error
	if args[field], err = b.Coerce(args[field], types.Text); err != nil {
		return nil, true, noFunc(name, args)
	}
	if args[arg].Type().Family == types.UnknownFamily {
		if args[arg], err = b.Coerce(args[arg], types.TimestampTZ); err != nil {
			return nil, true, err
		}
	}
	at := args[arg].Type()
	if !isTimeT(at) {
		return nil, true, noFunc(name, args)
	}
	f := &Func{Name: name, Args: args, Strict: true}
	switch name {
	case "date_trunc":
		if at.Family == types.DateFamily {
			args[arg], at = &Cast{Arg: args[arg], T: types.TimestampTZ}, types.TimestampTZ
		}
		f.T, f.Fn = at, func(c *Ctx, a []types.Datum) (types.Datum, error) {
			return dateTrunc(c, a[0].(string), a[1].(time.Time), at)
		}
	case "extract", "date_part":
		f.T = types.Numeric
		if name == "date_part" {
			f.T = types.Float8
		}
		f.Fn = func(c *Ctx, a []types.Datum) (types.Datum, error) {
			return extract(c, a[0].(string), a[1].(time.Time), at, f.T)
		}
	case "to_char":
		f.T, f.Fn = types.Text, func(c *Ctx, a []types.Datum) (types.Datum, error) {
			return toChar(c, a[0].(time.Time), a[1].(string), at)
		}
	}
	return f, true, nil
}

// local returns t in the session time zone for timestamptz, else as is.
func local(c *Ctx, t time.Time, typ types.T) time.Time {
	if typ.Family == types.TimestampTZFamily {
		return t.In(c.Env.Location())
	}
	return t
}

func dateTrunc(c *Ctx, field string, t time.Time, typ types.T) (types.Datum, error) {
	t = local(c, t, typ)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ns := t.Nanosecond()
	loc := t.Location()
	switch strings.ToLower(field) {
	case "microseconds":
		ns = ns / 1000 * 1000
	case "milliseconds":
		ns = ns / 1e6 * 1e6
	case "second":
		ns = 0
	case "minute":
		s, ns = 0, 0
	case "hour":
		mi, s, ns = 0, 0, 0
	case "day":
		h, mi, s, ns = 0, 0, 0, 0
	case "week":
		wd := (int(t.Weekday()) + 6) % 7
		return time.Date(y, mo, d-wd, 0, 0, 0, 0, loc), nil
	case "month":
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), nil
	case "quarter":
		return time.Date(y, mo-(mo-1)%3, 1, 0, 0, 0, 0, loc), nil
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), nil
	case "decade":
		return time.Date(y-y%10, 1, 1, 0, 0, 0, 0, loc), nil
	default:
		return nil, pgcode.New(pgcode.InvalidParameterValue, "unit %q not recognized for type %s", strings.ToLower(field), typ.Name())
	}
	return time.Date(y, mo, d, h, mi, s, ns, loc), nil
}

// extract computes a field of a date or timestamp: numeric for extract
// (with microseconds for second and epoch of timestamps), float8 for
// date_part.
func extract(c *Ctx, field string, t time.Time, typ, ret types.T) (types.Datum, error) {
	t = local(c, t, typ)
	f := strings.ToLower(field)
	var n int64
	micros := int64(-1) // set for fields with a fractional part
	switch f {
	case "year":
		n = int64(t.Year())
	case "month":
		n = int64(t.Month())
	case "day":
		n = int64(t.Day())
	case "hour":
		n = int64(t.Hour())
	case "minute":
		n = int64(t.Minute())
	case "second":
		micros = int64(t.Second())*1e6 + int64(t.Nanosecond()/1000)
	case "millisecond", "milliseconds":
		n = int64(t.Second())*1000 + int64(t.Nanosecond()/1e6)
	case "microsecond", "microseconds":
		n = int64(t.Second())*1e6 + int64(t.Nanosecond()/1000)
	case "dow":
		n = int64(t.Weekday())
	case "isodow":
		n = int64((int(t.Weekday())+6)%7 + 1)
	case "doy":
		n = int64(t.YearDay())
	case "week":
		_, w := t.ISOWeek()
		n = int64(w)
	case "quarter":
		n = int64((t.Month()-1)/3 + 1)
	case "decade":
		n = int64(t.Year() / 10)
	case "century":
		n = int64((t.Year() + 99) / 100)
	case "epoch":
		u := t.UnixMicro()
		if typ.Family == types.TimestampFamily || typ.Family == types.DateFamily {
			_, off := t.Zone()
			u += int64(off) * 1e6
		}
		micros = u
	default:
		return nil, pgcode.New(pgcode.InvalidParameterValue, "unit %q not recognized for type %s", f, typ.Name())
	}
	if typ.Family == types.DateFamily {
		switch f {
		case "hour", "minute", "second", "millisecond", "milliseconds", "microsecond", "microseconds":
			return nil, pgcode.New(pgcode.InvalidParameterValue, "unit %q not supported for type date", f)
		}
		if micros >= 0 || f == "epoch" {
			n, micros = micros/1e6, -1
		}
	}
	if ret.Family == types.FloatFamily {
		if micros != -1 {
			return float64(micros) / 1e6, nil
		}
		return float64(n), nil
	}
	if micros != -1 {
		return apd.New(micros, -6), nil
	}
	return apd.New(n, 0), nil
}

// toChar formats a timestamp with PostgreSQL's template patterns (the
// common ones: years, months, days, hours, minutes, seconds, fractions,
// meridiem, names, quoted text, FM).
func toChar(c *Ctx, t time.Time, format string, typ types.T) (types.Datum, error) {
	t = local(c, t, typ)
	var b strings.Builder
	for i := 0; i < len(format); {
		if format[i] == '"' {
			j := strings.IndexByte(format[i+1:], '"')
			if j < 0 {
				b.WriteString(format[i+1:])
				break
			}
			b.WriteString(format[i+1 : i+1+j])
			i += j + 2
			continue
		}
		fm := strings.HasPrefix(format[i:], "FM")
		if fm {
			i += 2
		}
		n := toCharToken(&b, t, format[i:], fm)
		if n == 0 {
			b.WriteByte(format[i])
			n = 1
		}
		i += n
	}
	return b.String(), nil
}

var toCharTokens = []string{"YYYY", "YY", "MONTH", "Month", "month", "MON", "Mon", "mon", "MM", "DDD", "DD", "DAY", "Day", "day",
	"DY", "Dy", "dy", "D", "HH24", "HH12", "HH", "MI", "SS", "MS", "US", "AM", "PM", "am", "pm", "Q"}

// toCharToken writes the pattern at the start of f and returns its length
// (0 if none starts there).
func toCharToken(b *strings.Builder, t time.Time, f string, fm bool) int {
	for _, tok := range toCharTokens {
		if !strings.HasPrefix(f, tok) {
			continue
		}
		num := func(v, width int) {
			if fm {
				fmt.Fprintf(b, "%d", v)
			} else {
				fmt.Fprintf(b, "%0*d", width, v)
			}
		}
		name := func(s string, upper, lower bool) {
			switch {
			case upper:
				s = strings.ToUpper(s)
			case lower:
				s = strings.ToLower(s)
			}
			if !fm && len(tok) > 3 {
				s = fmt.Sprintf("%-9s", s)
			}
			b.WriteString(s)
		}
		h12 := t.Hour() % 12
		if h12 == 0 {
			h12 = 12
		}
		switch tok {
		case "YYYY":
			num(t.Year(), 4)
		case "YY":
			num(t.Year()%100, 2)
		case "MONTH", "Month", "month":
			name(t.Month().String(), tok == "MONTH", tok == "month")
		case "MON", "Mon", "mon":
			name(t.Month().String()[:3], tok == "MON", tok == "mon")
		case "MM":
			num(int(t.Month()), 2)
		case "DDD":
			num(t.YearDay(), 3)
		case "DD":
			num(t.Day(), 2)
		case "DAY", "Day", "day":
			name(t.Weekday().String(), tok == "DAY", tok == "day")
		case "DY", "Dy", "dy":
			name(t.Weekday().String()[:3], tok == "DY", tok == "dy")
		case "D":
			num(int(t.Weekday())+1, 1)
		case "HH24":
			num(t.Hour(), 2)
		case "HH12", "HH":
			num(h12, 2)
		case "MI":
			num(t.Minute(), 2)
		case "SS":
			num(t.Second(), 2)
		case "MS":
			num(t.Nanosecond()/1e6, 3)
		case "US":
			num(t.Nanosecond()/1e3, 6)
		case "AM", "PM", "am", "pm":
			m := "AM"
			if t.Hour() >= 12 {
				m = "PM"
			}
			if tok[0] >= 'a' {
				m = strings.ToLower(m)
			}
			b.WriteString(m)
		case "Q":
			num(int(t.Month()-1)/3+1, 1)
		}
		return len(tok)
	}
	return 0
}
