package pgcode

import (
	"errors"
	"fmt"
)

// Code is a five-character SQLSTATE.
type Code string

// SQLSTATE codes used by the wire protocol layer and its tests. The SQL layer
// may add its own; the names follow PostgreSQL's errcodes.txt.
const (
	SuccessfulCompletion              Code = "00000"
	Warning                           Code = "01000"
	ConnectionException               Code = "08000"
	ConnectionFailure                 Code = "08006"
	ProtocolViolation                 Code = "08P01"
	FeatureNotSupported               Code = "0A000"
	InvalidAuthorizationSpecification Code = "28000"
	InvalidPassword                   Code = "28P01"
	InvalidCursorName                 Code = "34000"
	InvalidSQLStatementName           Code = "26000"
	DuplicatePreparedStatement        Code = "42P05"
	DuplicateCursor                   Code = "42P03"
	SyntaxError                       Code = "42601"
	UndefinedObject                   Code = "42704"
	UndefinedFunction                 Code = "42883"
	UndefinedTable                    Code = "42P01"
	InvalidParameterValue             Code = "22023"
	InvalidTextRepresentation         Code = "22P02"
	InvalidBinaryRepresentation       Code = "22P03"
	NumericValueOutOfRange            Code = "22003"
	DivisionByZero                    Code = "22012"
	CharacterNotInRepertoire          Code = "22021"
	DatetimeFieldOverflow             Code = "22008"
	InFailedSQLTransaction            Code = "25P02"
	IdleInTransactionSessionTimeout   Code = "25P03"
	ActiveSQLTransaction              Code = "25001"
	NoActiveSQLTransaction            Code = "25P01"
	InvalidSavepointSpecification     Code = "3B001"
	TooManyConnections                Code = "53300"
	OutOfMemory                       Code = "53200"
	ProgramLimitExceeded              Code = "54000"
	StatementTooComplex               Code = "54001"
	QueryCanceled                     Code = "57014"
	AdminShutdown                     Code = "57P01"
	SerializationFailure              Code = "40001"
	StatementCompletionUnknown        Code = "40003"
	DeadlockDetected                  Code = "40P01"
	LockNotAvailable                  Code = "55P03"
	UniqueViolation                   Code = "23505"
	Internal                          Code = "XX000"
)

// Severity is the (unlocalized) severity of an error or notice.
type Severity string

// Severities PostgreSQL sends.
const (
	SeverityError   Severity = "ERROR"
	SeverityFatal   Severity = "FATAL"
	SeverityPanic   Severity = "PANIC"
	SeverityWarning Severity = "WARNING"
	SeverityNotice  Severity = "NOTICE"
	SeverityDebug   Severity = "DEBUG"
	SeverityInfo    Severity = "INFO"
	SeverityLog     Severity = "LOG"
)

// Error is an error with a SQLSTATE and the optional fields of an
// ErrorResponse. The zero Severity means ERROR.
type Error struct {
	Code     Code
	Severity Severity
	Message  string
	Detail   string
	Hint     string
	Position int32  // 1-based character position in the query; 0 = none
	Where    string // context, e.g. "unnamed portal parameter $1"
	cause    error
}

// New returns an Error with a code and formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with code and message that unwraps to cause.
func Wrap(cause error, code Code, format string, args ...any) *Error {
	e := New(code, format, args...)
	e.cause = cause
	return e
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// SQLState implements the SQLSTATE behaviour interface.
func (e *Error) SQLState() string { return string(e.Code) }

// ErrorSeverity reports the severity; ERROR when unset.
func (e *Error) ErrorSeverity() Severity {
	if e.Severity == "" {
		return SeverityError
	}
	return e.Severity
}

// ErrorDetail, ErrorHint and ErrorPosition expose the optional fields through
// behaviour interfaces, so other error types can provide them too.
func (e *Error) ErrorDetail() string { return e.Detail }

// ErrorHint returns the hint field.
func (e *Error) ErrorHint() string { return e.Hint }

// ErrorPosition returns the 1-based position field.
func (e *Error) ErrorPosition() int32 { return e.Position }

// ErrorWhere returns the context field.
func (e *Error) ErrorWhere() string { return e.Where }

// Fatal returns a copy of e with FATAL severity.
func (e *Error) Fatal() *Error {
	c := *e
	c.Severity = SeverityFatal
	return &c
}

// Of returns the SQLSTATE of err if any error in its chain declares one, and
// Internal otherwise. A nil error has no code ("").
func Of(err error) Code {
	if err == nil {
		return ""
	}
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return Code(s.SQLState())
	}
	return Internal
}

// Has reports whether some error in err's chain declares a SQLSTATE.
func Has(err error) bool {
	var s interface{ SQLState() string }
	return errors.As(err, &s)
}
