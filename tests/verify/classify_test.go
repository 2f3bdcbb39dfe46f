package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordodb/ordo/tests/checker/history"
)

// notSent is an error pgconn reports as never written to the server.
type notSent struct{ error }

func (notSent) SafeToRetry() bool { return true }

// closedConn is pgconn's "conn closed": marked safe to retry, yet also
// returned when the connection broke while the answer to a sent COMMIT
// was being read.
type closedConn struct{}

func (closedConn) Error() string     { return "conn closed" }
func (closedConn) SafeToRetry() bool { return true }
func (closedConn) Unwrap() error     { return pgconn.ErrConnClosed }

func pgErr(code string) error {
	return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "m"})
}

func TestClassify(t *testing.T) {
	ok, fail, info := history.Ok, history.Fail, history.Info
	for _, tc := range []struct {
		name          string
		err           error
		before, at    history.Status
		brokenConnErr bool
	}{
		{"nil", nil, ok, ok, false},
		{"serialization failure", pgErr("40001"), fail, fail, false},
		{"deadlock", pgErr("40P01"), fail, fail, false},
		{"lock not available", pgErr("55P03"), fail, fail, false},
		{"unique violation", pgErr("23505"), fail, fail, false},
		{"completion unknown", pgErr("40003"), info, info, false},
		{"other server error", pgErr("XX000"), fail, info, false},
		{"connection lost", fmt.Errorf("commit: %w", io.ErrUnexpectedEOF), fail, info, true},
		{"deadline after send", fmt.Errorf("commit: %w", context.DeadlineExceeded), fail, info, true},
		{"not sent", notSent{context.DeadlineExceeded}, fail, fail, true},
		{"conn closed with commit in flight", closedConn{}, fail, info, true},
		{"commit answered rollback", pgx.ErrTxCommitRollback, fail, fail, true},
		{"insufficient funds", errInsufficient, fail, info, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err, BeforeCommit); got != tc.before {
				t.Errorf("before commit: %v, want %v", got, tc.before)
			}
			if got := Classify(tc.err, AtCommit); got != tc.at {
				t.Errorf("at commit: %v, want %v", got, tc.at)
			}
			if got := connBroken(tc.err); got != tc.brokenConnErr {
				t.Errorf("connBroken = %v, want %v", got, tc.brokenConnErr)
			}
		})
	}
}

func TestSQLState(t *testing.T) {
	if got := SQLState(pgErr("40001")); got != "40001" {
		t.Fatalf("SQLState = %q", got)
	}
	if got := SQLState(errors.New("x")); got != "" {
		t.Fatalf("SQLState(plain) = %q", got)
	}
}
