package sql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// Read-only transactions, as PostgreSQL's: a transaction's access mode is
// fixed when it starts (from default_transaction_read_only, or BEGIN's
// READ ONLY / READ WRITE) and may change with SET TRANSACTION or SET
// transaction_read_only; it may become read-write again only before its
// first query (25001). A read-only transaction refuses every statement
// that writes (25006) — DML, DDL, role statements, COPY FROM, SELECT ...
// FOR UPDATE/SHARE, nextval and setval — with PostgreSQL's message naming
// the command. The check is the SQL layer's; the KV transaction is an
// ordinary one.

const settingDefaultReadOnly = "default_transaction_read_only"

// txnReadOnly says whether the current transaction is read-only; outside
// a transaction, whether the next one will be.
func (s *Session) txnReadOnly() bool {
	if s.mode == noTxn {
		return s.defaultReadOnly()
	}
	return s.readOnly
}

// defaultReadOnly is default_transaction_read_only (a reported parameter).
func (s *Session) defaultReadOnly() bool {
	v, _ := s.setting(settingDefaultReadOnly)
	return v == "on"
}

// startAccessMode fixes the access mode of a transaction that starts now.
func (s *Session) startAccessMode() {
	s.readOnly = s.defaultReadOnly()
}

// setReadOnly changes the current transaction's access mode (a no-op
// outside one, where each statement is its own transaction).
func (s *Session) setReadOnly(ro bool) error {
	if s.mode == noTxn {
		return nil
	}
	if !ro && s.readOnly && s.cat != nil {
		return pgcode.New(pgcode.ActiveSQLTransaction, "transaction read-write mode must be set before any query")
	}
	s.readOnly = ro
	return nil
}

// errReadOnly is PostgreSQL's error for cmd in a read-only transaction.
func errReadOnly(cmd string) error {
	return pgcode.New(sqlerr.ReadOnlySQLTransaction, "cannot execute %s in a read-only transaction", cmd)
}

// checkReadOnly refuses a statement that writes in a read-only
// transaction. It runs after planning, so a missing table is reported
// first, as in PostgreSQL (whose DDL does no lookups before the check).
func (s *Session) checkReadOnly(n *pg.Node) error {
	if !s.txnReadOnly() {
		return nil
	}
	if cmd := writeCommand(n); cmd != "" {
		return errReadOnly(cmd)
	}
	return nil
}

// checkReadOnlyFunc refuses nextval() or setval() (fn) in a read-only
// transaction.
func (s *Session) checkReadOnlyFunc(fn string) error {
	if s.txnReadOnly() {
		return errReadOnly(fn + "()")
	}
	return nil
}

// writeCommand returns the command tag PostgreSQL names when it refuses
// the statement in a read-only transaction, "" for a statement that does
// not write.
func writeCommand(n *pg.Node) string {
	switch x := n.Node.(type) {
	case *pg.Node_InsertStmt:
		return "INSERT"
	case *pg.Node_UpdateStmt:
		return "UPDATE"
	case *pg.Node_DeleteStmt:
		return "DELETE"
	case *pg.Node_SelectStmt:
		return selectWriteCommand(x.SelectStmt)
	case *pg.Node_ExplainStmt:
		if exec.ExplainAnalyzes(x.ExplainStmt) {
			return writeCommand(x.ExplainStmt.Query) // it runs the statement
		}
	case *pg.Node_CreateStmt:
		return "CREATE TABLE"
	case *pg.Node_IndexStmt:
		return "CREATE INDEX"
	case *pg.Node_CreateSeqStmt:
		return "CREATE SEQUENCE"
	case *pg.Node_ViewStmt:
		return "CREATE VIEW"
	case *pg.Node_AlterSeqStmt:
		return "ALTER SEQUENCE"
	case *pg.Node_CreateSchemaStmt:
		return "CREATE SCHEMA"
	case *pg.Node_TruncateStmt:
		return "TRUNCATE TABLE"
	case *pg.Node_CreateRoleStmt:
		return "CREATE ROLE"
	case *pg.Node_AlterRoleStmt:
		return "ALTER ROLE"
	case *pg.Node_DropRoleStmt:
		return "DROP ROLE"
	case *pg.Node_DropStmt:
		return "DROP " + objectName(x.DropStmt.RemoveType)
	case *pg.Node_AlterTableStmt:
		return "ALTER " + objectName(x.AlterTableStmt.Objtype)
	case *pg.Node_RenameStmt:
		return "ALTER " + objectName(x.RenameStmt.RenameType)
	}
	return ""
}

