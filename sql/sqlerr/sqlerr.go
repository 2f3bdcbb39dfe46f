package sqlerr

import (
	"errors"
	"fmt"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/kvapi"
)

// SQLSTATE codes used by sql beyond those in pgcode (names follow
// PostgreSQL's errcodes.txt).
const (
	StringDataRightTruncation pgcode.Code = "22001"
	InvalidDatetimeFormat     pgcode.Code = "22007"
	NullValueNotAllowed       pgcode.Code = "22004"
	InvalidEscapeSequence     pgcode.Code = "22025"
	NotNullViolation          pgcode.Code = "23502"
	ForeignKeyViolation       pgcode.Code = "23503"
	CheckViolation            pgcode.Code = "23514"
	InvalidCatalogName        pgcode.Code = "3D000"
	InvalidSchemaName         pgcode.Code = "3F000"
	DuplicateTable            pgcode.Code = "42P07"
	DuplicateObject           pgcode.Code = "42710"
	DuplicateColumn           pgcode.Code = "42701"
	DuplicateAlias            pgcode.Code = "42712"
	DuplicateSchema           pgcode.Code = "42P06"
	DuplicateDatabase         pgcode.Code = "42P04"
	UndefinedColumn           pgcode.Code = "42703"
	AmbiguousColumn           pgcode.Code = "42702"
	AmbiguousFunction         pgcode.Code = "42725"
	DatatypeMismatch          pgcode.Code = "42804"
	InvalidTableDefinition    pgcode.Code = "42P16"
	GroupingError             pgcode.Code = "42803"
	UndefinedParameter        pgcode.Code = "42P02"
	IndeterminateDatatype     pgcode.Code = "42P18"
	CannotCoerce              pgcode.Code = "42846"
	InvalidColumnReference    pgcode.Code = "42P10"
	InvalidRecursion          pgcode.Code = "42P19"
	CardinalityViolation      pgcode.Code = "21000"
	ObjectNotInPrerequisite   pgcode.Code = "55000"
	WrongObjectType           pgcode.Code = "42809"
	InvalidTransactionState   pgcode.Code = "25000"
	ReadOnlySQLTransaction    pgcode.Code = "25006"
	ProgramLimitExceeded      pgcode.Code = "54000"
	SequenceGeneratorLimit    pgcode.Code = "2200H"
	GeneratedAlways           pgcode.Code = "428C9"
	DependentObjectsExist     pgcode.Code = "2BP01"
	InvalidForeignKey         pgcode.Code = "42830"
	InsufficientPrivilege     pgcode.Code = "42501"
)

// New is pgcode.New, for brevity at call sites.
func New(code pgcode.Code, format string, args ...any) *pgcode.Error {
	return pgcode.New(code, format, args...)
}

// Unsupported reports a feature ordo does not support yet.
func Unsupported(format string, args ...any) *pgcode.Error {
	return pgcode.New(pgcode.FeatureNotSupported, format, args...)
}

// UndefinedTable is 42P01 for a relation name.
func UndefinedTable(name string) *pgcode.Error {
	return pgcode.New(pgcode.UndefinedTable, "relation %q does not exist", name)
}

// UndefinedColumn is 42703.
func UndefinedColumnErr(name string) *pgcode.Error {
	return pgcode.New(UndefinedColumn, "column %q does not exist", name)
}

// UniqueViolation is 23505 with PostgreSQL's message and detail.
func UniqueViolation(constraint, cols, vals string) *pgcode.Error {
	e := pgcode.New(pgcode.UniqueViolation, "duplicate key value violates unique constraint %q", constraint)
	e.Detail = fmt.Sprintf("Key (%s)=(%s) already exists.", cols, vals)
	return e
}

// FromKV gives an error of the KV layer its SQLSTATE. Errors that already
// have one pass through unchanged.
func FromKV(err error) error {
	if err == nil {
		return nil
	}
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return err
	}
	switch {
	case kvapi.IsAmbiguous(err):
		return pgcode.Wrap(err, pgcode.StatementCompletionUnknown, "result of the transaction is unknown: %v", err)
	case kvapi.IsRetryable(err):
		e := pgcode.Wrap(err, pgcode.SerializationFailure, "could not serialize access due to concurrent update")
		e.Detail = err.Error()
		e.Hint = "The transaction might succeed if retried."
		return e
	case kvapi.IsResourceLimit(err):
		e := pgcode.Wrap(err, "53200", "out of memory")
		e.Detail = err.Error()
		return e
	case kvapi.IsLockTimeout(err):
		return pgcode.Wrap(err, pgcode.LockNotAvailable, "canceling statement due to lock timeout")
	}
	return err
}
