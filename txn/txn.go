package txn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

// Lock is the lock a read takes.
type Lock = rpcpb.LockMode

// Lock modes.
const (
	LockShared    = rpcpb.LockMode_LOCK_SHARED
	LockExclusive = rpcpb.LockMode_LOCK_EXCLUSIVE
)

// ErrKeyExists is returned by Insert when the key is present.
var ErrKeyExists = errors.New("txn: key already exists")

// ErrDone is returned by operations on a finished transaction.
var ErrDone = errors.New("txn: transaction already committed or rolled back")

// participant is a range the transaction touched.
type participant struct {
	rangeID   uint64
	key       []byte // a key in the range, for routing
	term, gen uint64
	wrote     bool
	prepared  bool
	// first and last are the smallest and largest keys written here.
	first, last []byte
	// uncertain: a request was sent but no answer came; the range may hold
	// locks of this transaction under a regime we do not know.
	uncertain bool
	// maxSeq is the highest write sequence number sent here (savepoint.go).
	maxSeq uint64
}

// Txn is one attempt of a transaction. It is not safe for concurrent use.
type Txn struct {
	c      *Coordinator
	prio   Priority
	meta   *rpcpb.TxnMeta
	parts  map[uint64]*participant
	order  []uint64 // range ids in first-touch order
	anchor uint64   // range id of the first write
	done   bool
	// err is the last error a request of this transaction failed with: it
	// tells why a rollback that follows happens (abort metrics).
	err error
	// lockTimeout bounds each lock wait of this transaction (0: the
	// coordinator's default).
	lockTimeout time.Duration
	// seq is the sequence number of the writes sent now, issued the
	// highest issued so far (see savepoint.go).
	seq, issued uint64
}

// SetLockTimeout sets this transaction's lock wait timeout (SQL's
// lock_timeout); 0 restores the coordinator's default.
func (t *Txn) SetLockTimeout(d time.Duration) { t.lockTimeout = max(d, 0) }

func (t *Txn) lockTimeoutMs() int64 {
	if t.lockTimeout > 0 {
		return max(t.lockTimeout.Milliseconds(), 1)
	}
	if f := t.c.cfg.LockTimeoutFunc; f != nil {
		if d := f(); d > 0 {
			return max(d.Milliseconds(), 1)
		}
	}
	return t.c.cfg.LockTimeout.Milliseconds()
}

// ID returns the transaction's id.
func (t *Txn) ID() uint64 { return t.meta.Id }

// Priority returns the transaction's wound-wait priority.
func (t *Txn) Priority() Priority { return t.prio }

// Get reads key under lock (shared by default semantics of 2PL).
func (t *Txn) Get(ctx context.Context, key []byte, lock Lock) ([]byte, bool, error) {
	res, err := t.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_GET, Key: key, Lock: lockOrShared(lock)})
	if err != nil {
		return nil, false, err
	}
	return res.Value, res.Found, nil
}

func lockOrShared(l Lock) Lock {
	if l == rpcpb.LockMode_LOCK_NONE {
		return LockShared
	}
	return l
}

// Put writes key=value.
func (t *Txn) Put(ctx context.Context, key, value []byte) error {
	_, err := t.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: key, Value: value})
	return err
}

// Delete removes key.
func (t *Txn) Delete(ctx context.Context, key []byte) error {
	_, err := t.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_DELETE, Key: key})
	return err
}

// Insert writes key=value unless key exists, then ErrKeyExists. It takes
// the exclusive lock first, so of two concurrent inserts the second waits
// for the first to finish and then sees its outcome.
func (t *Txn) Insert(ctx context.Context, key, value []byte) error {
	res, err := t.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_INSERT, Key: key, Value: value})
	if err != nil {
		return err
	}
	if res.Found {
		return ErrKeyExists
	}
	return nil
}

// Scan reads up to limit (0: all) keys in [start, end) in order (reverse if
// asked), locking the whole span so no key can appear in it meanwhile.
func (t *Txn) Scan(ctx context.Context, start, end []byte, limit int, reverse bool, lock Lock) ([]*rpcpb.KeyValue, error) {
	rows, _, err := t.ScanFiltered(ctx, start, end, limit, reverse, lock, nil)
	return rows, err
}

