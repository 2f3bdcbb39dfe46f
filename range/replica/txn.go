package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/txn/locktable"
	"github.com/ordodb/ordo/txn/record"
	"go.etcd.io/raft/v3"
	"google.golang.org/protobuf/proto"
)

// DefaultLockTimeout bounds a lock wait when the request names none.
const DefaultLockTimeout = 10 * time.Second

// txnRegime is the leaseholder's transactional state for one lease: a term
// and a descriptor generation. Locks are not replicated; when either moves,
// the regime starts over from the prepared records, and every transaction
// that held unprepared locks must abort (its commit is rejected at apply).
type txnRegime struct {
	term, gen uint64
	table     *locktable.Table
	waiters   map[locktable.TxnID]chan error
	meta      map[locktable.TxnID]*rpcpb.TxnMeta
	touched   map[locktable.TxnID]time.Time
	prepared  map[locktable.TxnID]time.Time
	aborted   map[locktable.TxnID]string
	records   map[uint64]time.Time     // COMMITTED records: when first seen
	marked    map[locktable.TxnID]bool // marked prepared in the lock table
	spilling  map[locktable.TxnID]bool // a SPILL of its writes is in flight
}

// txnState guards the current regime.
type txnState struct {
	mu     sync.Mutex
	regime *txnRegime
	// ended is the newest (term, generation) whose regime ended. A request
	// that read the lease before it ended must not start it again: the
	// locks it held are gone, and a fresh regime of the same lease would
	// let its transactions go on as if they were not.
	endedTerm, endedGen uint64
}

// older reports whether lease (term, gen) precedes (t2, g2). Terms and
// generations only grow at a replica, so the order is lexicographic.
func older(term, gen, t2, g2 uint64) bool {
	return term < t2 || (term == t2 && gen < g2)
}

func newRegime(term, gen uint64, maxTxnBytes func() int64) *txnRegime {
	return &txnRegime{
		term: term, gen: gen,
		table:    locktable.New(locktable.Config{MaxTxnBytesFunc: maxTxnBytes}),
		waiters:  map[locktable.TxnID]chan error{},
		meta:     map[locktable.TxnID]*rpcpb.TxnMeta{},
		touched:  map[locktable.TxnID]time.Time{},
		prepared: map[locktable.TxnID]time.Time{},
		aborted:  map[locktable.TxnID]string{},
		marked:   map[locktable.TxnID]bool{},
		spilling: map[locktable.TxnID]bool{},
	}
}

