package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/sql"
)

// sessionRegistry gives the SQL layer pgwire's sessions (pg_stat_activity).
// The executor is made before the pgwire server it serves, so the server
// is set afterwards.
type sessionRegistry struct{ pg atomic.Pointer[pgwire.Server] }

// Sessions implements sql.SessionRegistry.
func (r *sessionRegistry) Sessions() []pgwirebase.SessionStatus {
	if pg := r.pg.Load(); pg != nil {
		return pg.Sessions()
	}
	return nil
}

// lockTable implements sql.LockProvider: it asks every registered node for
// its replicas' state (as /status does) and reports the locks and waits of
// the ranges it holds the lease of. A node that cannot be asked is
// skipped: its locks are missing from the answer.
type lockTable struct{ s *Server }

// Locks implements sql.LockProvider.
func (l lockTable) Locks(ctx context.Context) (sql.LockTable, error) {
	now := time.Now()
	var out sql.LockTable
	seen := map[uint64]bool{}
	for _, n := range l.s.dir.list() {
		infos, err := l.s.localRanges(ctx, n.NodeId)
		if err != nil {
			if ctx.Err() != nil {
				return sql.LockTable{}, ctx.Err()
			}
			continue
		}
		for _, r := range infos {
			if !r.IsLeaseholder || seen[r.Desc.GetRangeId()] {
				continue
			}
			seen[r.Desc.GetRangeId()] = true
			addRangeLocks(&out, r, now)
		}
	}
	return out, nil
}

func addRangeLocks(out *sql.LockTable, r *rpcpb.RangeInfo, now time.Time) {
	for _, h := range r.Locks {
		out.Held = append(out.Held, sql.HeldLock{TxnID: h.TxnId, Key: h.Key, EndKey: h.EndKey, Exclusive: h.Mode == "X"})
	}
	for _, w := range r.LockWaits {
		out.Waits = append(out.Waits, sql.LockWait{TxnID: w.TxnId, Key: w.Key, EndKey: w.EndKey, Exclusive: w.Mode == "X",
			WaitingOn: w.WaitingOn, Start: now.Add(-time.Duration(w.WaitingMs) * time.Millisecond)})
	}
}
