package sql

import (
	"context"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/parser"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// stmt is a prepared statement; plan is cached and re-validated on use.
type stmt struct {
	s        *Session
	ast      *pg.Node // nil for an empty statement
	declared []uint32
	params   []types.T
	cols     []exec.ResultCol
	plan     exec.Plan
	planPath string // the search_path plan was made under
}

// Prepare implements pgwirebase.Session.
func (s *Session) Prepare(ctx context.Context, sql string, paramTypes []uint32) (pgwirebase.Statement, error) {
	var st *stmt
	err := s.guard(ctx, func() (err error) {
		st, err = s.prepare(ctx, sql, paramTypes)
		return err
	})
	if err != nil {
		s.exec.cfg.Metrics.failed(err)
		s.fail(ctx, err)
		return nil, err
	}
	return st, nil
}

func (s *Session) prepare(ctx context.Context, sql string, paramTypes []uint32) (*stmt, error) {
	stmts, err := parser.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) > 1 {
		return nil, pgcode.New(pgcode.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	st := &stmt{s: s, declared: paramTypes}
	if len(stmts) == 0 {
		return st, nil
	}
	st.ast = stmts[0].AST
	if s.mode == failedTxn && !endsTxn(st.ast) {
		return nil, errInFailedTxn
	}
	if isUtility(st.ast) {
		st.cols = utilityColumns(st.ast)
		return st, nil
	}
	return st, s.planStmt(ctx, st)
}

func utilityColumns(n *pg.Node) []exec.ResultCol {
	if sh := n.GetVariableShowStmt(); sh != nil {
		switch {
		case sh.Name == parser.ClusterSettingsAll:
			return []exec.ResultCol{{Name: "variable", T: types.Text}, {Name: "value", T: types.Text}, {Name: "setting_type", T: types.Text}, {Name: "description", T: types.Text}}
		case strings.HasPrefix(sh.Name, parser.ClusterSettingPrefix):
			return []exec.ResultCol{{Name: strings.TrimPrefix(sh.Name, parser.ClusterSettingPrefix), T: types.Text}}
		}
		return []exec.ResultCol{{Name: lower(sh.Name), T: types.Text}}
	}
	return nil
}

// planStmt plans in the open transaction, or in a short one.
func (s *Session) planStmt(ctx context.Context, st *stmt) error {
	own, mode := s.cat == nil, s.mode
	var plan exec.Plan
	var params *[]types.T
	var err error
	for attempt := 0; ; attempt++ {
		if own {
			if err := s.begin(ctx, implicitTxn); err != nil {
				return err
			}
		}
		params = sem.NewParams(st.declared)
		plan, err = s.plan(ctx, params, st.ast)
		if own {
			// The plan is re-validated when it runs. An explicit block that
			// has not touched KV yet stays open.
			_ = s.cat.KV.Rollback(ctx)
			s.cat, s.mode = nil, mode
		}
		if err == nil || !retryable(err) || attempt >= s.exec.cfg.MaxRetries || ctx.Err() != nil {
			break
		}
		// A conflict while reading the catalog (a lease moved, say): a
		// short planning transaction is simply run again; in a block, the
		// block is replayed first.
		if !own && !s.replayBlock(ctx) {
			break
		}
	}
	if err != nil {
		return sqlerr.FromKV(err)
	}
	st.plan, st.cols, st.planPath = plan, plan.Columns(), strings.Join(s.searchPath(), "\x00")
	for i, t := range *params {
		if t.Family == types.UnknownFamily {
			(*params)[i] = types.Text
		}
	}
	st.params = *params
	return nil
}

// ParamTypes implements pgwirebase.Statement.
func (st *stmt) ParamTypes() []uint32 {
	out := make([]uint32, len(st.params))
	for i, t := range st.params {
		out[i] = t.OID
	}
	return out
}

// Columns implements pgwirebase.Statement.
func (st *stmt) Columns() []pgwirebase.Column { return columns(st.cols, nil) }

// Close implements pgwirebase.Statement.
func (st *stmt) Close() error { return nil }

// Bind implements pgwirebase.Statement.
func (st *stmt) Bind(ctx context.Context, args pgwirebase.BindArgs) (_ pgwirebase.Portal, err error) {
	s := st.s
	defer func() { s.exec.cfg.Metrics.failed(err) }()
	if s.mode == failedTxn && (st.ast == nil || !endsTxn(st.ast)) {
		return nil, errInFailedTxn
	}
	p := &portal{st: st, formats: args.ResultFormats}
	for i, raw := range args.Params {
		t := types.Text
		if i < len(st.params) {
			t = st.params[i]
		}
		v, err := types.DecodeParam(t, raw, args.ParamFormats[i], s.loc)
		if err != nil {
			s.fail(ctx, err)
			if e, ok := err.(*pgcode.Error); ok {
				e.Where = fmt.Sprintf("unnamed portal parameter $%d", i+1)
			}
			return nil, err
		}
		p.params = append(p.params, v)
	}
	return p, nil
}

// portal is a bound statement; its result is computed on the first
// Execute and handed out maxRows at a time.
type portal struct {
	st      *stmt
	params  []any
	formats []pgwirebase.FormatCode
	res     *exec.Result
	sent    int
}

// Columns implements pgwirebase.Portal.
func (p *portal) Columns() []pgwirebase.Column { return columns(p.st.cols, p.formats) }

// Close implements pgwirebase.Portal.
func (p *portal) Close() error { return nil }

// Execute implements pgwirebase.Portal.
func (p *portal) Execute(ctx context.Context, maxRows int, w pgwirebase.ResultWriter) (_ bool, err error) {
	s := p.st.s
	defer func() { s.exec.cfg.Metrics.failed(err) }()
	if p.st.ast == nil {
		return false, w.EmptyQuery()
	}
	if s.mode == failedTxn && !endsTxn(p.st.ast) {
		return false, errInFailedTxn
	}
	if isUtility(p.st.ast) {
		err := s.timeStatement(p.st.ast, func() error {
			return s.guard(ctx, func() error { return s.utility(ctx, p.st.ast, w) })
		})
		if err != nil {
			s.fail(ctx, err)
		}
		return false, err
	}
	if p.res == nil {
		// The first statement of an implicit transaction has no earlier
		// results to keep: a conflict re-runs it in a new transaction.
		var res *exec.Result
		if maxRows <= 0 {
			s.sink = newRowSink(w, p.st.cols, p.formats, s.loc, false)
		}
		err := s.timeStatement(p.st.ast, func() error {
			return s.guard(ctx, func() (err error) {
				res, _, err = s.runRetrying(ctx, p.st.ast, p.st, p.params, s.mode == noTxn)
				return err
			})
		})
		s.sink = nil
		if ferr := s.flushNotices(w); err == nil {
			err = ferr
		}
		if err != nil {
			s.fail(ctx, err)
			return false, err
		}
		p.res = res
	}
	return p.send(maxRows, w, s)
}

func (p *portal) send(maxRows int, w pgwirebase.ResultWriter, s *Session) (bool, error) {
	rows := p.res.Rows[p.sent:]
	if maxRows > 0 && len(rows) > maxRows {
		rows = rows[:maxRows]
	}
	if err := writeRows(w, p.st.cols, p.formats, rows, s.loc); err != nil {
		return false, err
	}
	p.sent += len(rows)
	if p.sent < len(p.res.Rows) {
		return true, nil
	}
	tag := p.res.Tag
	if maxRows > 0 && len(p.st.cols) > 0 && p.st.ast.GetSelectStmt() != nil {
		tag = fmt.Sprintf("SELECT %d", len(rows))
	}
	return false, w.Complete(tag)
}