// ScanFiltered is Scan with a row filter each range's leaseholder evaluates
// (rpcpb.Op.Filter; nil: none): only matching rows come back, and limit
// counts them. The whole span is locked all the same, rows filtered out
// included. scanned is the number of rows the leaseholders read.
func (t *Txn) ScanFiltered(ctx context.Context, start, end []byte, limit int, reverse bool, lock Lock, filter []byte) (rows []*rpcpb.KeyValue, scanned int, err error) {
	if reverse {
		// Ranges are visited forward; the span is locked whole either way.
		all, scanned, err := t.ScanFiltered(ctx, start, end, 0, false, lock, filter)
		if err != nil {
			return nil, 0, err
		}
		slices.Reverse(all)
		if limit > 0 && len(all) > limit {
			all = all[:limit]
		}
		return all, scanned, nil
	}
	var out []*rpcpb.KeyValue
	for bytes.Compare(start, end) < 0 {
		remaining := 0
		if limit > 0 {
			remaining = limit - len(out)
		}
		res, desc, err := t.send(ctx, start, true, func(d *rpcpb.RangeDescriptor) []*rpcpb.Op {
			return []*rpcpb.Op{{Kind: rpcpb.Op_SCAN, Key: start, EndKey: clampEnd(end, d), Limit: int64(remaining), Lock: lockOrShared(lock), Filter: filter}}
		})
		if err != nil {
			return nil, 0, err
		}
		if filter != nil && res[0].Scanned < int64(len(res[0].Rows)) {
			// A node that predates filters ignores the field (and reports
			// no rows read): its rows are unfiltered and its limit wrong.
			return nil, 0, kverr.BadRequestf("range %d: the leaseholder does not evaluate scan filters", desc.RangeId)
		}
		out = append(out, res[0].Rows...)
		scanned += int(res[0].Scanned)
		if limit > 0 && len(out) >= limit {
			return out[:limit], scanned, nil
		}
		if res[0].More {
			start = append(bytes.Clone(res[0].Rows[len(res[0].Rows)-1].Key), 0)
			continue
		}
		start = desc.EndKey
	}
	return out, scanned, nil
}

// deleteRangeBatch is how many keys DeleteRange reads and deletes at a time.
const deleteRangeBatch = 1000

// DeleteRange removes every key in [start, end): it scans the span under an
// exclusive lock (the first scan locks it whole) and deletes what it
// finds, deleteRangeBatch keys at a time (one Batch each), so neither
// memory nor the number of requests grows with a key per request.
func (t *Txn) DeleteRange(ctx context.Context, start, end []byte) (int, error) {
	n := 0
	for {
		rows, err := t.Scan(ctx, start, end, deleteRangeBatch, false, LockExclusive)
		if err != nil || len(rows) == 0 {
			return n, err
		}
		ops := make([]*rpcpb.Op, len(rows))
		for i, kv := range rows {
			ops[i] = &rpcpb.Op{Kind: rpcpb.Op_DELETE, Key: kv.Key}
		}
		if _, err := t.Batch(ctx, ops); err != nil {
			return n, err
		}
		n += len(rows)
		start = append(bytes.Clone(rows[len(rows)-1].Key), 0)
	}
}

func clampEnd(end []byte, d *rpcpb.RangeDescriptor) []byte {
	if bytes.Compare(end, d.EndKey) > 0 {
		return d.EndKey
	}
	return end
}

