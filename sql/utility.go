package sql

import (
	"context"
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/parser"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// utility runs transaction control, SET and SHOW.
func (s *Session) utility(ctx context.Context, n *pg.Node, w pgwirebase.ResultWriter) error {
	switch x := n.Node.(type) {
	case *pg.Node_TransactionStmt:
		return s.txnStmt(ctx, x.TransactionStmt, w)
	case *pg.Node_VariableSetStmt:
		if strings.HasPrefix(x.VariableSetStmt.Name, parser.ClusterSettingPrefix) {
			return s.setClusterSetting(ctx, x.VariableSetStmt, w)
		}
		return s.set(x.VariableSetStmt, w)
	case *pg.Node_VariableShowStmt:
		if name := x.VariableShowStmt.Name; name == parser.ClusterSettingsAll || strings.HasPrefix(name, parser.ClusterSettingPrefix) {
			return s.showClusterSettings(ctx, name, w)
		}
		return s.show(x.VariableShowStmt.Name, w)
	case *pg.Node_CopyStmt:
		return s.copyStmt(ctx, x.CopyStmt, w, false)
	case *pg.Node_VacuumStmt:
		return s.vacuum(ctx, x.VacuumStmt, w)
	case *pg.Node_CheckPointStmt:
		return w.Complete("CHECKPOINT")
	case *pg.Node_DiscardStmt:
		return s.discard(ctx, w)
	}
	return sqlerr.Unsupported("statement not supported")
}

func (s *Session) txnStmt(ctx context.Context, t *pg.TransactionStmt, w pgwirebase.ResultWriter) error {
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		switch s.mode {
		case explicitTxn:
			_ = w.Notice(&pgcode.Error{Severity: pgcode.SeverityWarning, Code: pgcode.ActiveSQLTransaction, Message: "there is already a transaction in progress"})
		case noTxn:
			s.startAccessMode()
		}
		s.mode = explicitTxn
		if err := s.beginOptions(t.Options); err != nil {
			return err
		}
		if t.Kind == pg.TransactionStmtKind_TRANS_STMT_START {
			return w.Complete("START TRANSACTION")
		}
		return w.Complete("BEGIN")
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		return s.commitStmt(ctx, w)
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		if s.mode == noTxn || s.mode == implicitTxn {
			_ = w.Notice(&pgcode.Error{Severity: pgcode.SeverityWarning, Code: pgcode.NoActiveSQLTransaction, Message: "there is no transaction in progress"})
		}
		s.rollback(ctx)
		return w.Complete("ROLLBACK")
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT, pg.TransactionStmtKind_TRANS_STMT_RELEASE,
		pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return s.savepointStmt(ctx, &pg.Node{Node: &pg.Node_TransactionStmt{TransactionStmt: t}}, t, w)
	}
	return sqlerr.Unsupported("%s is not supported yet", strings.TrimPrefix(t.Kind.String(), "TRANS_STMT_"))
}

func (s *Session) commitStmt(ctx context.Context, w pgwirebase.ResultWriter) error {
	switch s.mode {
	case failedTxn:
		s.rollback(ctx)
		return w.Complete("ROLLBACK")
	case noTxn, implicitTxn:
		_ = w.Notice(&pgcode.Error{Severity: pgcode.SeverityWarning, Code: pgcode.NoActiveSQLTransaction, Message: "there is no transaction in progress"})
	}
	if err := s.commit(ctx); err != nil {
		return err
	}
	return w.Complete("COMMIT")
}

// reported names PostgreSQL reports with ParameterStatus.
func (s *Session) initParams(args pgwirebase.SessionArgs) {
	s.params = pgwirebase.InitialParams(args)
	s.settings = map[string]string{}
	for k, v := range defaultSettings {
		s.settings[k] = v
	}
	s.loc = time.UTC
	if tz, ok := s.param("timezone"); ok {
		if l, err := time.LoadLocation(tz); err == nil {
			s.loc = l
		}
	}
	s.settings[settingIdleInTxnTimeout] = "0"
	if d := s.defaultStatementTimeout(); d > 0 {
		s.timeouts.statement = d
		s.settings[settingStatementTimeout] = formatTimeout(d)
	}
	s.startupErr = s.applyStartupSettings(args.StartupParams)
}