// selectWriteCommand names a SELECT that locks rows after its first
// locking clause, as PostgreSQL does; "" for a plain SELECT.
func selectWriteCommand(s *pg.SelectStmt) string {
	if len(s.LockingClause) == 0 {
		return ""
	}
	switch s.LockingClause[0].GetLockingClause().GetStrength() {
	case pg.LockClauseStrength_LCS_FORKEYSHARE:
		return "SELECT FOR KEY SHARE"
	case pg.LockClauseStrength_LCS_FORSHARE:
		return "SELECT FOR SHARE"
	case pg.LockClauseStrength_LCS_FORNOKEYUPDATE:
		return "SELECT FOR NO KEY UPDATE"
	}
	return "SELECT FOR UPDATE"
}

// objectName is the object kind as command tags spell it (OBJECT_TABLE is
// TABLE).
func objectName(t pg.ObjectType) string {
	return strings.ReplaceAll(strings.TrimPrefix(t.String(), "OBJECT_"), "_", " ")
}

// beginOptions applies BEGIN's or START TRANSACTION's modes.
func (s *Session) beginOptions(opts []*pg.Node) error {
	for _, o := range opts {
		if d := o.GetDefElem(); d != nil && d.Defname == "transaction_read_only" {
			if err := s.setReadOnly(d.Arg.GetAConst().GetIval().GetIval() != 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// setTransaction runs SET TRANSACTION (only its access mode means
// anything: every isolation level is serializable) and SET SESSION
// CHARACTERISTICS AS TRANSACTION.
func (s *Session) setTransaction(v *pg.VariableSetStmt, w pgwirebase.ResultWriter) error {
	session := v.Name == "SESSION CHARACTERISTICS"
	if !session && s.mode == noTxn {
		_ = w.Notice(&pgcode.Error{Severity: pgcode.SeverityWarning, Code: pgcode.NoActiveSQLTransaction,
			Message: "SET TRANSACTION can only be used in transaction blocks"})
	}
	for _, a := range v.Args {
		d := a.GetDefElem()
		if d == nil || d.Defname != "transaction_read_only" {
			continue
		}
		ro := d.Arg.GetAConst().GetIval().GetIval() != 0
		if session {
			if err := s.store(settingDefaultReadOnly, onOff(ro), w); err != nil {
				return err
			}
		} else if err := s.setReadOnly(ro); err != nil {
			return err
		}
	}
	return w.Complete("SET")
}

// setAccessSetting runs SET transaction_read_only and SET
// default_transaction_read_only (value "" is RESET); w, if not nil, is
// sent the new default (a reported parameter).
func (s *Session) setAccessSetting(name, value string, w pgwirebase.ResultWriter) error {
	if value == "" {
		value = "off"
	}
	b, ok := parseBool(value)
	if !ok {
		return pgcode.New(pgcode.InvalidParameterValue, "parameter %q requires a Boolean value", name)
	}
	if name == settingDefaultReadOnly {
		return s.store(name, onOff(b), w)
	}
	return s.setReadOnly(b)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// parseBool accepts what PostgreSQL's parse_bool does: true, false, yes,
// no, on, off, 1, 0, and unique prefixes of the words.
func parseBool(v string) (bool, bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "1":
		return true, true
	case "0":
		return false, true
	case "o", "":
		return false, false
	}
	for _, w := range []string{"true", "yes", "on"} {
		if strings.HasPrefix(w, v) {
			return true, true
		}
	}
	for _, w := range []string{"false", "no", "off"} {
		if strings.HasPrefix(w, v) {
			return false, true
		}
	}
	return false, false
}