func (t *Txn) one(ctx context.Context, op *rpcpb.Op) (*rpcpb.OpResult, error) {
	op.Seq = t.seq
	res, _, err := t.send(ctx, op.Key, op.Kind == rpcpb.Op_GET || op.Kind == rpcpb.Op_SCAN, func(*rpcpb.RangeDescriptor) []*rpcpb.Op {
		return []*rpcpb.Op{op}
	})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// send routes an OPS request for the range holding key and records the
// range as a participant.
func (t *Txn) send(ctx context.Context, key []byte, read bool, build func(*rpcpb.RangeDescriptor) []*rpcpb.Op) ([]*rpcpb.OpResult, *rpcpb.RangeDescriptor, error) {
	if t.done {
		return nil, nil, ErrDone
	}
	var resp *rpcpb.TxnResponse
	var sent []*rpcpb.Op
	desc, err := t.c.cfg.Sender.Route(ctx, key, func(ctx context.Context, d *rpcpb.RangeDescriptor, node uint64) error {
		sent = build(d)
		req := &rpcpb.TxnRequest{RangeId: d.RangeId, Txn: t.meta, Kind: rpcpb.TxnRequest_OPS, Ops: sent, LockTimeoutMs: t.lockTimeoutMs()}
		if p := t.parts[d.RangeId]; p != nil {
			req.Term, req.Generation = p.term, p.gen
		} else {
			// Known before the answer, so a rollback after a cut-short
			// request still reaches this range and frees what it locked.
			t.parts[d.RangeId] = &participant{rangeID: d.RangeId, key: bytes.Clone(key), uncertain: true}
			t.order = append(t.order, d.RangeId)
		}
		if !read {
			// Before the answer: a rollback to a savepoint must reach every
			// range a write of a later statement may arrive at.
			t.parts[d.RangeId].maxSeq = max(t.parts[d.RangeId].maxSeq, t.seq)
		}
		var err error
		resp, err = t.c.cfg.Transport.SendTxn(ctx, node, req)
		if refusedBeforeLocking(err) {
			t.forgetUncertain(d.RangeId)
		}
		if kverr.IsAmbiguous(err) {
			// Nothing of an OPS request is replicated; an unknown outcome
			// just means the locks may be held: the transaction retries.
			return &kverr.TxnRetryError{Reason: err.Error()}
		}
		return err
	})
	if err == nil {
		err = t.track(desc, resp, key, !read && wroteAny(sent, resp.Results))
	}
	if err != nil {
		t.err = err
		return nil, nil, err
	}
	return resp.Results, desc, nil
}

// wroteAny reports whether ops left a pending write: an insert that found
// its key wrote nothing (it only locked the key).
func wroteAny(ops []*rpcpb.Op, results []*rpcpb.OpResult) bool {
	for i, op := range ops {
		switch op.Kind {
		case rpcpb.Op_PUT, rpcpb.Op_DELETE:
			return true
		case rpcpb.Op_INSERT:
			if i >= len(results) || !results[i].Found {
				return true
			}
		}
	}
	return false
}

func (t *Txn) track(desc *rpcpb.RangeDescriptor, resp *rpcpb.TxnResponse, key []byte, wrote bool) error {
	p := t.parts[desc.RangeId]
	if p == nil {
		p = &participant{rangeID: desc.RangeId, key: bytes.Clone(key)}
		t.parts[desc.RangeId] = p
		t.order = append(t.order, desc.RangeId)
	}
	if p.uncertain {
		p.term, p.gen, p.uncertain = resp.Term, resp.Generation, false
	}
	if p.term != resp.Term || p.gen != resp.Generation {
		return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: lease moved during the transaction", desc.RangeId)}
	}
	if wrote {
		p.wrote = true
		if p.first == nil || bytes.Compare(key, p.first) < 0 {
			p.first = bytes.Clone(key)
		}
		if p.last == nil || bytes.Compare(key, p.last) > 0 {
			p.last = bytes.Clone(key)
		}
		if t.anchor == 0 {
			// The anchor is the range of the first write, and the anchor
			// key (which recovery routes QUERY by) a key written there.
			// A new meta, not a change to the one requests already carry
			// (an in-process replica keeps the pointer).
			t.anchor = desc.RangeId
			m := proto.Clone(t.meta).(*rpcpb.TxnMeta)
			m.AnchorKey = bytes.Clone(key)
			t.meta = m
		}
	}
	return nil
}

// request sends a commit-path request to the range of p.
func (t *Txn) request(ctx context.Context, p *participant, kind rpcpb.TxnRequest_Kind, mod func(*rpcpb.TxnRequest)) (*rpcpb.TxnResponse, error) {
	var resp *rpcpb.TxnResponse
	_, err := t.c.cfg.Sender.Route(ctx, p.key, func(ctx context.Context, d *rpcpb.RangeDescriptor, node uint64) error {
		if d.RangeId != p.rangeID {
			return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d was split during the transaction", p.rangeID)}
		}
		req := &rpcpb.TxnRequest{RangeId: p.rangeID, Txn: t.meta, Kind: kind, Term: p.term, Generation: p.gen, Wrote: p.wrote}
		if mod != nil {
			mod(req)
		}
		var err error
		resp, err = t.c.cfg.Transport.SendTxn(ctx, node, req)
		return err
	})
	return resp, err
}

// Commit commits the transaction. An *kverr.AmbiguousError means the
// outcome is unknown.
func (t *Txn) Commit(ctx context.Context) error {
	if t.done {
		return ErrDone
	}
	err := t.commit(ctx)
	t.c.cfg.Metrics.commitDone(err)
	return err
}

func (t *Txn) commit(ctx context.Context) error {
	t.done = true
	defer t.c.finished(t.meta.Id)
	parts := t.participants()
	for _, p := range parts {
		if p.uncertain {
			err := &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: a request's outcome is unknown", p.rangeID)}
			return t.abortOnError(ctx, err)
		}
	}
	switch {
	case len(parts) == 0:
		return nil
	case len(parts) == 1:
		_, err := t.request(ctx, parts[0], rpcpb.TxnRequest_COMMIT_ONE_PHASE, nil)
		return err
	}
	anchor := t.parts[t.anchor]
	if anchor == nil {
		// Read-only over several ranges: confirm each and release.
		return t.abortOnError(ctx, t.fanOut(ctx, parts, nil))
	}
	others := slices.DeleteFunc(slices.Clone(parts), func(p *participant) bool { return p == anchor })
	if done, err := t.commitEarly(ctx, anchor, others); done {
		return err // mutation only (mutation_early_commit_on.go); never done in the normal build
	}
	if err := t.fanOut(ctx, others, anchor); err != nil {
		return t.abortOnError(ctx, err)
	}
	failpoint.Hit(failpoint.CoordAfterPrepareAll)
	if k := t.c.cfg.Knobs.CrashAfterPrepare; k != nil && k(t.meta.Id) {
		return errCrashed
	}
	var spans []*rpcpb.KeySpan
	for _, p := range others {
		if p.prepared {
			spans = append(spans, &rpcpb.KeySpan{Key: p.first, LastKey: p.last})
		}
	}
	_, err := t.request(ctx, anchor, rpcpb.TxnRequest_COMMIT, func(r *rpcpb.TxnRequest) { r.Participants = spans })
	if err != nil {
		if kverr.IsAmbiguous(err) {
			return err // recovery at the participants decides
		}
		return t.abortOnError(ctx, err)
	}
	failpoint.Hit(failpoint.CoordAfterCommitBeforeResolve)
	if k := t.c.cfg.Knobs.CrashAfterCommit; k != nil && k(t.meta.Id) {
		return nil
	}
	t.resolveAsync(anchor, others)
	return nil
}

// errCrashed is returned when a testing knob abandoned a transaction.
var errCrashed = &kverr.AmbiguousError{Reason: "coordinator crashed (testing knob)"}

func (t *Txn) participants() []*participant {
	out := make([]*participant, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, t.parts[id])
	}
	return out
}

