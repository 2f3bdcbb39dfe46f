package settings

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for errors.Is.
var (
	ErrUnknown      = errors.New("settings: unknown setting")
	ErrInvalidValue = errors.New("settings: invalid value")
)

// UnknownError names a setting that is not registered (SQLSTATE 42704 in
// the sql layer).
type UnknownError struct {
	Name string
	// Suggestion is a registered name close to Name, or "".
	Suggestion string
}

func (e *UnknownError) Error() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("settings: unknown setting %q (did you mean %q?)", e.Name, e.Suggestion)
	}
	return fmt.Sprintf("settings: unknown setting %q", e.Name)
}

// Is makes errors.Is(err, ErrUnknown) true.
func (e *UnknownError) Is(target error) bool { return target == ErrUnknown }

// InvalidValueError is a value that does not parse as, or is outside the
// bounds of, its setting (SQLSTATE 22023 in the sql layer).
type InvalidValueError struct {
	Name     string
	Input    string // the text given, or the value formatted
	Type     Type
	Expected string // e.g. "int between 1 and 7"
	Err      error  // why parsing failed, if it did
}

func (e *InvalidValueError) Error() string {
	input := e.Input
	if !strings.HasPrefix(input, "'") {
		input = "'" + strings.ReplaceAll(input, "'", "''") + "'"
	}
	msg := fmt.Sprintf("settings: invalid value %s for %s: expected %s", input, e.Name, e.Expected)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is makes errors.Is(err, ErrInvalidValue) true.
func (e *InvalidValueError) Is(target error) bool { return target == ErrInvalidValue }

func (e *InvalidValueError) Unwrap() error { return e.Err }
