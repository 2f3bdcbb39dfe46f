package replica

import (
	"errors"
	"fmt"
	"time"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/txn/locktable"
)

// rollbackTo undoes the transaction's pending writes made after a
// savepoint (ROLLBACK TO SAVEPOINT); its locks stay. A transaction this
// regime aborted is gone: the coordinator must retry it.
func (r *Replica) rollbackTo(term, gen uint64, req *rpcpb.TxnRequest) ([]*rpcpb.OpResult, error) {
	id := locktable.TxnID(req.Txn.Id)
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	rg, err := r.regimeLocked(term, gen)
	if err != nil {
		return nil, err
	}
	if why, ok := rg.aborted[id]; ok {
		return nil, &kverr.TxnRetryError{Reason: why}
	}
	more, err := rg.table.RollbackTo(id, priority(req.Txn), req.RollbackSeq, req.RollbackUpTo)
	if errors.Is(err, locktable.ErrSpilledRollback) {
		why := fmt.Sprintf("range %d: cannot roll back to a savepoint taken before writes that spilled (the transaction's writes here passed kv.transaction.spill_bytes); the transaction was aborted", r.rangeID)
		r.abortLocked(rg, id, why)
		return nil, &kverr.TxnRetryError{Reason: why}
	}
	if err != nil {
		return nil, &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: rollback to savepoint: %v", r.rangeID, err)}
	}
	if rg.meta[id] == nil {
		rg.meta[id] = req.Txn // the table knows it now: idle recovery must find it
	}
	rg.touched[id] = time.Now()
	return []*rpcpb.OpResult{{Found: more}}, nil
}