// fanOut prepares the ranges that were written and confirms the ones only
// read, in parallel.
func (t *Txn) fanOut(ctx context.Context, parts []*participant, anchor *participant) error {
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := rpcpb.TxnRequest_CONFIRM
			if p.wrote {
				kind = rpcpb.TxnRequest_PREPARE
			}
			_, errs[i] = t.request(ctx, p, kind, nil)
			if errs[i] == nil && p.wrote {
				p.prepared = true
			} else if p.wrote && kverr.IsAmbiguous(errs[i]) {
				p.prepared = true // may be prepared: resolve it as aborted
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// abortOnError rolls back after a failed commit and returns err, as a
// retryable error if any part of it was.
func (t *Txn) abortOnError(ctx context.Context, err error) error {
	t.rollback(ctx)
	if IsRetryable(err) {
		var r *kverr.TxnRetryError
		errors.As(err, &r)
		return r
	}
	return err
}

// Rollback aborts the transaction, releasing its locks.
func (t *Txn) Rollback(ctx context.Context) {
	if t.done {
		return
	}
	t.done = true
	defer t.c.finished(t.meta.Id)
	t.c.cfg.Metrics.Aborts.WithLabelValues(AbortReason(t.err)).Inc()
	t.rollback(ctx)
}

func (t *Txn) rollback(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range t.participants() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p.prepared {
				_ = Resolve(ctx, t.c.cfg.Sender, t.c.cfg.Transport, t.meta, &rpcpb.KeySpan{Key: p.first, LastKey: p.last}, false)
				return
			}
			_, _ = t.request(ctx, p, rpcpb.TxnRequest_ABORT, nil)
		}()
	}
	wg.Wait()
}