func (s *Session) param(name string) (string, bool) {
	for _, p := range s.params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

func (s *Session) set(v *pg.VariableSetStmt, w pgwirebase.ResultWriter) error {
	name := lower(v.Name)
	if v.Kind == pg.VariableSetKind_VAR_SET_MULTI {
		return s.setTransaction(v, w)
	}
	value, err := setValue(v)
	if err != nil {
		return err
	}
	if name == "transaction_read_only" || name == settingDefaultReadOnly {
		if err := s.setAccessSetting(name, value, w); err != nil {
			return err
		}
		return w.Complete("SET")
	}
	if strings.HasPrefix(name, "transaction") {
		return w.Complete("SET") // transaction_isolation: every level is serializable
	}
	if name == "search_path" && v.Kind == pg.VariableSetKind_VAR_SET_VALUE {
		var names []string
		for _, a := range v.Args {
			names = append(names, a.GetAConst().GetSval().GetSval())
		}
		value = searchPathValue(names)
	}
	if isTimeoutSetting(name) {
		if value == "" || v.Kind == pg.VariableSetKind_VAR_RESET || v.Kind == pg.VariableSetKind_VAR_SET_DEFAULT {
			value = "0"
			if d := s.defaultStatementTimeout(); name == settingStatementTimeout && d > 0 {
				value = strconv.FormatInt(d.Milliseconds(), 10)
			}
		}
		if err := s.setTimeout(name, value); err != nil {
			return err
		}
		return w.Complete("SET")
	}
	if name == "timezone" {
		l, err := time.LoadLocation(value)
		if err != nil {
			return pgcode.New(pgcode.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", value)
		}
		s.loc = l
	}
	if err := s.store(name, value, w); err != nil {
		return err
	}
	return w.Complete("SET")
}

// store records a setting's new value; a reported parameter is sent to
// the client (ParameterStatus) when w is not nil.
func (s *Session) store(name, value string, w pgwirebase.ResultWriter) error {
	for i := range s.params {
		if strings.EqualFold(s.params[i].Name, name) {
			s.params[i].Value = value
			if w == nil {
				return nil
			}
			return w.SetParam(s.params[i].Name, value)
		}
	}
	s.settings[name] = value
	return nil
}

func setValue(v *pg.VariableSetStmt) (string, error) {
	if v.Kind == pg.VariableSetKind_VAR_SET_DEFAULT || v.Kind == pg.VariableSetKind_VAR_RESET {
		return defaultSettings[lower(v.Name)], nil
	}
	var parts []string
	for _, a := range v.Args {
		c := a.GetAConst()
		if c == nil {
			return "", sqlerr.Unsupported("SET value")
		}
		switch x := c.Val.(type) {
		case *pg.A_Const_Sval:
			parts = append(parts, x.Sval.Sval)
		case *pg.A_Const_Ival:
			parts = append(parts, tagf("%d", x.Ival.Ival))
		case *pg.A_Const_Fval:
			parts = append(parts, x.Fval.Fval)
		case *pg.A_Const_Boolval:
			parts = append(parts, map[bool]string{true: "on", false: "off"}[x.Boolval.Boolval])
		}
	}
	return strings.Join(parts, ", "), nil
}

func (s *Session) setting(name string) (string, bool) {
	if name == "transaction_read_only" {
		return onOff(s.txnReadOnly()), true
	}
	if v, ok := s.param(name); ok {
		return v, true
	}
	v, ok := s.settings[name]
	return v, ok
}

func (s *Session) show(name string, w pgwirebase.ResultWriter) error {
	name = lower(name)
	v, ok := s.setting(name)
	if !ok {
		return pgcode.New(pgcode.UndefinedObject, "unrecognized configuration parameter %q", name)
	}
	cols := []exec.ResultCol{{Name: name, T: types.Text}}
	res := &exec.Result{Rows: [][]any{{v}}, Tag: "SHOW"}
	return writeResult(w, cols, nil, res, s.loc, true)
}

// vacuum accepts VACUUM and ANALYZE as no-ops (ordo has no dead tuples to
// reclaim and no statistics yet), but checks that the named tables exist,
// as PostgreSQL does. VACUUM is refused inside a transaction block.
func (s *Session) vacuum(ctx context.Context, v *pg.VacuumStmt, w pgwirebase.ResultWriter) error {
	tag := "ANALYZE"
	if v.IsVacuumcmd {
		tag = "VACUUM"
		if s.mode == explicitTxn {
			return pgcode.New(pgcode.ActiveSQLTransaction, "VACUUM cannot run inside a transaction block")
		}
	}
	own := s.mode == noTxn
	for attempt := 0; ; attempt++ {
		err := s.vacuumOnce(ctx, v, own)
		if err == nil {
			return w.Complete(tag)
		}
		// Alone, it only read the catalog: a conflict is retried.
		if !own || !retryable(err) || attempt >= s.exec.cfg.MaxRetries || ctx.Err() != nil {
			return err
		}
		s.rollback(ctx)
	}
}

func (s *Session) vacuumOnce(ctx context.Context, v *pg.VacuumStmt, own bool) error {
	if err := s.begin(ctx, implicitTxn); err != nil {
		return err
	}
	for _, r := range v.Rels {
		rel := r.GetVacuumRelation().GetRelation()
		if rel == nil {
			continue
		}
		if _, err := exec.LookupTable(ctx, s.names(), rel); err != nil {
			return sqlerr.FromKV(err)
		}
	}
	if own {
		return s.commit(ctx)
	}
	return nil
}

// discard implements DISCARD ALL: it drops the session's prepared
// statements' plans and what currval and lastval remember; settings are
// kept (pgwire owns statement names).
func (s *Session) discard(_ context.Context, w pgwirebase.ResultWriter) error {
	if s.mode == explicitTxn {
		return pgcode.New(pgcode.ActiveSQLTransaction, "DISCARD ALL cannot run inside a transaction block")
	}
	s.seqs = seqState{}
	return w.Complete("DISCARD ALL")
}

// setClusterSetting serves SET and RESET CLUSTER SETTING (rewritten by the
// parser). Like CockroachDB, it refuses to run inside a transaction block:
// the change is not transactional.
func (s *Session) setClusterSetting(ctx context.Context, v *pg.VariableSetStmt, w pgwirebase.ResultWriter) error {
	cs := s.exec.cfg.ClusterSettings
	if cs == nil {
		return sqlerr.Unsupported("cluster settings are not available on this executor")
	}
	if s.mode == explicitTxn {
		return pgcode.New(pgcode.ActiveSQLTransaction, "SET CLUSTER SETTING cannot be used inside a transaction block")
	}
	if !s.args.Superuser {
		return pgcode.New(insufficientPrivilege, "only superusers may change cluster settings")
	}
	name := strings.TrimPrefix(v.Name, parser.ClusterSettingPrefix)
	if v.Kind == pg.VariableSetKind_VAR_RESET || v.Kind == pg.VariableSetKind_VAR_SET_DEFAULT {
		if err := cs.ResetClusterSetting(ctx, name); err != nil {
			return err
		}
		return w.Complete("SET CLUSTER SETTING")
	}
	value, err := setValue(v)
	if err != nil {
		return err
	}
	if err := cs.SetClusterSetting(ctx, name, value); err != nil {
		return err
	}
	return w.Complete("SET CLUSTER SETTING")
}

// showClusterSettings serves SHOW CLUSTER SETTINGS (every setting: name,
// value, type, description) and SHOW CLUSTER SETTING name (one column named
// after the setting).
func (s *Session) showClusterSettings(ctx context.Context, name string, w pgwirebase.ResultWriter) error {
	cs := s.exec.cfg.ClusterSettings
	if cs == nil {
		return sqlerr.Unsupported("cluster settings are not available on this executor")
	}
	rows, err := cs.ShowClusterSettings(ctx)
	if err != nil {
		return err
	}
	if name == parser.ClusterSettingsAll {
		cols := []exec.ResultCol{{Name: "variable", T: types.Text}, {Name: "value", T: types.Text}, {Name: "setting_type", T: types.Text}, {Name: "description", T: types.Text}}
		res := &exec.Result{Tag: "SHOW"}
		for _, r := range rows {
			res.Rows = append(res.Rows, []any{r.Name, r.Value, r.Type, r.Description})
		}
		return writeResult(w, cols, nil, res, s.loc, true)
	}
	one := strings.TrimPrefix(name, parser.ClusterSettingPrefix)
	for _, r := range rows {
		if r.Name == one {
			res := &exec.Result{Rows: [][]any{{r.Value}}, Tag: "SHOW"}
			return writeResult(w, []exec.ResultCol{{Name: one, T: types.Text}}, nil, res, s.loc, true)
		}
	}
	return pgcode.New(pgcode.UndefinedObject, "unknown cluster setting %q", one)
}
