package replica

import (
	"fmt"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

// applyTxn applies the transactional part of a command. Commands carrying
// writes made under locks (one-phase commit, prepare, commit) are rejected
// unless they were appended in the term, and apply to the generation, under
// which the locks were granted: otherwise another lease may have let other
// transactions read or write those keys meanwhile.
func (a *applier) applyTxn(id uint64, tc *rpcpb.TxnCommand) error {
	fail := func(err error) error {
		a.discard()
		a.results[id] = result{err: err}
		return nil
	}
	switch tc.Kind {
	case rpcpb.TxnCommand_COMMIT_ONE_PHASE, rpcpb.TxnCommand_PREPARE, rpcpb.TxnCommand_COMMIT:
		if a.applied.Term != tc.LockTerm || a.desc.Generation != tc.LockGeneration {
			return fail(&kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: lease moved before the commit applied", a.r.rangeID)})
		}
		if err := a.checkTxnKeys(tc); err != nil {
			return fail(err)
		}
	}
	res, err := a.applyTxnKind(tc)
	if err != nil {
		var retry *kverr.TxnRetryError
		if asRetry(err, &retry) {
			return fail(err)
		}
		return err
	}
	a.results[id] = result{results: []*rpcpb.OpResult{res}}
	return nil
}

func asRetry(err error, target **kverr.TxnRetryError) bool {
	r, ok := err.(*kverr.TxnRetryError)
	if ok {
		*target = r
	}
	return ok
}

func (a *applier) checkTxnKeys(tc *rpcpb.TxnCommand) error {
	for _, w := range tc.Writes {
		if !ContainsKey(a.desc, w.Key) {
			return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d no longer holds %s", a.r.rangeID, keys.Pretty(w.Key))}
		}
	}
	for _, k := range tc.Deletes {
		if !ContainsKey(a.desc, k) {
			return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d no longer holds %s", a.r.rangeID, keys.Pretty(k))}
		}
	}
	return nil
}

func (a *applier) applyTxnKind(tc *rpcpb.TxnCommand) (*rpcpb.OpResult, error) {
	rangeID, txnID := a.r.rangeID, tc.Txn.GetId()
	switch tc.Kind {
	case rpcpb.TxnCommand_COMMIT_ONE_PHASE:
		return &rpcpb.OpResult{}, a.writeAll(tc.Writes, tc.Deletes)
	case rpcpb.TxnCommand_PREPARE:
		return &rpcpb.OpResult{}, a.putProto(keys.PreparedKey(rangeID, txnID), &rpcpb.PreparedRecord{Txn: tc.Txn, Writes: tc.Writes, Deletes: tc.Deletes})
	case rpcpb.TxnCommand_COMMIT:
		rec, err := a.txnRecord(txnID)
		if err != nil {
			return nil, err
		}
		if rec != nil && rec.Status == rpcpb.TxnRecord_ABORTED {
			return nil, &kverr.TxnRetryError{Reason: "the transaction was aborted by recovery"}
		}
		if err := a.writeAll(tc.Writes, tc.Deletes); err != nil {
			return nil, err
		}
		return &rpcpb.OpResult{}, a.putProto(keys.TxnRecordKey(rangeID, txnID), &rpcpb.TxnRecord{TxnId: txnID, Status: rpcpb.TxnRecord_COMMITTED, Participants: tc.Participants})
	case rpcpb.TxnCommand_RESOLVE:
		return a.applyResolve(txnID, tc.Commit)
	case rpcpb.TxnCommand_ABORT_RECORD:
		rec, err := a.txnRecord(txnID)
		if err != nil {
			return nil, err
		}
		if rec != nil {
			return &rpcpb.OpResult{Found: true, IntValue: int64(rec.Status)}, nil
		}
		return &rpcpb.OpResult{IntValue: int64(rpcpb.TxnRecord_ABORTED)}, a.putProto(keys.TxnRecordKey(rangeID, txnID), &rpcpb.TxnRecord{TxnId: txnID, Status: rpcpb.TxnRecord_ABORTED})
	case rpcpb.TxnCommand_FORGET:
		return &rpcpb.OpResult{}, a.b.Delete(keys.TxnRecordKey(rangeID, txnID))
	}
	return nil, fmt.Errorf("unknown transaction command %v", tc.Kind)
}

func (a *applier) applyResolve(txnID uint64, commit bool) (*rpcpb.OpResult, error) {
	key := keys.PreparedKey(a.r.rangeID, txnID)
	v, found, err := a.b.Get(key)
	if err != nil || !found {
		return &rpcpb.OpResult{}, err
	}
	rec := &rpcpb.PreparedRecord{}
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("corrupt prepared record: %w", err)
	}
	if commit {
		if err := a.writeAll(rec.Writes, rec.Deletes); err != nil {
			return nil, err
		}
	}
	return &rpcpb.OpResult{Found: true}, a.b.Delete(key)
}

func (a *applier) writeAll(writes []*rpcpb.KeyValue, deletes [][]byte) error {
	for _, w := range writes {
		if err := a.b.Set(w.Key, w.Value); err != nil {
			return err
		}
	}
	for _, k := range deletes {
		if err := a.b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) putProto(key []byte, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return a.b.Set(key, v)
}

func (a *applier) txnRecord(txnID uint64) (*rpcpb.TxnRecord, error) {
	v, found, err := a.b.Get(keys.TxnRecordKey(a.r.rangeID, txnID))
	if err != nil || !found {
		return nil, err
	}
	rec := &rpcpb.TxnRecord{}
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("corrupt transaction record: %w", err)
	}
	return rec, nil
}

// hasTxnRecords reports whether the range holds prepared records or
// committed transaction records not yet forgotten; a split waits until they
// are resolved. ABORTED tombstones do not hold a split back: a commit that
// could still meet one is already in the log before it.
func (a *applier) hasTxnRecords() (bool, error) {
	found := false
	p := keys.PreparedPrefix(a.r.rangeID)
	err := a.b.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
		found = true
		return false
	})
	if err != nil || found {
		return found, err
	}
	p = keys.TxnRecordPrefix(a.r.rangeID)
	var derr error
	err = a.b.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
		rec := &rpcpb.TxnRecord{}
		if derr = proto.Unmarshal(v, rec); derr != nil {
			return false
		}
		found = rec.Status == rpcpb.TxnRecord_COMMITTED
		return !found
	})
	if err == nil {
		err = derr
	}
	return found, err
}
