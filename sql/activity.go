package sql

import (
	"context"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/kvapi"
)

// pg_stat_activity and pg_locks (exec.Monitor): pgwire's registry says
// which sessions the node serves and what they run; each Session adds its
// database and the id of its KV transaction, which ties the lock table's
// transactions to sessions. Activity is the node's own; locks are the
// whole cluster's, as the LockProvider gathers them.

// setTxn makes kv the session's open transaction.
func (s *Session) setTxn(kv kvapi.Txn) {
	s.cat = catalog.NewTxn(kv)
	var id uint64
	if i, ok := kv.(kvapi.Identifier); ok {
		id = i.ID()
	}
	s.txnID.Store(id)
}

// sessions lists the node's client sessions for pg_stat_activity.
func (e *Executor) sessions() []exec.SessionActivity {
	if e.cfg.Sessions == nil {
		return nil
	}
	list := e.cfg.Sessions.Sessions()
	out := make([]exec.SessionActivity, 0, len(list))
	for _, st := range list {
		a := exec.SessionActivity{SessionStatus: st, DatabaseName: st.Database}
		if s, ok := st.Session.(*Session); ok {
			a.DatabaseID, a.DatabaseName = s.dbID, s.dbName
			if idle := st.State == "idle"; !idle {
				a.TxnID = s.txnID.Load()
			}
		}
		out = append(out, a)
	}
	return out
}

func (e *Executor) locks(ctx context.Context) (exec.LockTable, error) {
	if e.cfg.Locks == nil {
		return exec.LockTable{}, nil
	}
	return e.cfg.Locks.Locks(ctx)
}

// Sessions implements exec.Monitor.
func (e *env) Sessions() []exec.SessionActivity { return e.s.exec.sessions() }

// Locks implements exec.Monitor.
func (e *env) Locks(ctx context.Context) (exec.LockTable, error) { return e.s.exec.locks(ctx) }

// BackendPID is pg_backend_pid(): the session's process ID.
func (e *env) BackendPID() int64 { return int64(e.s.args.ProcessID) }
