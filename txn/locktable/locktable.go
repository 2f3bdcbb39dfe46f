package locktable

import (
	"slices"
)

// Table is the lock table of one range's leaseholder. It is not safe for
// concurrent use: its driver serialises calls.
type Table struct {
	cfg   Config
	txns  map[TxnID]*txnState
	held  lockIndex
	queue []*request // waiting requests, in queue order (see doc.go)
	seq   uint64     // arrival counter, for Waits
}

// txnState is everything the table knows about one transaction.
type txnState struct {
	id       TxnID
	prio     Priority
	prepared bool
	wounded  bool
	bytes    int64
	locks    []*heldLock
	// spanLocks are those of locks that cover a span, not a point.
	spanLocks []*heldLock
	waiting   *request
	writes    pendingWrites
	// ignored lists the sequence numbers rolled back (RollbackTo): a late
	// write with one of them is refused.
	ignored []SeqRange
	// writeBytes is the part of bytes charged for pending writes (and
	// their undo log), what TakePendingWrites hands out.
	writeBytes int64
	// spilled: TakePendingWrites took writes; spilledSeq is the highest
	// sequence number among them, below which RollbackTo is refused.
	spilled    bool
	spilledSeq uint64
}

// request is a queued Request.
type request struct {
	txn  *txnState
	span Span
	mode Mode
	seq  uint64
	cost int64 // memory reserved for the lock it will become
}

// New returns an empty lock table.
func New(cfg Config) *Table {
	return &Table{cfg: cfg, txns: map[TxnID]*txnState{}}
}

func (t *txnState) olderThan(o *txnState) bool {
	return older(t.prio, t.id, o.prio, o.id)
}

// Acquire asks for a lock; its keys are copied. A request covered by a lock the transaction
// already holds is granted at once without a new entry; otherwise it is
// granted if it conflicts with no holder and no request ahead of it in the
// queue, and queued if it does. An older requester wounds every younger,
// unprepared holder it conflicts with (Result.Wound) and waits for them to
// be aborted.
func (t *Table) Acquire(req Request) (Result, error) {
	if err := validate(req); err != nil {
		return Result{}, err
	}
	tx := t.txn(req.Txn, req.Priority)
	if err := t.checkCanLock(tx); err != nil {
		return Result{}, err
	}
	if t.held.holds(tx, req.Span, req.Mode) {
		return Result{Granted: true}, nil
	}
	if req.Mode == Shared && (mutSkipReadLocks || (mutSkipSpanLocks && !req.Span.IsPoint())) {
		return Result{Granted: true}, nil // mutations only (mutation_skip_*_locks_on.go); false, so dead, in the normal build
	}
	cost := req.Span.size() + lockOverhead
	if err := t.reserve(tx, cost); err != nil {
		return Result{}, err
	}
	t.seq++
	span := Span{Key: clone(req.Span.Key)}
	if !req.Span.IsPoint() {
		span.EndKey = clone(req.Span.EndKey)
	}
	r := &request{txn: tx, span: span, mode: req.Mode, seq: t.seq, cost: cost}
	t.enqueue(r)
	waitOn, wound := t.blockers(r)
	if len(waitOn) == 0 {
		t.dequeue(r)
		t.grant(r)
		return Result{Granted: true}, nil
	}
	for _, w := range wound {
		t.txns[w].wounded = true
	}
	return Result{WaitingOn: waitOn, Wound: wound}, nil
}

func validate(req Request) error {
	if !req.Span.Valid() {
		return ErrInvalidSpan
	}
	if req.Mode != Shared && req.Mode != Exclusive {
		return ErrInvalidMode
	}
	return nil
}

// txn returns the state of id, creating it with prio on first sight. The
// priority of a known transaction never changes.
func (t *Table) txn(id TxnID, prio Priority) *txnState {
	tx, ok := t.txns[id]
	if !ok {
		tx = &txnState{id: id, prio: prio}
		t.txns[id] = tx
	}
	return tx
}

func (t *Table) checkCanLock(tx *txnState) error {
	switch {
	case tx.prepared:
		return ErrPrepared
	case tx.wounded:
		return &WoundedError{Txn: tx.id}
	case tx.waiting != nil:
		return ErrAlreadyWaiting
	}
	return nil
}

func (t *Table) reserve(tx *txnState, cost int64) error {
	if limit := t.cfg.limit(); limit >= 0 && tx.bytes+cost > limit {
		return &MemoryLimitError{Txn: tx.id, Used: tx.bytes, Need: cost, Limit: limit}
	}
	tx.bytes += cost
	return nil
}

// enqueue inserts r in queue order: older transactions first.
func (t *Table) enqueue(r *request) {
	i, _ := slices.BinarySearchFunc(t.queue, r, func(a, b *request) int {
		if a.txn.olderThan(b.txn) {
			return -1
		}
		return 1
	})
	t.queue = slices.Insert(t.queue, i, r)
	r.txn.waiting = r
}

