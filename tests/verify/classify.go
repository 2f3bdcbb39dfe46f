package verify

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Phase is how far a transaction got when an error happened.
type Phase uint8

const (
	// BeforeCommit: BEGIN or a statement of the transaction failed; COMMIT
	// was never sent, so the transaction cannot have committed.
	BeforeCommit Phase = iota
	// AtCommit: the error came from COMMIT (or while it was in flight).
	AtCommit
)

// definiteAbort are the SQLSTATEs that mean "this transaction did not
// commit": serialization failure, deadlock, lock not available, unique
// violation.
var definiteAbort = map[string]bool{
	"40001": true,
	"40P01": true,
	"55P03": true,
	"23505": true,
}

// ambiguousCode is statement_completion_unknown: the server does not know
// whether the transaction committed.
const ambiguousCode = "40003"

// Classify turns the error of a transaction attempt into its history
// status. It is the only place that decides ok / fail / info:
//
//   - nil: ok.
//   - 40003 at any phase: info.
//   - any error before COMMIT was sent: fail (the server rolls back a
//     transaction that never commits, whatever happened to the connection).
//   - at COMMIT: 40001, 40P01, 55P03, 23505 are fail; so is a COMMIT the
//     server answered with ROLLBACK, and an error pgx reports as not sent at
//     all (pgconn.SafeToRetry, e.g. a deadline that passed before the
//     request was written) — except "conn closed": pgconn also returns it,
//     marked safe to retry, when the connection broke while it read the
//     answer to a COMMIT it had sent (found by kill runs: transactions so
//     recorded as failed had committed); anything else — a
//     lost connection, a deadline after the request was sent, an unknown
//     server error — is info.
func Classify(err error, phase Phase) history.Status {
	if err == nil {
		return history.Ok
	}
	code := SQLState(err)
	switch {
	case code == ambiguousCode:
		return history.Info
	case phase == BeforeCommit:
		return history.Fail
	case definiteAbort[code]:
		return history.Fail
	case errors.Is(err, pgx.ErrTxCommitRollback):
		return history.Fail
	case code == "" && pgconn.SafeToRetry(err) && !errors.Is(err, pgconn.ErrConnClosed):
		return history.Fail
	}
	return history.Info
}

// SQLState returns the SQLSTATE of a server error, or "" if err is not one.
func SQLState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// connBroken reports whether err leaves the connection unusable, so the
// client must reconnect: anything that is not a server error response.
func connBroken(err error) bool {
	return err != nil && SQLState(err) == ""
}
