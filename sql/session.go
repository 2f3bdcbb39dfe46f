package sql

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/parser"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// txnMode is the session's transaction state.
type txnMode uint8

const (
	noTxn       txnMode = iota
	implicitTxn         // opened for a statement or a batch
	explicitTxn         // BEGIN ... COMMIT
	failedTxn           // explicit block after an error
)

// Session implements pgwirebase.Session. It is used by one goroutine.
type Session struct {
	exec     *Executor
	args     pgwirebase.SessionArgs
	dbName   string
	dbID     uint64
	params   []pgwirebase.Param
	settings map[string]string
	loc      *time.Location
	timeouts timeouts
	// startupErr is a bad setting sent at startup, reported (FATAL) by the
	// first statement.
	startupErr error

	mode txnMode
	// readOnly is the open transaction's access mode (see readonly.go).
	readOnly bool
	cat      *catalog.Txn // the open KV transaction, nil if none
	retryKV  kvapi.Txn    // the next transaction, restarted from an aborted one
	// abortedKV is a transaction whose commit failed with a retryable
	// error; a retried lone statement restarts from it.
	abortedKV kvapi.Txn
	txnStart  time.Time
	prepared  map[*stmt]bool
	log       txnLog // statements of the explicit block, for replay
	// notices are the NOTICEs and WARNINGs of the statement running now,
	// sent (flushNotices) before its result or error. A retried attempt
	// starts them afresh, so a client sees each once.
	notices []*pgcode.Error
	seqs    seqState // currval/lastval
	// seqWrites are the sequences whose descriptor setval wrote in the
	// transaction txn (valid while it is the open one).
	seqWrites struct {
		txn *catalog.Txn
		ids map[uint64]bool
	}
	sp savepoints // SAVEPOINTs of the open block (savepoint.go)
	// sink, when set, receives the rows of the statement runRetrying runs
	// next if its plan streams (stream.go); runPlanned takes it, so the
	// statements of a block replay never stream.
	sink *rowSink
	// txnID is the id of the open KV transaction (0 if none or unknown),
	// read by other sessions' pg_stat_activity and pg_locks.
	txnID atomic.Uint64
}