func (t *Table) dequeue(r *request) {
	t.queue = slices.DeleteFunc(t.queue, func(o *request) bool { return o == r })
	r.txn.waiting = nil
}

func (t *Table) grant(r *request) {
	l := &heldLock{txn: r.txn, span: r.span, mode: r.mode}
	r.txn.locks = append(r.txn.locks, l)
	if !l.span.IsPoint() {
		r.txn.spanLocks = append(r.txn.spanLocks, l)
	}
	t.held.insert(l)
}

// blockers returns the transactions r waits for: other transactions'
// holders it conflicts with, and other transactions' requests ahead of it
// in the queue that it conflicts with. wound lists the conflicting holders
// that r's transaction newly wounds (younger, not prepared, not yet wounded).
func (t *Table) blockers(r *request) (waitOn, wound []TxnID) {
	t.held.overlapping(r.span, func(l *heldLock) {
		if l.txn == r.txn || compatible(l.mode, r.mode) {
			return
		}
		waitOn = append(waitOn, l.txn.id)
		if r.txn.olderThan(l.txn) && !l.txn.prepared && !l.txn.wounded {
			wound = append(wound, l.txn.id)
		}
	})
	for _, w := range t.queue {
		if w == r {
			break
		}
		if w.txn != r.txn && !compatible(w.mode, r.mode) && w.span.Overlaps(r.span) {
			waitOn = append(waitOn, w.txn.id)
		}
	}
	return sortedUnique(waitOn), sortedUnique(wound)
}

func sortedUnique(ids []TxnID) []TxnID {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Release drops every lock, queued request and pending write of txn (after
// its commit has been applied, or after it aborted) and forgets it. It
// returns the queued requests granted as a result, in queue order.
func (t *Table) Release(txn TxnID) []Grant {
	tx, ok := t.txns[txn]
	if !ok {
		return nil
	}
	if tx.waiting != nil {
		t.dequeue(tx.waiting)
	}
	for _, l := range tx.locks {
		t.held.remove(l)
	}
	delete(t.txns, txn)
	return t.grantWaiters()
}

// Abort is Release for a transaction that aborted (for instance after a
// wound): its pending writes are discarded with its locks.
func (t *Table) Abort(txn TxnID) []Grant { return t.Release(txn) }

// ReleaseShared drops txn's shared locks and keeps its exclusive locks and
// pending writes, as at prepare. It returns the requests granted as a
// result, in queue order.
func (t *Table) ReleaseShared(txn TxnID) []Grant {
	tx, ok := t.txns[txn]
	if !ok {
		return nil
	}
	tx.locks = slices.DeleteFunc(tx.locks, func(l *heldLock) bool {
		if l.mode != Shared {
			return false
		}
		t.held.remove(l)
		tx.bytes -= l.span.size() + lockOverhead
		return true
	})
	tx.spanLocks = slices.DeleteFunc(tx.spanLocks, func(l *heldLock) bool { return l.mode == Shared })
	return t.grantWaiters()
}

// MarkPrepared records that txn is prepared: it will not be wounded (an
// older conflicting requester waits instead) and may not lock or write
// again. A transaction with a queued request cannot prepare.
func (t *Table) MarkPrepared(txn TxnID) error {
	tx, ok := t.txns[txn]
	if !ok {
		return nil // nothing locked here
	}
	if tx.waiting != nil {
		return ErrAlreadyWaiting
	}
	tx.prepared = true
	return nil
}

// Prepare is ReleaseShared followed by MarkPrepared.
func (t *Table) Prepare(txn TxnID) ([]Grant, error) {
	if tx, ok := t.txns[txn]; ok && tx.waiting != nil {
		return nil, ErrAlreadyWaiting
	}
	grants := t.ReleaseShared(txn)
	return grants, t.MarkPrepared(txn)
}

// Cancel withdraws txn's queued request, if any (lock wait timeout, or the
// client went away), and returns the requests granted as a result.
func (t *Table) Cancel(txn TxnID) []Grant {
	tx, ok := t.txns[txn]
	if !ok || tx.waiting == nil {
		return nil
	}
	tx.bytes -= tx.waiting.cost
	t.dequeue(tx.waiting)
	return t.grantWaiters()
}

// grantWaiters grants, in queue order, every queued request that no longer
// has a blocker. One pass reaches the fixpoint: a grant adds a holder and
// removes a request, which can only block, never unblock, requests that
// come before it in the queue.
func (t *Table) grantWaiters() []Grant {
	var grants []Grant
	for _, r := range slices.Clone(t.queue) {
		if waitOn, _ := t.blockers(r); len(waitOn) > 0 {
			continue
		}
		t.dequeue(r)
		t.grant(r)
		grants = append(grants, Grant{Txn: r.txn.id, Span: r.span, Mode: r.mode})
	}
	return grants
}
