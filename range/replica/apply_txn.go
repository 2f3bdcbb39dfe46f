package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/txn/record"
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
		a.traceTxn(tc, nil, err)
		return nil
	}
	switch tc.Kind {
	case rpcpb.TxnCommand_COMMIT_ONE_PHASE, rpcpb.TxnCommand_PREPARE, rpcpb.TxnCommand_COMMIT, rpcpb.TxnCommand_SPILL:
		held := a.applied.Term == tc.LockTerm && a.desc.Generation == tc.LockGeneration
		if _, err := record.Commit(record.None, held); err != nil {
			return fail(&kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: %v", a.r.rangeID, err)})
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
	a.traceTxn(tc, res, nil)
	return nil
}

// traceTxn logs, at debug level, what a transactional command did at this
// replica: the trail to follow when a history checker finds an anomaly.
func (a *applier) traceTxn(tc *rpcpb.TxnCommand, res *rpcpb.OpResult, err error) {
	log := a.r.cfg.Logger
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	attrs := []any{"range", a.r.rangeID, "txn", tc.Txn.GetId(), "kind", tc.Kind.String(), "index", a.applied.Index, "term", a.applied.Term}
	switch tc.Kind {
	case rpcpb.TxnCommand_RESOLVE:
		attrs = append(attrs, "commit", tc.Commit, "found", res.GetFound())
	case rpcpb.TxnCommand_ABORT_RECORD:
		attrs = append(attrs, "kept", res.GetFound())
	default:
		attrs = append(attrs, "lock_term", tc.LockTerm, "writes", len(tc.Writes)+len(tc.Deletes))
	}
	if err != nil {
		attrs = append(attrs, "refused", err.Error())
	}
	log.Debug("txn apply", attrs...)
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
		if err := a.maybeMoveProvisional(txnID, tc.Spilled); err != nil {
			return nil, err
		}
		return &rpcpb.OpResult{}, a.writeAll(tc.Writes, tc.Deletes)
	case rpcpb.TxnCommand_PREPARE:
		return &rpcpb.OpResult{}, a.putProto(keys.PreparedKey(rangeID, txnID), &rpcpb.PreparedRecord{Txn: tc.Txn, Writes: tc.Writes, Deletes: tc.Deletes, Spilled: tc.Spilled})
	case rpcpb.TxnCommand_SPILL:
		return &rpcpb.OpResult{}, a.writeProvisional(txnID, tc.Writes, tc.Deletes)
	case rpcpb.TxnCommand_CLEAN_PROVISIONAL:
		// A prepared transaction's provisional writes go with its record.
		if _, found, err := a.b.Get(keys.PreparedKey(rangeID, txnID)); err != nil || found {
			return &rpcpb.OpResult{Found: found}, err
		}
		p := keys.ProvisionalTxnPrefix(rangeID, txnID)
		return &rpcpb.OpResult{}, a.b.DeleteRange(p, keys.PrefixEnd(p))
	case rpcpb.TxnCommand_COMMIT:
		rec, err := a.txnRecord(txnID)
		if err != nil {
			return nil, err
		}
		if _, err := record.Commit(statusOf(rec), true); err != nil {
			return nil, &kverr.TxnRetryError{Reason: err.Error()}
		}
		if err := a.maybeMoveProvisional(txnID, tc.Spilled); err != nil {
			return nil, err
		}
		if err := a.writeAll(tc.Writes, tc.Deletes); err != nil {
			return nil, err
		}
		return &rpcpb.OpResult{}, a.putProto(keys.TxnRecordKey(rangeID, txnID), &rpcpb.TxnRecord{TxnId: txnID, Status: rpcpb.TxnRecord_COMMITTED, Participants: tc.Participants, AnchorKey: tc.Txn.GetAnchorKey()})
	case rpcpb.TxnCommand_RESOLVE:
		// A split applied since the request was routed may have moved the
		// prepared record (or part of it) to the right-hand range.
		if !ContainsKey(a.desc, tc.Key) {
			return nil, &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d no longer holds %s", rangeID, keys.Pretty(tc.Key))}
		}
		res, err := a.applyResolve(txnID, tc.Commit)
		if res != nil {
			res.Value = bytes.Clone(a.desc.EndKey)
		}
		return res, err
	case rpcpb.TxnCommand_ABORT_RECORD:
		// The tombstone belongs where the record would be: at the range
		// holding the anchor key now (a split moves records rightwards).
		if !ContainsKey(a.desc, tc.Txn.GetAnchorKey()) {
			return nil, &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d no longer holds anchor %s", rangeID, keys.Pretty(tc.Txn.GetAnchorKey()))}
		}
		rec, err := a.txnRecord(txnID)
		if err != nil {
			return nil, err
		}
		if _, write := record.AbortRecord(statusOf(rec)); !write {
			return &rpcpb.OpResult{Found: true, IntValue: int64(rec.Status)}, nil
		}
		return &rpcpb.OpResult{IntValue: int64(rpcpb.TxnRecord_ABORTED)}, a.putProto(keys.TxnRecordKey(rangeID, txnID), &rpcpb.TxnRecord{TxnId: txnID, Status: rpcpb.TxnRecord_ABORTED, AnchorKey: tc.Txn.GetAnchorKey(), AbortTerm: a.applied.Term})
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
	if rec.Spilled && !commit {
		p := keys.ProvisionalTxnPrefix(a.r.rangeID, txnID)
		if err := a.b.DeleteRange(p, keys.PrefixEnd(p)); err != nil {
			return nil, err
		}
	}
	if commit {
		if err := a.maybeMoveProvisional(txnID, rec.Spilled); err != nil {
			return nil, err
		}
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

// splitRecords hands the right-hand side of a split the transaction state
// it now owns, in the split's batch: each prepared record is cut in two by
// the split key (the writes on the right go to the new range), and each
// transaction record whose anchor key lies on the right moves there. Locks
// need no moving: the split starts a new lock regime on both sides, which
// rebuilds the prepared transactions' locks from these records. Provisional
// writes are cut or dropped with them (splitProvisional).
func (a *applier) splitRecords(split []byte, right uint64) error {
	left := a.r.rangeID
	recs, err := a.scanPrepared()
	if err != nil {
		return err
	}
	prepared := map[uint64]bool{}
	for _, rec := range recs {
		prepared[rec.Txn.GetId()] = true
	}
	provLeft, provRight, err := a.splitProvisional(split, right, prepared)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		l, r := cutRecord(rec, split)
		if rec.Spilled {
			l = withSpilled(l, rec, provLeft[rec.Txn.GetId()])
			r = withSpilled(r, rec, provRight[rec.Txn.GetId()])
		}
		if err := a.b.Delete(keys.PreparedKey(left, rec.Txn.GetId())); err != nil {
			return err
		}
		if l != nil {
			if err := a.putProto(keys.PreparedKey(left, rec.Txn.GetId()), l); err != nil {
				return err
			}
		}
		if r != nil {
			if err := a.putProto(keys.PreparedKey(right, rec.Txn.GetId()), r); err != nil {
				return err
			}
		}
	}
	return a.moveTxnRecords(split, right)
}

func (a *applier) scanPrepared() ([]*rpcpb.PreparedRecord, error) {
	p := keys.PreparedPrefix(a.r.rangeID)
	var out []*rpcpb.PreparedRecord
	var derr error
	err := a.b.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
		rec := &rpcpb.PreparedRecord{}
		if derr = proto.Unmarshal(v, rec); derr != nil {
			return false
		}
		out = append(out, rec)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// withSpilled marks half of a cut record as having provisional writes on
// its side, creating it if the cut left it empty.
func withSpilled(half, rec *rpcpb.PreparedRecord, spilled bool) *rpcpb.PreparedRecord {
	if !spilled {
		return half
	}
	if half == nil {
		half = &rpcpb.PreparedRecord{Txn: rec.Txn}
	}
	half.Spilled = true
	return half
}

// cutRecord splits a prepared record at key; either half may be nil.
func cutRecord(rec *rpcpb.PreparedRecord, split []byte) (left, right *rpcpb.PreparedRecord) {
	l := &rpcpb.PreparedRecord{Txn: rec.Txn}
	r := &rpcpb.PreparedRecord{Txn: rec.Txn}
	for _, w := range rec.Writes {
		if bytes.Compare(w.Key, split) < 0 {
			l.Writes = append(l.Writes, w)
		} else {
			r.Writes = append(r.Writes, w)
		}
	}
	for _, k := range rec.Deletes {
		if bytes.Compare(k, split) < 0 {
			l.Deletes = append(l.Deletes, k)
		} else {
			r.Deletes = append(r.Deletes, k)
		}
	}
	if len(l.Writes)+len(l.Deletes) > 0 {
		left = l
	}
	if len(r.Writes)+len(r.Deletes) > 0 {
		right = r
	}
	return left, right
}

func (a *applier) moveTxnRecords(split []byte, right uint64) error {
	p := keys.TxnRecordPrefix(a.r.rangeID)
	var move []*rpcpb.TxnRecord
	var derr error
	err := a.b.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
		rec := &rpcpb.TxnRecord{}
		if derr = proto.Unmarshal(v, rec); derr != nil {
			return false
		}
		if bytes.Compare(rec.AnchorKey, split) >= 0 {
			move = append(move, rec)
		}
		return true
	})
	if err != nil || derr != nil {
		return errors.Join(err, derr)
	}
	for _, rec := range move {
		if err := a.b.Delete(keys.TxnRecordKey(a.r.rangeID, rec.TxnId)); err != nil {
			return err
		}
		if err := a.putProto(keys.TxnRecordKey(right, rec.TxnId), rec); err != nil {
			return err
		}
	}
	return nil
}

// statusOf maps a stored record to the state machine's status.
func statusOf(rec *rpcpb.TxnRecord) record.Status {
	switch {
	case rec == nil:
		return record.None
	case rec.Status == rpcpb.TxnRecord_COMMITTED:
		return record.Committed
	case rec.Status == rpcpb.TxnRecord_ABORTED:
		return record.Aborted
	}
	return record.Pending
}
