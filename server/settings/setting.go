package settings

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Type is the type of a setting's value.
type Type uint8

// Setting types.
const (
	Bool Type = iota + 1
	Int
	Bytes    // a size in bytes, written 262144 or '64 MiB'
	Duration // written '15s', '5m', '1h30m'
	String
)

var typeNames = [...]string{"", "bool", "int", "bytes", "duration", "string"}

func (t Type) String() string {
	if t > 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", t)
}

// Value is a value of one setting type. Int, Bytes and Duration values hold
// an int64 (nanoseconds for Duration); String values a string.
type Value struct {
	typ Type
	i   int64
	s   string
}

// BoolValue makes a Bool value.
func BoolValue(b bool) Value {
	if b {
		return Value{typ: Bool, i: 1}
	}
	return Value{typ: Bool}
}

// IntValue makes an Int value.
func IntValue(i int64) Value { return Value{typ: Int, i: i} }

// BytesValue makes a Bytes value.
func BytesValue(n int64) Value { return Value{typ: Bytes, i: n} }

// DurationValue makes a Duration value.
func DurationValue(d time.Duration) Value { return Value{typ: Duration, i: int64(d)} }

// StringValue makes a String value.
func StringValue(s string) Value { return Value{typ: String, s: s} }

// Type returns the value's type; 0 for the zero Value.
func (v Value) Type() Type { return v.typ }

// Bool returns a Bool value.
func (v Value) Bool() bool { return v.i != 0 }

// Int returns an Int or Bytes value (or a Duration's nanoseconds).
func (v Value) Int() int64 { return v.i }

// Duration returns a Duration value.
func (v Value) Duration() time.Duration { return time.Duration(v.i) }

// Text returns a String value.
func (v Value) Text() string { return v.s }

// String formats the value as SHOW CLUSTER SETTINGS shows it; the text
// parses back to the same value.
func (v Value) String() string { return format(v) }

// SQL formats the value as a SQL literal that Parse reads back exactly:
// bools and ints bare, everything else single-quoted.
func (v Value) SQL() string {
	if v.typ == Bool || v.typ == Int {
		return format(v)
	}
	return "'" + strings.ReplaceAll(format(v), "'", "''") + "'"
}

func (v Value) numeric() bool { return v.typ == Int || v.typ == Bytes || v.typ == Duration }

// Setting is one registered setting.
type Setting struct {
	name, desc string
	typ        Type
	def        Value
	// Bounds for Int, Bytes and Duration (inclusive).
	min, max       int64
	hasMin, hasMax bool
	// options, if set, are the only allowed String values.
	options []string
}

// Name, Type, Description and Default describe the setting.
func (s *Setting) Name() string        { return s.name }
func (s *Setting) Type() Type          { return s.typ }
func (s *Setting) Description() string { return s.desc }
func (s *Setting) Default() Value      { return s.def }

// Validate checks that v has the setting's type and is within its bounds.
func (s *Setting) Validate(v Value) error {
	if v.typ != s.typ {
		return s.invalid(v.String(), fmt.Errorf("got a %s", v.typ))
	}
	if v.numeric() && ((s.hasMin && v.i < s.min) || (s.hasMax && v.i > s.max)) {
		return s.invalid(v.String(), nil)
	}
	if s.options != nil && !slices.Contains(s.options, v.s) {
		return s.invalid(v.String(), nil)
	}
	return nil
}

// Expected describes the values the setting accepts, for error messages:
// "int between 1 and 7", "bytes of at least 4 KiB".
func (s *Setting) Expected() string {
	bound := func(i int64) string { return format(Value{typ: s.typ, i: i}) }
	switch {
	case s.options != nil:
		return "one of '" + strings.Join(s.options, "', '") + "'"
	case s.hasMin && s.hasMax:
		return fmt.Sprintf("%s between %s and %s", s.typ, bound(s.min), bound(s.max))
	case s.hasMin:
		return fmt.Sprintf("%s of at least %s", s.typ, bound(s.min))
	case s.hasMax:
		return fmt.Sprintf("%s of at most %s", s.typ, bound(s.max))
	}
	return s.typ.String()
}

func (s *Setting) invalid(input string, err error) error {
	return &InvalidValueError{Name: s.name, Input: input, Type: s.typ, Expected: s.Expected(), Err: err}
}

// Option refines a setting at registration.
type Option func(*Setting)

// Min and Max bound Int and Bytes settings; MinDuration and MaxDuration
// bound Duration settings.
func Min(i int64) Option                 { return func(s *Setting) { s.min, s.hasMin = i, true } }
func Max(i int64) Option                 { return func(s *Setting) { s.max, s.hasMax = i, true } }
func MinDuration(d time.Duration) Option { return Min(int64(d)) }
func MaxDuration(d time.Duration) Option { return Max(int64(d)) }

// Options limits a String setting to the given values.
func Options(opts ...string) Option { return func(s *Setting) { s.options = opts } }