// lease returns the current term and generation if this replica holds an
// active lease: it leads, and it has applied an entry of its own term, so
// everything committed before the lease is applied.
func (r *Replica) lease() (term, gen uint64, desc *rpcpb.RangeDescriptor, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.destroyed || r.mu.desc == nil {
		return 0, 0, nil, &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	if r.mu.state != raft.StateLeader || r.mu.appliedTerm != r.mu.term {
		return 0, 0, nil, r.notLeaseholderLocked()
	}
	return r.mu.term, r.mu.desc.Generation, r.mu.desc, nil
}

// regimeLocked returns the regime of (term, gen), starting a new one from
// the prepared records if the lease moved. Caller holds r.txn.mu.
func (r *Replica) regimeLocked(term, gen uint64) (*txnRegime, error) {
	if rg := r.txn.regime; rg != nil && rg.term == term && rg.gen == gen {
		return rg, nil
	}
	if rg := r.txn.regime; (rg != nil && older(term, gen, rg.term, rg.gen)) || !older(r.txn.endedTerm, r.txn.endedGen, term, gen) {
		return nil, &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: lease (term %d, generation %d) ended", r.rangeID, term, gen)}
	}
	r.endRegimeLocked("lease moved")
	rg := newRegime(term, gen, r.cfg.TxnRangeBytes)
	if err := r.rebuildPrepared(rg); err != nil {
		return nil, err
	}
	if err := r.cleanOrphansLocked(rg); err != nil {
		return nil, err
	}
	r.txn.regime = rg
	return rg, nil
}

// endRegimeLocked fails every waiter of the current regime.
func (r *Replica) endRegimeLocked(why string) {
	rg := r.txn.regime
	if rg == nil {
		return
	}
	for id, ch := range rg.waiters {
		ch <- &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: %s", r.rangeID, why)}
		delete(rg.waiters, id)
	}
	if older(r.txn.endedTerm, r.txn.endedGen, rg.term, rg.gen) {
		r.txn.endedTerm, r.txn.endedGen = rg.term, rg.gen
	}
	r.txn.regime = nil
}

// onLeaseLost is called by HandleReady when this replica stops leading.
func (r *Replica) onLeaseLost() {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	r.endRegimeLocked("leadership lost")
}

// rebuildPrepared takes exclusive locks for every prepared record, so no
// one reads or writes a prepared key until its transaction is resolved.
func (r *Replica) rebuildPrepared(rg *txnRegime) error {
	recs, err := r.preparedRecords()
	if err != nil {
		return err
	}
	now := time.Now()
	for _, rec := range recs {
		id := locktable.TxnID(rec.Txn.Id)
		prio := priority(rec.Txn)
		spans := make([]locktable.Span, 0, len(rec.Writes)+len(rec.Deletes)+1)
		for _, k := range recordKeys(rec) {
			spans = append(spans, locktable.PointSpan(k))
		}
		if rec.Spilled {
			// One span lock over its provisional writes: coarser than the
			// locks it held, never finer.
			s, ok, err := r.provisionalSpan(rec.Txn.Id)
			if err != nil {
				return err
			}
			if ok {
				spans = append(spans, s)
			}
		}
		for _, s := range spans {
			if _, err := rg.table.Acquire(locktable.Request{Txn: id, Priority: prio, Span: s, Mode: locktable.Exclusive}); err != nil {
				return err
			}
		}
		if err := rg.table.MarkPrepared(id); err != nil {
			return err
		}
		rg.meta[id], rg.prepared[id], rg.marked[id] = rec.Txn, now, true
	}
	return nil
}

func recordKeys(rec *rpcpb.PreparedRecord) [][]byte {
	out := make([][]byte, 0, len(rec.Writes)+len(rec.Deletes))
	for _, w := range rec.Writes {
		out = append(out, w.Key)
	}
	return append(out, rec.Deletes...)
}

func (r *Replica) preparedRecords() ([]*rpcpb.PreparedRecord, error) {
	p := keys.PreparedPrefix(r.rangeID)
	var out []*rpcpb.PreparedRecord
	var derr error
	err := r.cfg.Engine.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
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

func priority(m *rpcpb.TxnMeta) locktable.Priority {
	return locktable.Priority{StartNanos: m.PriorityStart, Tiebreak: m.PriorityTiebreak}
}

// Txn serves a transactional request at the leaseholder.
func (r *Replica) Txn(ctx context.Context, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	if req.Txn == nil || req.Txn.Id == 0 {
		return nil, kverr.BadRequestf("transaction request without a transaction")
	}
	switch req.Kind {
	case rpcpb.TxnRequest_RESOLVE, rpcpb.TxnRequest_QUERY, rpcpb.TxnRequest_FORGET:
		if err := r.checkRoutedKey(req.Key); err != nil {
			return nil, err
		}
	}
	switch req.Kind {
	case rpcpb.TxnRequest_RESOLVE:
		return r.resolve(ctx, req)
	case rpcpb.TxnRequest_QUERY:
		return r.query(ctx, req)
	case rpcpb.TxnRequest_FORGET:
		return r.forget(ctx, req)
	case rpcpb.TxnRequest_ABORT:
		return r.abort(req)
	}
	term, gen, desc, err := r.lease()
	if err != nil {
		return nil, err
	}
	if (req.Term != 0 && req.Term != term) || (req.Generation != 0 && req.Generation != gen) {
		return nil, &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: lease moved from term %d to %d (generation %d to %d)", r.rangeID, req.Term, term, req.Generation, gen)}
	}
	resp := &rpcpb.TxnResponse{Term: term, Generation: gen}
	switch req.Kind {
	case rpcpb.TxnRequest_OPS:
		resp.Results, err = r.txnOps(ctx, term, gen, desc, req)
	case rpcpb.TxnRequest_CONFIRM:
		err = r.confirm(ctx, term, gen, req)
	case rpcpb.TxnRequest_ROLLBACK_TO:
		resp.Results, err = r.rollbackTo(term, gen, req)
	case rpcpb.TxnRequest_COMMIT_ONE_PHASE, rpcpb.TxnRequest_PREPARE, rpcpb.TxnRequest_COMMIT:
		err = r.commitKind(ctx, term, gen, desc, req)
	default:
		err = kverr.BadRequestf("unknown transaction request kind %v", req.Kind)
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// checkRoutedKey refuses a request routed by key unless this range holds
// key: RESOLVE, QUERY and FORGET name no other key, and a sender whose range
// cache is behind a split must be sent on, not answered by a range that
// never held the transaction (it would find no record, and QUERY would
// write an ABORTED tombstone for a committed transaction).
func (r *Replica) checkRoutedKey(key []byte) error {
	if len(key) == 0 {
		return kverr.BadRequestf("range %d: a transaction request routed by key names no key", r.rangeID)
	}
	desc := r.Desc()
	if desc == nil {
		return &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	if !ContainsKey(desc, key) {
		return &kverr.RangeKeyMismatchError{RangeID: desc.RangeId, Key: key, Descriptors: []*rpcpb.RangeDescriptor{desc}}
	}
	return nil
}

func (r *Replica) txnOps(ctx context.Context, term, gen uint64, desc *rpcpb.RangeDescriptor, req *rpcpb.TxnRequest) ([]*rpcpb.OpResult, error) {
	if err := checkOpKeys(desc, req.Ops); err != nil {
		return nil, err
	}
	timeout := DefaultLockTimeout
	if req.LockTimeoutMs > 0 {
		timeout = time.Duration(req.LockTimeoutMs) * time.Millisecond
	}
	out := make([]*rpcpb.OpResult, len(req.Ops))
	for i, op := range req.Ops {
		r.load.record(op.Key)
		res, err := r.txnOp(ctx, term, gen, req.Txn, op, timeout)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

func (r *Replica) txnOp(ctx context.Context, term, gen uint64, meta *rpcpb.TxnMeta, op *rpcpb.Op, timeout time.Duration) (*rpcpb.OpResult, error) {
	span, mode := locktable.PointSpan(op.Key), locktable.Exclusive
	// Compiled before any lock is taken: a filter this node cannot run is
	// refused without side effects.
	pred, err := scanPredicate(r.cfg.Filters, op.Filter)
	if err != nil {
		return nil, fmt.Errorf("range %d: %w", r.rangeID, err)
	}
	if pred != nil && op.Kind != rpcpb.Op_SCAN {
		return nil, kverr.BadRequestf("range %d: a filter on op %v", r.rangeID, op.Kind)
	}
	switch op.Kind {
	case rpcpb.Op_GET, rpcpb.Op_SCAN:
		mode = locktable.Shared
		if op.Lock == rpcpb.LockMode_LOCK_EXCLUSIVE {
			mode = locktable.Exclusive
		}
		if op.Kind == rpcpb.Op_SCAN {
			span = locktable.Span{Key: op.Key, EndKey: op.EndKey}
		}
	case rpcpb.Op_PUT, rpcpb.Op_DELETE, rpcpb.Op_INSERT:
	default:
		return nil, kverr.BadRequestf("op %v is not supported in a transaction", op.Kind)
	}
	if err := r.acquire(ctx, term, gen, meta, span, mode, timeout); err != nil {
		return nil, err
	}
	res, err := r.evalTxnOp(term, gen, meta, op, pred)
	if err == nil && mode == locktable.Exclusive && op.Kind != rpcpb.Op_GET && op.Kind != rpcpb.Op_SCAN {
		err = r.maybeSpill(ctx, term, gen, meta)
	}
	return res, err
}

// acquire takes a lock, waiting for it up to timeout.
func (r *Replica) acquire(ctx context.Context, term, gen uint64, meta *rpcpb.TxnMeta, span locktable.Span, mode locktable.Mode, timeout time.Duration) error {
	id := locktable.TxnID(meta.Id)
	r.txn.mu.Lock()
	rg, err := r.regimeLocked(term, gen)
	if err != nil {
		r.txn.mu.Unlock()
		return err
	}
	if why, ok := rg.aborted[id]; ok {
		r.txn.mu.Unlock()
		return &kverr.TxnRetryError{Reason: why}
	}
	rg.meta[id], rg.touched[id] = meta, time.Now()
	res, err := rg.table.Acquire(locktable.Request{Txn: id, Priority: priority(meta), Span: span, Mode: mode})
	if err != nil {
		r.txn.mu.Unlock()
		return lockError(err)
	}
	if res.Granted {
		r.txn.mu.Unlock()
		return nil
	}
	ch := make(chan error, 1)
	rg.waiters[id] = ch
	// A wounded holder that is itself queued here, behind someone, cannot
	// finish within any grace period: abort it now rather than after
	// WoundDelay (this may grant our own request, hence after registering).
	for _, y := range res.Wound {
		if _, waiting := rg.waiters[y]; waiting && y != id && !rg.marked[y] {
			r.abortLocked(rg, y, fmt.Sprintf("range %d: wounded by an older transaction while it waited for a lock", r.rangeID))
		}
	}
	r.txn.mu.Unlock()
	defer r.observeLockWait(time.Now())
	t := time.NewTimer(timeout)
	defer t.Stop()
	// Wound-wait with a grace period: the younger holders are wounded in
	// the lock table now (any further lock they ask for fails, which is what
	// breaks a deadlock at once), but aborted only if they still hold the
	// lock after WoundDelay. A short transaction that needs nothing more —
	// an autocommit INSERT racing for a username — commits meanwhile, so the
	// first to lock wins and the other sees its row (23505), as in
	// PostgreSQL, instead of being aborted (40001).
	var wound <-chan time.Time
	if len(res.Wound) > 0 {
		wt := time.NewTimer(WoundDelay)
		defer wt.Stop()
		wound = wt.C
	}
	for {
		select {
		case err := <-ch:
			return err
		case <-wound:
			wound = nil
			r.woundHolders(rg, id, ch, res.Wound)
		case <-t.C:
			return r.cancelWait(rg, id, ch, &kverr.LockTimeoutError{Key: span.Key})
		case <-ctx.Done():
			return r.cancelWait(rg, id, ch, ctx.Err())
		}
	}
}

// WoundDelay is how long an older waiter lets a younger holder finish
// before aborting it.
const WoundDelay = 100 * time.Millisecond

// woundHolders aborts the younger holders an older waiter is still queued
// behind, unless they have prepared (they will finish without new locks).
func (r *Replica) woundHolders(rg *txnRegime, waiter locktable.TxnID, ch chan error, holders []locktable.TxnID) {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if r.txn.regime != rg || rg.waiters[waiter] != ch {
		return // granted or gone meanwhile
	}
	for _, y := range holders {
		if _, live := rg.meta[y]; !live || rg.marked[y] {
			continue
		}
		r.abortLocked(rg, y, fmt.Sprintf("range %d: wounded by an older transaction", r.rangeID))
	}
}

func lockError(err error) error {
	var w *locktable.WoundedError
	if errors.As(err, &w) {
		return &kverr.TxnRetryError{Reason: err.Error()}
	}
	var ml *locktable.MemoryLimitError
	if errors.As(err, &ml) {
		return &kverr.ResourceLimitError{Msg: fmt.Sprintf(
			"transaction holds %s of locks and pending writes at one range and needs %s more, over kv.transaction.max_range_bytes (%s): raise it (SET CLUSTER SETTING kv.transaction.max_range_bytes = '%s') or split the transaction",
			humanBytes(ml.Used), humanBytes(ml.Need), humanBytes(ml.Limit), humanBytes(4*ml.Limit))}
	}
	return err
}

// cancelWait withdraws a queued request unless it was granted meanwhile.
func (r *Replica) cancelWait(rg *txnRegime, id locktable.TxnID, ch chan error, why error) error {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	select {
	case err := <-ch:
		return err // granted (or failed) just now
	default:
	}
	if rg.waiters[id] == ch {
		delete(rg.waiters, id)
		r.wakeLocked(rg, rg.table.Cancel(id))
	}
	return why
}

// abortLocked aborts txn in this regime: its locks and pending writes go,
// its waiter fails, and later requests from it fail.
func (r *Replica) abortLocked(rg *txnRegime, id locktable.TxnID, why string) {
	if len(rg.aborted) > 100_000 {
		rg.aborted = map[locktable.TxnID]string{}
	}
	rg.aborted[id] = why
	if ch, ok := rg.waiters[id]; ok {
		delete(rg.waiters, id)
		ch <- &kverr.TxnRetryError{Reason: why}
	}
	delete(rg.meta, id)
	delete(rg.touched, id)
	delete(rg.marked, id)
	if rg.table.Spilled(id) && !rg.spilling[id] {
		r.cleanProvisionalAsync(&rpcpb.TxnMeta{Id: uint64(id)}) // a spill in flight cleans when it ends
	}
	r.wakeLocked(rg, rg.table.Abort(id))
}

func (r *Replica) wakeLocked(rg *txnRegime, grants []locktable.Grant) {
	for _, g := range grants {
		if ch, ok := rg.waiters[g.Txn]; ok {
			delete(rg.waiters, g.Txn)
			ch <- nil
		}
	}
}

// evalTxnOp reads or buffers one op under the lock just granted.
// pred is op's compiled scan filter (nil: none).
func (r *Replica) evalTxnOp(term, gen uint64, meta *rpcpb.TxnMeta, op *rpcpb.Op, pred Predicate) (*rpcpb.OpResult, error) {
	id := locktable.TxnID(meta.Id)
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	rg, err := r.regimeLocked(term, gen)
	if err != nil {
		return nil, err
	}
	if why, ok := rg.aborted[id]; ok {
		return nil, &kverr.TxnRetryError{Reason: why}
	}
	switch op.Kind {
	case rpcpb.Op_GET:
		v, found, err := r.readOwn(rg, id, op.Key)
		return &rpcpb.OpResult{Found: found, Value: v}, err
	case rpcpb.Op_SCAN:
		return r.scanOwn(rg, id, op, pred)
	case rpcpb.Op_PUT:
		return &rpcpb.OpResult{}, lockError(rg.table.PutPending(id, op.Key, op.Value, op.Seq))
	case rpcpb.Op_DELETE:
		_, found, err := r.readOwn(rg, id, op.Key)
		if err != nil {
			return nil, err
		}
		return &rpcpb.OpResult{Found: found}, lockError(rg.table.DeletePending(id, op.Key, op.Seq))
	case rpcpb.Op_INSERT:
		v, found, err := r.readOwn(rg, id, op.Key)
		if err != nil || found {
			return &rpcpb.OpResult{Found: found, Value: v}, err
		}
		return &rpcpb.OpResult{}, lockError(rg.table.PutPending(id, op.Key, op.Value, op.Seq))
	}
	return nil, kverr.BadRequestf("op %v is not supported in a transaction", op.Kind)
}

// readOwn reads key as txn sees it: its own pending write, else the store.
func (r *Replica) readOwn(rg *txnRegime, id locktable.TxnID, key []byte) ([]byte, bool, error) {
	if ws := rg.table.PendingWrites(id, locktable.PointSpan(key)); len(ws) == 1 {
		if ws[0].Deleted {
			return nil, false, nil
		}
		return bytes.Clone(ws[0].Value), true, nil
	}
	if rg.table.Spilled(id) {
		w, found, err := r.provisionalGet(uint64(id), key)
		if err != nil || found {
			return w.Value, found && !w.Deleted, err
		}
	}
	return r.cfg.Engine.Get(key)
}

// scanOwn scans op's span as the transaction sees it: its pending (and
// provisional) writes merged over the stored rows. With pred, the rows of
// that merged view are filtered, so a row the transaction changed is judged
// by its new value, and the limit counts matching rows.
func (r *Replica) scanOwn(rg *txnRegime, id locktable.TxnID, op *rpcpb.Op, pred Predicate) (*rpcpb.OpResult, error) {
	span := locktable.Span{Key: op.Key, EndKey: op.EndKey}
	pending := rg.table.PendingWrites(id, span)
	if rg.table.Spilled(id) {
		prov, err := r.provisionalScan(uint64(id), span)
		if err != nil {
			return nil, err
		}
		pending = overlay(prov, pending)
	}
	limit := int(op.Limit)
	if limit <= 0 || limit > maxScanRows {
		limit = maxScanRows
	}
	stored, scanned, err := r.scanStored(op, pending, pred, limit)
	if err != nil {
		return nil, err
	}
	mergeLimit := limit + 1
	if pred != nil {
		mergeLimit = 0 // pending rows are filtered after the merge
	}
	kvs, err := locktable.MergeScan(&locktable.SliceIterator{KVs: stored}, pending, locktable.ScanOptions{Limit: mergeLimit, Reverse: op.Reverse})
	if err != nil {
		return nil, err
	}
	res := &rpcpb.OpResult{Scanned: int64(scanned)}
	for _, kv := range kvs {
		if len(res.Rows) == limit {
			res.More = true
			break
		}
		if pred != nil && isPending(pending, kv.Key) {
			// Stored rows were judged as they were read.
			res.Scanned++
			if ok, err := matches(pred, kv.Key, kv.Value); err != nil || !ok {
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		res.Rows = append(res.Rows, &rpcpb.KeyValue{Key: kv.Key, Value: kv.Value})
	}
	if pred == nil {
		res.Scanned = int64(len(res.Rows))
	}
	return res, nil
}

// scanStored reads the stored rows of op's span that a merge with pending
// needs to yield limit+1 rows: with pred, the rows it matches and those a
// pending write replaces (judged after the merge). Each pending write hides
// at most one stored row, hence the bound. scanned counts the stored rows
// read that no pending write replaces.
func (r *Replica) scanStored(op *rpcpb.Op, pending []locktable.Write, pred Predicate, limit int) (stored []locktable.KV, scanned int, err error) {
	var ferr error
	err = r.cfg.Engine.Scan(op.Key, op.EndKey, op.Reverse, func(k, v []byte) bool {
		if pred != nil && !isPending(pending, k) {
			scanned++
			ok, err := matches(pred, k, v)
			if err != nil || !ok {
				ferr = err
				return err == nil
			}
		}
		stored = append(stored, locktable.KV{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		return len(stored) < limit+len(pending)+1
	})
	if err == nil {
		err = ferr
	}
	return stored, scanned, err
}

// isPending reports whether key has a write in pending (sorted by key).
func isPending(pending []locktable.Write, key []byte) bool {
	_, found := slices.BinarySearchFunc(pending, key, func(w locktable.Write, k []byte) int { return bytes.Compare(w.Key, k) })
	return found
}

// prepareLocked marks txn prepared (it can no longer be wounded) and
// returns its pending writes. wrote says the coordinator expects writes.
func (r *Replica) prepareLocked(rg *txnRegime, id locktable.TxnID, desc *rpcpb.RangeDescriptor, wrote bool) ([]locktable.Write, error) {
	if why, ok := rg.aborted[id]; ok {
		return nil, &kverr.TxnRetryError{Reason: why}
	}
	if rg.meta[id] == nil {
		// Never seen in this regime, or its locks were dropped: what it
		// read here may have changed since.
		return nil, &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: the transaction holds no locks here", r.rangeID)}
	}
	writes := rg.table.PendingWrites(id, locktable.Span{Key: desc.StartKey, EndKey: desc.EndKey})
	if wrote && len(writes) == 0 && !rg.table.Spilled(id) {
		// Checked before marking: a marked transaction is never aborted
		// here, so its locks would outlive this refusal.
		why := fmt.Sprintf("range %d: the transaction's writes here were lost", r.rangeID)
		r.abortLocked(rg, id, why)
		return nil, &kverr.TxnRetryError{Reason: why}
	}
	if err := rg.table.MarkPrepared(id); err != nil {
		return nil, &kverr.TxnRetryError{Reason: err.Error()}
	}
	rg.marked[id] = true
	return writes, nil
}

// confirm serves a range the transaction only read: with its locks held
// (and wounds barred), a ReadIndex round proves the lease is still current,
// so every read was current; then the locks go.
func (r *Replica) confirm(ctx context.Context, term, gen uint64, req *rpcpb.TxnRequest) error {
	id := locktable.TxnID(req.Txn.Id)
	r.txn.mu.Lock()
	rg, err := r.regimeLocked(term, gen)
	if err == nil {
		_, err = r.prepareLocked(rg, id, &rpcpb.RangeDescriptor{}, false)
	}
	r.txn.mu.Unlock()
	if err != nil {
		return err
	}
	defer r.release(rg, id)
	return r.confirmLease(ctx, term, gen)
}

// confirmLease waits for a ReadIndex round and checks the lease is unchanged.
func (r *Replica) confirmLease(ctx context.Context, term, gen uint64) error {
	if _, err := r.read(ctx, nil); err != nil {
		return err
	}
	t, g, _, err := r.lease()
	if err != nil {
		return err
	}
	if t != term || g != gen {
		return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: lease moved during confirmation", r.rangeID)}
	}
	return nil
}

// release drops every lock of txn in rg, if rg is still current.
func (r *Replica) release(rg *txnRegime, id locktable.TxnID) {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if r.txn.regime != rg {
		return
	}
	delete(rg.meta, id)
	delete(rg.touched, id)
	delete(rg.prepared, id)
	delete(rg.marked, id)
	r.wakeLocked(rg, rg.table.Release(id))
}

// commitKind serves COMMIT_ONE_PHASE, PREPARE and COMMIT: the pending
// writes go through Raft in one command stamped with the lock term.
func (r *Replica) commitKind(ctx context.Context, term, gen uint64, desc *rpcpb.RangeDescriptor, req *rpcpb.TxnRequest) error {
	id := locktable.TxnID(req.Txn.Id)
	r.txn.mu.Lock()
	rg, err := r.regimeLocked(term, gen)
	var writes []locktable.Write
	spilled := false
	if err == nil && rg.spilling[id] {
		err = &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: commit while the transaction's writes were spilling", r.rangeID)}
	}
	if err == nil {
		spilled = rg.table.Spilled(id)
		writes, err = r.prepareLocked(rg, id, desc, req.Wrote || req.Kind != rpcpb.TxnRequest_COMMIT_ONE_PHASE)
	}
	if err == nil {
		rg.meta[id] = req.Txn // it names the anchor, which recovery asks
	}
	r.txn.mu.Unlock()
	if err != nil {
		return err
	}
	if len(writes) == 0 && !spilled {
		// A read-only transaction on one range.
		defer r.release(rg, id)
		return r.confirmLease(ctx, term, gen)
	}
	cmd := &rpcpb.TxnCommand{Txn: req.Txn, LockTerm: term, LockGeneration: gen, Participants: req.Participants, Spilled: spilled}
	for _, w := range writes {
		if w.Deleted {
			cmd.Deletes = append(cmd.Deletes, w.Key)
		} else {
			cmd.Writes = append(cmd.Writes, &rpcpb.KeyValue{Key: w.Key, Value: w.Value})
		}
	}
	switch req.Kind {
	case rpcpb.TxnRequest_COMMIT_ONE_PHASE:
		cmd.Kind = rpcpb.TxnCommand_COMMIT_ONE_PHASE
	case rpcpb.TxnRequest_PREPARE:
		cmd.Kind = rpcpb.TxnCommand_PREPARE
	default:
		cmd.Kind = rpcpb.TxnCommand_COMMIT
	}
	// The proposal runs to its end even if the caller gives up: the locks
	// are released (or kept, for a prepare) only once its outcome is known.
	// Leadership loss fails it, and ends the regime and its locks too.
	done := make(chan error, 1)
	go func() {
		_, err := r.propose(context.WithoutCancel(ctx), &rpcpb.RaftCommand{Txn: cmd})
		r.afterCommitKind(rg, id, req.Kind, err)
		var refused *kverr.TxnRetryError
		if spilled && errors.As(err, &refused) {
			// Refused at apply in this regime (a later regime cleans up
			// by itself): its provisional writes go too.
			r.cleanProvisionalAsync(req.Txn)
		}
		done <- err
	}()
	if mutAckBeforeCommit {
		return nil // mutation only (mutation_ack_before_commit_on.go): answered before the entry commits
	}
	select {
	case err := <-done:
		if err == nil && req.Kind == rpcpb.TxnRequest_PREPARE {
			failpoint.Hit(failpoint.ParticipantAfterPrepareBeforeAck)
		}
		return err
	case <-ctx.Done():
		return &kverr.AmbiguousError{Reason: fmt.Sprintf("range %d: %v while the commit was in flight", r.rangeID, ctx.Err())}
	}
}

// afterCommitKind settles the locks once a commit-path proposal finished:
// a prepared transaction keeps its exclusive locks until resolved.
func (r *Replica) afterCommitKind(rg *txnRegime, id locktable.TxnID, kind rpcpb.TxnRequest_Kind, err error) {
	if kind != rpcpb.TxnRequest_PREPARE || err != nil {
		r.release(rg, id)
		return
	}
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if r.txn.regime == rg {
		rg.prepared[id] = time.Now()
		r.wakeLocked(rg, rg.table.ReleaseShared(id))
	}
}

// abort drops an unprepared transaction's locks and pending writes here.
func (r *Replica) abort(req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	id := locktable.TxnID(req.Txn.Id)
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if rg := r.txn.regime; rg != nil && !rg.marked[id] {
		r.abortLocked(rg, id, "rolled back")
	}
	return &rpcpb.TxnResponse{}, nil
}

// resolve applies or discards a prepared record through Raft and releases
// the transaction's locks.
func (r *Replica) resolve(ctx context.Context, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	if _, _, _, err := r.lease(); err != nil {
		return nil, err
	}
	cmd := &rpcpb.TxnCommand{Kind: rpcpb.TxnCommand_RESOLVE, Txn: req.Txn, Commit: req.Commit, Key: req.Key}
	res, err := r.propose(ctx, &rpcpb.RaftCommand{Txn: cmd})
	if err != nil {
		return nil, err
	}
	id := locktable.TxnID(req.Txn.Id)
	r.txn.mu.Lock()
	if rg := r.txn.regime; rg != nil {
		delete(rg.prepared, id)
		delete(rg.meta, id)
		delete(rg.touched, id)
		delete(rg.marked, id)
		r.wakeLocked(rg, rg.table.Release(id))
	}
	r.txn.mu.Unlock()
	// The result carries the range's end key at apply, where the
	// resolution of a span goes on.
	return &rpcpb.TxnResponse{Results: res}, nil
}

// query tells the fate of a transaction anchored here. With no record, a
// transaction the anchor does not hold as live is aborted for good: an
// ABORTED record goes through Raft and a late commit is refused at apply.
func (r *Replica) query(ctx context.Context, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	term, gen, _, err := r.lease()
	if err != nil {
		return nil, err
	}
	if err := r.confirmLease(ctx, term, gen); err != nil {
		return nil, err
	}
	rec, err := r.txnRecord(req.Txn.Id)
	if err != nil {
		return nil, err
	}
	id := locktable.TxnID(req.Txn.Id)
	r.txn.mu.Lock()
	live := false
	if rg := r.txn.regime; rg != nil && rg.term == term && rg.gen == gen {
		_, known := rg.meta[id]
		_, aborted := rg.aborted[id]
		live = known && !aborted
	}
	r.txn.mu.Unlock()
	r.cfg.Logger.Debug("txn query", "range", r.rangeID, "txn", req.Txn.Id, "record", statusOf(rec).String(), "live", live)
	if ans := record.Query(statusOf(rec), live); !ans.WriteAbort {
		if rec != nil {
			return &rpcpb.TxnResponse{Status: rec.Status}, nil
		}
		return &rpcpb.TxnResponse{Status: rpcpb.TxnRecord_PENDING}, nil
	}
	res, err := r.proposeResult(ctx, &rpcpb.RaftCommand{Txn: &rpcpb.TxnCommand{Kind: rpcpb.TxnCommand_ABORT_RECORD, Txn: req.Txn}})
	if err != nil {
		return nil, err
	}
	st := rpcpb.TxnRecord_ABORTED
	if len(res.results) == 1 && res.results[0].Found && res.results[0].IntValue == int64(rpcpb.TxnRecord_COMMITTED) {
		st = rpcpb.TxnRecord_COMMITTED
	}
	return &rpcpb.TxnResponse{Status: st}, nil
}

func (r *Replica) forget(ctx context.Context, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	cmd := &rpcpb.TxnCommand{Kind: rpcpb.TxnCommand_FORGET, Txn: req.Txn}
	if _, err := r.propose(ctx, &rpcpb.RaftCommand{Txn: cmd}); err != nil {
		return nil, err
	}
	return &rpcpb.TxnResponse{}, nil
}

func (r *Replica) txnRecord(id uint64) (*rpcpb.TxnRecord, error) {
	v, found, err := r.cfg.Engine.Get(keys.TxnRecordKey(r.rangeID, id))
	if err != nil || !found {
		return nil, err
	}
	rec := &rpcpb.TxnRecord{}
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("range %d: corrupt transaction record: %w", r.rangeID, err)
	}
	return rec, nil
}

// TxnWork lists, at the leaseholder, prepared transactions waiting longer
// than after for resolution and unprepared ones idle longer than after.
//
// At a leaseholder it starts the lease's regime if no request has yet, so
// prepared records left by a crash are recovered on a range no one uses.
func (r *Replica) TxnWork(now time.Time, after time.Duration) (prepared, idle []*rpcpb.TxnMeta) {
	term, gen, _, err := r.lease()
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	rg := r.txn.regime
	if err == nil {
		if rg, err = r.regimeLocked(term, gen); err != nil {
			r.cfg.Logger.Warn("cannot start the lock regime", "range", r.rangeID, "err", err)
			return nil, nil
		}
	}
	if rg == nil {
		return nil, nil
	}
	for id, since := range rg.prepared {
		if now.Sub(since) > after && rg.meta[id] != nil {
			prepared = append(prepared, rg.meta[id])
		}
	}
	for id, at := range rg.touched {
		if rg.marked[id] || now.Sub(at) <= after || rg.meta[id] == nil {
			continue // committing or prepared (never aborted here), or busy
		}
		idle = append(idle, rg.meta[id])
	}
	return prepared, idle
}

// AbortIdle aborts an unprepared transaction whose coordinator is gone. A
// transaction whose commit is in flight here (marked prepared in the lock
// table) is never aborted: its locks must stay until its writes apply, or a
// later transaction could read the old values and overwrite the new ones.
func (r *Replica) AbortIdle(id uint64, why string) {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if rg := r.txn.regime; rg != nil && !rg.marked[locktable.TxnID(id)] {
		r.abortLocked(rg, locktable.TxnID(id), why)
	}
}

// LockWaits describes the lock table for status endpoints.
func (r *Replica) LockWaits() string {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if r.txn.regime == nil {
		return ""
	}
	return r.txn.regime.table.Dump()
}

// LocksHeld counts the locks held in the current regime (0 without one).
func (r *Replica) LocksHeld() int {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	if r.txn.regime == nil {
		return 0
	}
	return len(r.txn.regime.table.Snapshot().Locks)
}

// PreparedCount counts the prepared records the range holds.
func (r *Replica) PreparedCount() int {
	recs, _ := r.preparedRecords()
	return len(recs)
}

// StaleCommitted returns COMMITTED records first seen by this leaseholder
// more than after ago: their coordinator did not finish resolving them.
func (r *Replica) StaleCommitted(now time.Time, after time.Duration) []*rpcpb.TxnRecord {
	p := keys.TxnRecordPrefix(r.rangeID)
	var recs []*rpcpb.TxnRecord
	_ = r.cfg.Engine.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
		rec := &rpcpb.TxnRecord{}
		if proto.Unmarshal(v, rec) == nil && rec.Status == rpcpb.TxnRecord_COMMITTED {
			recs = append(recs, rec)
		}
		return true
	})
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	rg := r.txn.regime
	if rg == nil {
		return nil
	}
	if rg.records == nil {
		rg.records = map[uint64]time.Time{}
	}
	var out []*rpcpb.TxnRecord
	seen := map[uint64]bool{}
	for _, rec := range recs {
		seen[rec.TxnId] = true
		first, ok := rg.records[rec.TxnId]
		if !ok {
			rg.records[rec.TxnId] = now
			continue
		}
		if now.Sub(first) > after {
			out = append(out, rec)
		}
	}
	for id := range rg.records {
		if !seen[id] {
			delete(rg.records, id)
		}
	}
	return out
}

// TxnRecordCount counts the transaction records (COMMITTED ones not yet
// forgotten, ABORTED tombstones) the range holds.
func (r *Replica) TxnRecordCount() int {
	p := keys.TxnRecordPrefix(r.rangeID)
	n := 0
	_ = r.cfg.Engine.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool { n++; return true })
	return n
}

// StaleTombstones returns ABORTED records written in a term before the
// current lease's: garbage, since any COMMIT of their transactions is
// refused at apply in this term (see TxnRecord.abort_term).
func (r *Replica) StaleTombstones() []*rpcpb.TxnRecord {
	term, _, _, err := r.lease()
	if err != nil {
		return nil
	}
	p := keys.TxnRecordPrefix(r.rangeID)
	var out []*rpcpb.TxnRecord
	_ = r.cfg.Engine.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
		rec := &rpcpb.TxnRecord{}
		if proto.Unmarshal(v, rec) == nil && rec.Status == rpcpb.TxnRecord_ABORTED && rec.AbortTerm < term {
			out = append(out, rec)
		}
		return len(out) < 1000
	})
	return out
}

// TxnStatus fills info with the lock table's state: locks held, who waits
// for whom on which key and for how long, and prepared transactions.
func (r *Replica) TxnStatus(info *rpcpb.RangeInfo, now time.Time) {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	rg := r.txn.regime
	if rg == nil {
		return
	}
	st := rg.table.Snapshot()
	info.LocksHeld = int64(len(st.Locks))
	for _, l := range st.Locks {
		info.Locks = append(info.Locks, &rpcpb.LockHeld{TxnId: uint64(l.Txn), Key: l.Span.Key, EndKey: l.Span.EndKey, Mode: l.Mode.String()})
	}
	for _, w := range st.Waits {
		lw := &rpcpb.LockWait{TxnId: uint64(w.Txn), Key: w.Span.Key, EndKey: w.Span.EndKey, Mode: w.Mode.String()}
		for _, o := range w.WaitingOn {
			lw.WaitingOn = append(lw.WaitingOn, uint64(o))
		}
		if at, ok := rg.touched[w.Txn]; ok {
			lw.WaitingMs = now.Sub(at).Milliseconds()
		}
		info.LockWaits = append(info.LockWaits, lw)
	}
	for id, since := range rg.prepared {
		pt := &rpcpb.PreparedTxn{TxnId: uint64(id), PreparedMs: now.Sub(since).Milliseconds()}
		if m := rg.meta[id]; m != nil {
			pt.AnchorKey = m.AnchorKey
		}
		pt.Writes = int32(len(rg.table.PendingWrites(id, locktable.Span{Key: []byte{0}, EndKey: []byte{0xff, 0xff, 0xff}})))
		info.Prepared = append(info.Prepared, pt)
	}
}

// TxnCommitting reports whether txn is marked prepared here: its commit or
// prepare is in flight or done, so it can be neither wounded nor aborted.
func (r *Replica) TxnCommitting(id uint64) bool {
	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	return r.txn.regime != nil && r.txn.regime.marked[locktable.TxnID(id)]
}

// humanBytes renders n as a cluster setting's byte size ("64MiB").
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", (n+(1<<20)-1)>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", (n+(1<<10)-1)>>10)
	}
	return fmt.Sprintf("%dB", n)
}
