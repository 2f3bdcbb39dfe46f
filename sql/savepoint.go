package sql

import (
	"context"
	"errors"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// savepoints is the session's stack of SAVEPOINTs in the open block.
//
// A savepoint holds the KV transaction's token (kvapi.Savepointer). ROLLBACK
// TO undoes the KV writes made since, drops the catalog's per-transaction
// caches (they may hold descriptors written since: DDL is rolled back with
// the writes), and brings a failed block back. An ordinary SQL error in a
// block with savepoints keeps the KV transaction (and its locks) for that;
// a retryable or ambiguous KV error ends the KV transaction, and ROLLBACK
// TO then fails with 40001 (gone says why): the whole transaction must be
// retried. Sequences (nextval) are not rolled back, as in PostgreSQL.
type savepoints struct {
	stack []savepoint
	gone  error
}

type savepoint struct {
	name  string
	token uint64
}

// find returns the index of the newest savepoint called name, or -1.
func (sp *savepoints) find(name string) int {
	for i := len(sp.stack) - 1; i >= 0; i-- {
		if sp.stack[i].name == name {
			return i
		}
	}
	return -1
}

func (sp *savepoints) reset() { *sp = savepoints{} }

// keepsKV reports whether a block failing with err keeps its KV
// transaction for a ROLLBACK TO: it has savepoints and err left the KV
// transaction usable.
func (s *Session) keepsKV(err error) bool {
	if len(s.sp.stack) == 0 || err == nil || s.cat == nil {
		return false
	}
	_, ok := s.cat.KV.(kvapi.Savepointer)
	return ok && !retryable(err) && !kvapi.IsAmbiguous(err) && pgcode.Of(err) != pgcode.StatementCompletionUnknown
}

// savepointStmt runs SAVEPOINT, RELEASE [SAVEPOINT] and ROLLBACK TO
// [SAVEPOINT], and logs them for a replay of the block (replay.go).
func (s *Session) savepointStmt(ctx context.Context, n *pg.Node, t *pg.TransactionStmt, w pgwirebase.ResultWriter) error {
	if s.mode != explicitTxn && s.mode != failedTxn {
		return pgcode.New(pgcode.NoActiveSQLTransaction, "%s can only be used in transaction blocks", savepointVerb(t.Kind))
	}
	if err := s.savepointOp(ctx, t); err != nil {
		return err
	}
	s.log.addSavepoint(n)
	return w.Complete(savepointTag(t.Kind))
}

// savepointOp is savepointStmt's effect, also run by a replay.
func (s *Session) savepointOp(ctx context.Context, t *pg.TransactionStmt) error {
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return s.setSavepoint(ctx, t.SavepointName)
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		i := s.sp.find(t.SavepointName)
		if i < 0 {
			return errNoSavepoint(t.SavepointName)
		}
		s.sp.stack = s.sp.stack[:i]
		return nil
	}
	return s.rollbackToSavepoint(ctx, t.SavepointName)
}

func (s *Session) setSavepoint(ctx context.Context, name string) error {
	if err := s.begin(ctx, explicitTxn); err != nil {
		return err
	}
	sp, ok := s.cat.KV.(kvapi.Savepointer)
	if !ok {
		return sqlerr.Unsupported("savepoints are not supported by this KV store")
	}
	s.sp.stack = append(s.sp.stack, savepoint{name: name, token: sp.Savepoint()})
	return nil
}

func (s *Session) rollbackToSavepoint(ctx context.Context, name string) error {
	i := s.sp.find(name)
	if i < 0 {
		return errNoSavepoint(name)
	}
	if s.sp.gone != nil || s.cat == nil {
		return errTxnGone(s.sp.gone)
	}
	kv := s.cat.KV
	if err := kv.(kvapi.Savepointer).RollbackTo(ctx, s.sp.stack[i].token); err != nil {
		_ = kv.Rollback(ctx)
		s.cat, s.mode, s.sp.gone = nil, failedTxn, err
		return errTxnGone(err)
	}
	s.sp.stack = s.sp.stack[:i+1]
	s.setTxn(kv) // the catalog's caches may hold what was rolled back
	s.mode = explicitTxn
	return nil
}

// endKV ends the block's KV transaction after err; ROLLBACK TO then says
// the transaction must be retried.
func (s *Session) endKV(ctx context.Context, err error) {
	_ = s.cat.KV.Rollback(ctx)
	s.cat = nil
	if err == nil {
		err = errors.New("the transaction was aborted")
	}
	s.sp.gone = err
}

func errNoSavepoint(name string) error {
	return pgcode.New(pgcode.InvalidSavepointSpecification, "savepoint \"%s\" does not exist", name)
}

// errTxnGone is ROLLBACK TO in a block whose KV transaction was aborted: a
// conflict (40001) or an unknown outcome undid all of it, not just what
// followed the savepoint, so only a retry from the start can go on.
func errTxnGone(cause error) error {
	e := pgcode.New(pgcode.SerializationFailure, "restart transaction: the transaction was aborted as a whole and cannot be rolled back to a savepoint")
	if cause != nil {
		e.Detail = cause.Error()
	}
	e.Hint = "ROLLBACK, then retry the transaction from its start."
	return e
}

func savepointVerb(k pg.TransactionStmtKind) string {
	switch k {
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return "SAVEPOINT"
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		return "RELEASE SAVEPOINT"
	}
	return "ROLLBACK TO SAVEPOINT"
}

func savepointTag(k pg.TransactionStmtKind) string {
	switch k {
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return "SAVEPOINT"
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		return "RELEASE"
	}
	return "ROLLBACK"
}

// addSavepoint logs a savepoint statement n: a replay of the block redoes it
// in the new KV transaction (a statement the savepoint rolled back failed,
// so it was never logged, or it is undone again).
func (l *txnLog) addSavepoint(n *pg.Node) {
	if l.broken {
		return
	}
	l.bytes += 64
	if len(l.entries) >= maxLogEntries || l.bytes > maxLogBytes {
		l.broken = true
		l.entries = nil
		return
	}
	l.entries = append(l.entries, logEntry{ast: n})
}
