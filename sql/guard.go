package sql

import (
	"context"
	"errors"
	"runtime/debug"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// errQueryCanceled is a statement stopped because its context was
// cancelled by the caller (pgwire maps a CancelRequest itself; this covers
// any other caller of the session).
var errQueryCanceled = pgcode.New(pgcode.QueryCanceled, "canceling statement due to user request")

// guard runs one statement's work. An error the end of ctx caused becomes
// 57014, never an internal "context canceled"; a panic becomes XX000 with
// its stack logged, so that a bug fails the statement (and its
// transaction, like any error) instead of the client's connection. The
// recover is a last resort: panics are bugs, fixed where they start.
func (s *Session) guard(ctx context.Context, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.exec.cfg.Logger.Error("sql: panic in statement", "panic", r, "stack", string(debug.Stack()))
			err = pgcode.New(pgcode.Internal, "internal error: %v", r)
		}
	}()
	return cancellation(ctx, fn())
}

// cancellation maps err, returned by a statement run under ctx, to 57014
// when ctx ended and err says no more than that (a context error, or any
// error without a SQLSTATE). A SQL error stands: 57014 from
// statement_timeout, or 40003 saying the outcome is unknown.
func cancellation(ctx context.Context, err error) error {
	switch {
	case err == nil, ctx.Err() == nil, pgcode.Of(err) == pgcode.StatementCompletionUnknown:
		return err
	case pgcode.Has(err) && !isContextErr(err):
		return err
	}
	if cause := context.Cause(ctx); pgcode.Has(cause) {
		return cause
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errStatementTimeout
	}
	return errQueryCanceled
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