var errInFailedTxn = pgcode.New(pgcode.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")

// Params implements pgwirebase.Session.
func (s *Session) Params() []pgwirebase.Param { return s.params }

// TxnStatus implements pgwirebase.Session.
func (s *Session) TxnStatus() pgwirebase.TxnStatus {
	switch s.mode {
	case explicitTxn:
		return pgwirebase.TxnInBlock
	case failedTxn:
		return pgwirebase.TxnFailed
	}
	return pgwirebase.TxnIdle
}

// Close implements pgwirebase.Session.
func (s *Session) Close() error {
	s.rollback(context.Background())
	return nil
}

// Abort implements pgwirebase.Session.
func (s *Session) Abort(err error) { s.fail(context.Background(), err) }

// fail handles err: an explicit block becomes failed (keeping its KV
// transaction for a ROLLBACK TO SAVEPOINT when it can), an implicit
// transaction rolls back.
func (s *Session) fail(ctx context.Context, err error) {
	switch s.mode {
	case explicitTxn, failedTxn:
		if s.cat != nil && !s.keepsKV(err) {
			s.endKV(ctx, err)
		}
		s.mode = failedTxn
	case implicitTxn:
		s.rollback(ctx)
	}
}

func (s *Session) rollback(ctx context.Context) {
	if s.cat != nil {
		_ = s.cat.KV.Rollback(ctx)
	}
	s.cat, s.mode = nil, noTxn
	s.log.reset()
	s.sp.reset()
}

// begin opens a KV transaction if none is open.
func (s *Session) begin(ctx context.Context, mode txnMode) error {
	if s.cat != nil {
		return nil
	}
	kv, err := s.retryKV, error(nil)
	s.retryKV = nil
	if kv == nil {
		kv, err = s.exec.cfg.DB.Begin(ctx)
	}
	if err != nil {
		return sqlerr.FromKV(err)
	}
	s.setTxn(kv)
	if s.timeouts.lock > 0 {
		s.applyLockTimeout()
	}
	s.txnStart = s.exec.cfg.Now().UTC().Truncate(time.Microsecond)
	if s.mode == noTxn {
		s.startAccessMode()
		s.mode = mode
	}
	return nil
}

// commit commits the open transaction (if any) and leaves the block. A
// block whose commit hits a retryable conflict is replayed and committed
// again when possible (see txnLog).
func (s *Session) commit(ctx context.Context) error {
	defer s.log.reset()
	defer s.sp.reset()
	for attempt := 0; ; attempt++ {
		cat := s.cat
		if cat == nil {
			s.mode = noTxn
			return nil
		}
		err := sqlerr.FromKV(cat.KV.Commit(ctx))
		if err == nil || !retryable(err) || attempt >= s.exec.cfg.MaxRetries || !s.replayBlock(ctx) {
			if err != nil && retryable(err) {
				s.abortedKV = cat.KV // a lone statement's retry restarts from it
			}
			s.cat, s.mode = nil, noTxn
			return err
		}
	}
}

// Sync implements pgwirebase.Session: an implicit transaction commits.
func (s *Session) Sync(ctx context.Context) (err error) {
	defer func() { s.exec.cfg.Metrics.failed(err) }()
	if s.startupErr != nil {
		return s.startupErr
	}
	if s.mode == implicitTxn {
		return s.commit(ctx)
	}
	return nil
}

// Query implements pgwirebase.Session.
func (s *Session) Query(ctx context.Context, sql string, w pgwirebase.ResultWriter) (err error) {
	defer func() { s.exec.cfg.Metrics.failed(err) }()
	if s.startupErr != nil {
		return s.startupErr
	}
	stmts, err := parser.Parse(sql)
	if err != nil {
		s.fail(ctx, err)
		return err
	}
	if len(stmts) == 0 {
		return w.EmptyQuery()
	}
	if len(stmts) > 1 && s.mode == noTxn {
		if err := s.begin(ctx, implicitTxn); err != nil {
			return err
		}
	}
	for _, st := range stmts {
		err := s.timeStatement(st.AST, func() error {
			return s.guard(ctx, func() error {
				return s.withStatementTimeout(ctx, func(ctx context.Context) error {
					return s.queryOne(ctx, st, len(stmts) == 1, w)
				})
			})
		})
		if err != nil {
			s.fail(ctx, err)
			return err
		}
	}
	if s.mode == implicitTxn {
		return s.commit(ctx)
	}
	return nil
}

func (s *Session) queryOne(ctx context.Context, st parser.Stmt, single bool, w pgwirebase.ResultWriter) error {
	if s.mode == failedTxn && !endsTxn(st.AST) {
		return errInFailedTxn
	}
	if c := st.AST.GetCopyStmt(); c != nil {
		return s.copyStmt(ctx, c, w, s.mode == noTxn)
	}
	if isUtility(st.AST) {
		return s.utility(ctx, st.AST, w)
	}
	s.sink = newRowSink(w, nil, nil, s.loc, true)
	res, cols, err := s.runRetrying(ctx, st.AST, nil, nil, single && s.mode == noTxn)
	s.sink = nil
	if ferr := s.flushNotices(w); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if res.Streamed {
		return w.Complete(res.Tag)
	}
	return writeResult(w, cols, nil, res, s.loc, true)
}

// runRetrying is runPlanned with retries of retryable conflicts: a lone
// statement outside a block (alone says so) is re-run in a new
// transaction; a statement in an explicit block after a replay of the
// block (see txnLog). Successful statements of a block are logged.
//
// A prepared statement (st != nil, the extended protocol) runs under
// statement_timeout here; the simple protocol sets it up in Query.
func (s *Session) runRetrying(ctx context.Context, ast *pg.Node, st *stmt, params []any, alone bool) (res *exec.Result, cols []exec.ResultCol, err error) {
	if st == nil {
		return s.runRetryingLoop(ctx, ast, st, params, alone)
	}
	err = s.withStatementTimeout(ctx, func(ctx context.Context) error {
		res, cols, err = s.runRetryingLoop(ctx, ast, st, params, alone)
		return err
	})
	return res, cols, err
}

func (s *Session) runRetryingLoop(ctx context.Context, ast *pg.Node, st *stmt, params []any, alone bool) (*exec.Result, []exec.ResultCol, error) {
	sink := s.sink
	s.sink = nil
	for attempt := 0; ; attempt++ {
		s.notices = nil
		if sink != nil {
			sink.reset()
		}
		s.sink = sink
		res, cols, err := s.runPlanned(ctx, ast, st, params)
		s.sink = nil
		if err == nil {
			if s.mode == explicitTxn || s.mode == implicitTxn {
				s.log.add(ast, st, params, res)
			}
			return res, cols, nil
		}
		if !retryable(err) || attempt >= s.exec.cfg.MaxRetries || (sink != nil && sink.started) {
			// Rows already sent cannot be taken back: no retry.
			return nil, nil, err
		}
		if alone {
			s.restartAlone(ctx)
		} else if !s.replayBlock(ctx) {
			return nil, nil, err
		}
	}
}

// runPlanned plans (or reuses plan) and executes in the session's
// transaction, opening an implicit one if needed. For a single statement
// outside a block the transaction is committed here.
func (s *Session) runPlanned(ctx context.Context, ast *pg.Node, st *stmt, params []any) (*exec.Result, []exec.ResultCol, error) {
	// A simple-protocol statement alone, or an extended-protocol Execute
	// whose Sync is already here, commits before its results are sent, so
	// a conflict at commit is retried rather than reported.
	autocommit := s.mode == noTxn && (st == nil || pgwirebase.SyncFollows(ctx))
	if is := ast.GetIndexStmt(); is != nil && autocommit {
		return s.createIndexOnline(ctx, ast, is)
	}
	if err := s.begin(ctx, implicitTxn); err != nil {
		return nil, nil, err
	}
	plan, err := s.planFor(ctx, ast, st)
	if err != nil {
		return nil, nil, sqlerr.FromKV(err)
	}
	if err := s.checkReadOnly(ast); err != nil {
		return nil, nil, err
	}
	res, err := s.execPlan(s.execCtx(ctx, params), plan)
	if err != nil {
		return nil, nil, sqlerr.FromKV(err)
	}
	if autocommit {
		if err := s.commit(ctx); err != nil {
			return nil, nil, err
		}
	}
	return res, plan.Columns(), nil
}

// execPlan runs plan, streaming its rows to the session's sink when both
// allow (stream.go).
func (s *Session) execPlan(c *exec.Ctx, plan exec.Plan) (*exec.Result, error) {
	sink := s.sink
	s.sink = nil
	if sp, ok := plan.(exec.Streamer); ok && sink != nil && sp.Streams(c) {
		if sink.cols == nil {
			sink.cols = plan.Columns()
		}
		tag, err := sp.Stream(c, sink.emit)
		if err != nil {
			return nil, err
		}
		return sink.result(tag), nil
	}
	return plan.Exec(c)
}

// createIndexOnline runs an autocommit CREATE INDEX as transactions of
// its own, so that writers go on while it backfills (docs/catalog.md).
func (s *Session) createIndexOnline(ctx context.Context, ast *pg.Node, is *pg.IndexStmt) (*exec.Result, []exec.ResultCol, error) {
	if err := s.checkReadOnly(ast); err != nil {
		return nil, nil, err
	}
	c := s.execCtx(ctx, nil)
	c.Backfill = s.exec.cfg.TestingKnobs.IndexBackfill
	res, err := exec.CreateIndexOnline(c, is)
	if err != nil {
		return nil, nil, sqlerr.FromKV(err)
	}
	return res, nil, nil
}

func (s *Session) planFor(ctx context.Context, ast *pg.Node, st *stmt) (exec.Plan, error) {
	if st == nil {
		return s.plan(ctx, sem.NewParams(nil), ast)
	}
	// A plan resolved its unqualified names through search_path: one made
	// under another path is planned again.
	path := strings.Join(s.searchPath(), "\x00")
	if st.plan != nil && st.planPath == path {
		ok, err := exec.Validate(ctx, s.cat, st.plan)
		if err != nil || ok {
			return st.plan, err
		}
	}
	plan, err := s.plan(ctx, sem.NewParams(st.declared), ast)
	if err != nil {
		return nil, err
	}
	st.plan, st.planPath = plan, path
	return plan, nil
}

func (s *Session) planner(ctx context.Context, params *[]types.T) *exec.Planner {
	return &exec.Planner{Ctx: ctx, Cat: s.cat, DBID: s.dbID, SearchPath: s.searchPath(), Params: params, Env: s.env(ctx),
		Clock: s.exec.cfg.Now}
}

func (s *Session) execCtx(ctx context.Context, params []any) *exec.Ctx {
	c := &exec.Ctx{
		Context: ctx, Cat: s.cat, DB: s.exec.cfg.DB, DBID: s.dbID, SearchPath: s.searchPath(),
		Eval:      &sem.Ctx{Context: ctx, Params: params, Env: s.env(ctx)},
		Notice:    func(n *pgcode.Error) { s.notices = append(s.notices, n) },
		MemBudget: s.exec.memoryBudget(),
	}
	c.Eval.Exec = c // subqueries run through the executor
	return c
}

// flushNotices sends the notices the statement raised.
func (s *Session) flushNotices(w pgwirebase.ResultWriter) error {
	ns := s.notices
	s.notices = nil
	for _, n := range ns {
		if err := w.Notice(n); err != nil {
			return err
		}
	}
	return nil
}

func endsTxn(n *pg.Node) bool {
	t := n.GetTransactionStmt()
	if t == nil {
		return false
	}
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT, pg.TransactionStmtKind_TRANS_STMT_ROLLBACK,
		pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return true
	}
	return false
}

func isUtility(n *pg.Node) bool {
	switch n.Node.(type) {
	case *pg.Node_TransactionStmt, *pg.Node_VariableSetStmt, *pg.Node_VariableShowStmt,
		*pg.Node_CopyStmt, *pg.Node_VacuumStmt, *pg.Node_CheckPointStmt, *pg.Node_DiscardStmt:
		return true
	}
	return false
}

func tagf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// restartAlone ends a lone statement's aborted transaction and, when the KV
// layer allows, prepares its retry with the same conflict priority, so the
// retried statement ages under wound-wait instead of losing every time.
func (s *Session) restartAlone(ctx context.Context) {
	old := kvOf(s.cat)
	if old == nil {
		old = s.abortedKV
	}
	s.abortedKV = nil
	s.cat, s.mode = nil, noTxn
	s.log.reset()
	if r, ok := old.(kvapi.Restarter); ok {
		if kv, err := r.Restart(ctx); err == nil {
			s.retryKV = kv
			return
		}
	}
	if old != nil {
		_ = old.Rollback(ctx)
	}
}
