package sql

import (
	"context"
	"testing"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// TestStatementContextEnded: a statement whose context ends reports 57014
// (never XX000 "context canceled"): a cancelled context as a cancel
// request, a passed deadline as a statement timeout. In a block the block
// fails, as after any error.
func TestStatementContextEnded(t *testing.T) {
	s := newTestSession(t)
	defer s.Close()
	const q = `SELECT count(*) FROM generate_series(1, 100000000)`
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{
		{canceled, "canceling statement due to user request"},
		{expired, "canceling statement due to statement timeout"},
	} {
		err := s.Query(tc.ctx, q, &recorder{})
		var e *pgcode.Error
		if !errorsAs(err, &e) || e.Code != pgcode.QueryCanceled || e.Message != tc.want {
			t.Errorf("got %v, want 57014 %s", err, tc.want)
		}
	}
	ctx := context.Background()
	if err := s.Query(ctx, "BEGIN", &recorder{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Query(canceled, q, &recorder{}); pgcode.Of(err) != pgcode.QueryCanceled {
		t.Fatalf("in a block: got %v", err)
	}
	if err := s.Query(ctx, "SELECT 1", &recorder{}); pgcode.Of(err) != pgcode.InFailedSQLTransaction {
		t.Fatalf("after a cancelled statement in a block: got %v, want 25P02", err)
	}
	if err := s.Query(ctx, "ROLLBACK", &recorder{}); err != nil {
		t.Fatal(err)
	}
}

// TestGuardPanic: the last resort turns a panic in a statement into XX000
// (the session lives on); a context error with a cause keeps the cause.
func TestGuardPanic(t *testing.T) {
	s := newTestSession(t)
	defer s.Close()
	ctx := context.Background()
	err := s.guard(ctx, func() error { panic("boom") })
	var e *pgcode.Error
	if !errorsAs(err, &e) || e.Code != pgcode.Internal || e.Message != "internal error: boom" {
		t.Fatalf("got %v", err)
	}
	rec := &recorder{}
	if err := s.Query(ctx, "SELECT 1", rec); err != nil || rec.out.String() != "1\n-- SELECT 1\n" {
		t.Fatalf("after a panic: %v %q", err, rec.out.String())
	}
	cctx, cancel := context.WithCancelCause(ctx)
	cancel(errStatementTimeout)
	if err := cancellation(cctx, context.Canceled); err != errStatementTimeout {
		t.Fatalf("got %v, want the cause", err)
	}
}