// resolveAsync applies the commit at the prepared participants and then
// forgets the record at the anchor. If it cannot finish, the anchor's
// recovery does.
func (t *Txn) resolveAsync(anchor *participant, others []*participant) {
	c := t.c
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
		defer cancel()
		for _, p := range others {
			if !p.prepared {
				continue
			}
			span := &rpcpb.KeySpan{Key: p.first, LastKey: p.last}
			if err := Resolve(ctx, c.cfg.Sender, c.cfg.Transport, t.meta, span, true); err != nil {
				c.cfg.Logger.Debug("resolve failed; recovery will finish it", "txn", t.meta.Id, "range", p.rangeID, "err", err)
				return
			}
		}
		_ = Forget(ctx, c.cfg.Sender, c.cfg.Transport, t.meta)
	}()
}

// Resolve commits or aborts meta's prepared records in every range that
// span overlaps (a participant may have split since it prepared).
//
// Each RESOLVE names the key it was routed by, which the range must hold
// when the request arrives and again when it applies; the range answers
// with its end key at apply, where the walk goes on. So a stale range
// cache, or a split applied meanwhile, can neither resolve at a range that
// does not hold the record nor skip the range that does.
func Resolve(ctx context.Context, sender *kv.DistSender, tr Transport, meta *rpcpb.TxnMeta, span *rpcpb.KeySpan, commit bool) error {
	key := span.Key
	for {
		var end []byte
		_, err := sender.Route(ctx, key, func(ctx context.Context, d *rpcpb.RangeDescriptor, node uint64) error {
			resp, err := tr.SendTxn(ctx, node, &rpcpb.TxnRequest{RangeId: d.RangeId, Txn: meta, Kind: rpcpb.TxnRequest_RESOLVE, Commit: commit, Key: key})
			if err != nil {
				return err
			}
			if len(resp.Results) != 1 || len(resp.Results[0].Value) == 0 {
				return fmt.Errorf("txn: node %d answered RESOLVE without the range's end key", node)
			}
			end = resp.Results[0].Value
			return nil
		})
		if err != nil {
			return err
		}
		if bytes.Compare(end, span.LastKey) > 0 {
			return nil
		}
		key = end
	}
}

// Forget deletes meta's record at its anchor.
func Forget(ctx context.Context, sender *kv.DistSender, tr Transport, meta *rpcpb.TxnMeta) error {
	_, err := sender.Route(ctx, meta.AnchorKey, func(ctx context.Context, d *rpcpb.RangeDescriptor, node uint64) error {
		_, err := tr.SendTxn(ctx, node, &rpcpb.TxnRequest{RangeId: d.RangeId, Txn: meta, Kind: rpcpb.TxnRequest_FORGET, Key: meta.AnchorKey})
		return err
	})
	return err
}

// Coordinator returns the coordinator running t.
func (t *Txn) Coordinator() *Coordinator { return t.c }

// refusedBeforeLocking reports errors a replica returns before taking any
// lock: the request did nothing there.
func refusedBeforeLocking(err error) bool {
	var nl *kverr.NotLeaseholderError
	var km *kverr.RangeKeyMismatchError
	var nf *kverr.RangeNotFoundError
	return errors.As(err, &nl) || errors.As(err, &km) || errors.As(err, &nf)
}

// forgetUncertain drops a participant that was only ever sent requests
// refused before locking.
func (t *Txn) forgetUncertain(rangeID uint64) {
	if p := t.parts[rangeID]; p != nil && p.uncertain {
		delete(t.parts, rangeID)
		t.order = slices.DeleteFunc(t.order, func(id uint64) bool { return id == rangeID })
	}
}
