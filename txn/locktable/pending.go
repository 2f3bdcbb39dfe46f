package locktable

import (
	"bytes"

	"github.com/RaduBerinde/btreemap"
)

// Write is a pending write of a transaction: a new value for Key, or its
// deletion. Seq is the coordinator's sequence number for the write (0 if
// the transaction never set a savepoint); RollbackTo undoes the writes with
// a larger one.
type Write struct {
	Key     []byte
	Value   []byte
	Deleted bool
	Seq     uint64
}

// pendingWrites holds a transaction's writes by key, one per key (the last
// write wins), in a B-tree — a bulk load in any key order costs a
// logarithm per write, where a sorted slice shifted its tail on every
// insert — and an undo log of what each write with a sequence number above
// 0 replaced, so RollbackTo can restore it.
type pendingWrites struct {
	m    *btreemap.BTreeMap[[]byte, Write] // nil until the first write
	undo []undoEntry                       // in the order the writes were made; seq never decreases
}

// len is the number of pending writes.
func (p *pendingWrites) len() int {
	if p.m == nil {
		return 0
	}
	return p.m.Len()
}

// get returns the pending write of k.
func (p *pendingWrites) get(k []byte) (Write, bool) {
	if p.m == nil {
		return Write{}, false
	}
	_, w, ok := p.m.Get(k)
	return w, ok
}

// set stores w as the pending write of its key.
func (p *pendingWrites) set(w Write) {
	if p.m == nil {
		p.m = btreemap.New[[]byte, Write](32, bytes.Compare)
	}
	p.m.ReplaceOrInsert(w.Key, w)
}

// all returns every pending write, sorted by key.
func (p *pendingWrites) all() []Write {
	if p.m == nil {
		return nil
	}
	out := make([]Write, 0, p.m.Len())
	for _, w := range p.m.Ascend(btreemap.Min[[]byte](), btreemap.Max[[]byte]()) {
		out = append(out, w)
	}
	return out
}

// undoEntry restores key to prev (or removes it, if !hadPrev) when the
// transaction rolls back to a sequence number below seq.
type undoEntry struct {
	seq     uint64
	key     []byte
	prev    Write
	hadPrev bool
}

// costDelta is the change in bytes held if w is put: a write that replaces
// one of the same sequence number replaces its value; one that needs an
// undo entry keeps the value it replaces (in the entry) as well.
func (p *pendingWrites) costDelta(w Write) int64 {
	old, found := p.get(w.Key)
	if found && !p.needsUndo(old, w) {
		return int64(len(w.Value) - len(old.Value))
	}
	if w.Seq > 0 {
		return writeCost(w) + undoOverhead
	}
	return writeCost(w)
}

// needsUndo reports whether w, replacing old, must log old: they belong to
// different sequence numbers, so a rollback may have to restore old.
func (p *pendingWrites) needsUndo(old, w Write) bool { return w.Seq > 0 && old.Seq != w.Seq }

// undoSeq is the sequence number w is logged under: never below the last
// entry's, so the log stays ordered (a write that arrives late with an
// older number is treated as part of the newest one).
func (p *pendingWrites) undoSeq(w Write) uint64 {
	if n := len(p.undo); n > 0 && p.undo[n-1].seq > w.Seq {
		return p.undo[n-1].seq
	}
	return w.Seq
}

// put stores w, replacing an earlier write of the same key, and logs what
// it replaced when a rollback may need it.
func (p *pendingWrites) put(w Write) {
	old, found := p.get(w.Key)
	if found {
		if p.needsUndo(old, w) {
			w.Seq = p.undoSeq(w)
			p.undo = append(p.undo, undoEntry{seq: w.Seq, key: w.Key, prev: old, hadPrev: true})
		}
		p.set(w)
		return
	}
	if w.Seq > 0 {
		w.Seq = p.undoSeq(w)
		p.undo = append(p.undo, undoEntry{seq: w.Seq, key: w.Key})
	}
	p.set(w)
}

// rollbackTo undoes every write with a sequence number above seq, newest
// first, and returns the change in bytes held.
func (p *pendingWrites) rollbackTo(seq uint64) int64 {
	var delta int64
	for n := len(p.undo); n > 0 && p.undo[n-1].seq > seq; n = len(p.undo) {
		e := p.undo[n-1]
		p.undo = p.undo[:n-1]
		cur, found := p.get(e.key)
		if !found {
			continue // cannot happen: a logged key keeps a pending write until its entry is undone
		}
		delta -= writeCost(cur) + undoOverhead
		if e.hadPrev {
			p.set(e.prev)
		} else {
			p.m.Delete(e.key)
		}
	}
	return delta
}

func writeCost(w Write) int64 {
	return int64(len(w.Key)+len(w.Value)) + writeOverhead
}

// inSpan returns the writes in s, sorted by key.
func (p *pendingWrites) inSpan(s Span) []Write {
	if s.IsPoint() {
		if w, ok := p.get(s.Key); ok {
			return []Write{w}
		}
		return nil
	}
	if p.m == nil {
		return nil
	}
	var out []Write
	for k, w := range p.m.Ascend(btreemap.GE(s.Key), btreemap.Max[[]byte]()) {
		if !s.ContainsKey(k) {
			break
		}
		out = append(out, w)
	}
	return out
}

// PutPending buffers a new value for key in txn, which must hold an
// exclusive lock containing key. Keys and values are copied. seq is the
// write's sequence number (see RollbackTo; 0 without savepoints).
func (t *Table) PutPending(txn TxnID, key, value []byte, seq uint64) error {
	return t.writePending(txn, Write{Key: clone(key), Value: clone(value), Seq: seq})
}

// DeletePending buffers the deletion of key in txn, which must hold an
// exclusive lock containing key.
func (t *Table) DeletePending(txn TxnID, key []byte, seq uint64) error {
	return t.writePending(txn, Write{Key: clone(key), Deleted: true, Seq: seq})
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

func (t *Table) writePending(txn TxnID, w Write) error {
	tx, ok := t.txns[txn]
	switch {
	case !ok || !t.held.holds(tx, PointSpan(w.Key), Exclusive):
		return ErrNotLocked
	case tx.prepared:
		return ErrPrepared
	case tx.wounded:
		return &WoundedError{Txn: txn}
	case tx.rolledBack(w.Seq):
		return ErrRolledBack
	}
	delta := tx.writes.costDelta(w)
	if err := t.reserve(tx, delta); err != nil {
		return err
	}
	tx.writeBytes += delta
	tx.writes.put(w)
	return nil
}

// PendingBytes returns the bytes charged to txn for its pending writes
// (and their undo log) in this table: what TakePendingWrites would free.
func (t *Table) PendingBytes(txn TxnID) int64 {
	if tx, ok := t.txns[txn]; ok {
		return tx.writeBytes
	}
	return 0
}

// TakePendingWrites removes txn's pending writes and their undo log from
// the table and returns the writes, sorted by key: the driver replicates
// them as provisional writes (a large transaction spills). Locks stay.
// From then on RollbackTo a sequence number below the highest one taken is
// refused (ErrSpilledRollback): the values those writes replaced are gone.
func (t *Table) TakePendingWrites(txn TxnID) []Write {
	tx, ok := t.txns[txn]
	if !ok || tx.writes.len() == 0 {
		return nil
	}
	out := tx.writes.all()
	for _, w := range out {
		tx.spilledSeq = max(tx.spilledSeq, w.Seq)
	}
	for _, e := range tx.writes.undo {
		tx.spilledSeq = max(tx.spilledSeq, e.seq)
	}
	tx.spilled = true
	tx.bytes -= tx.writeBytes
	tx.writeBytes = 0
	tx.writes = pendingWrites{}
	return out
}

// Spilled reports whether TakePendingWrites took writes of txn.
func (t *Table) Spilled(txn TxnID) bool {
	tx, ok := t.txns[txn]
	return ok && tx.spilled
}

// PendingWrites returns txn's pending writes in span, sorted by key. The
// caller must not modify them.
func (t *Table) PendingWrites(txn TxnID, span Span) []Write {
	tx, ok := t.txns[txn]
	if !ok {
		return nil
	}
	return tx.writes.inSpan(span)
}

// MemoryUsage returns the bytes charged to txn in this table.
func (t *Table) MemoryUsage(txn TxnID) int64 {
	if tx, ok := t.txns[txn]; ok {
		return tx.bytes
	}
	return 0
}

// SeqRange is the sequence numbers (From, To] that a RollbackTo undid.
type SeqRange struct{ From, To uint64 }

// RollbackTo undoes txn's pending writes with a sequence number above seq,
// restoring the values they replaced (ROLLBACK TO SAVEPOINT), and records
// that every sequence number in (seq, upTo] was rolled back: a write with
// one of them that arrives later (a request of a cancelled statement still
// in flight) is refused with ErrRolledBack. Locks stay held. A transaction
// the table does not know is created with prio, so the record holds until
// it is released. It reports whether txn still has pending writes here.
func (t *Table) RollbackTo(txn TxnID, prio Priority, seq, upTo uint64) (bool, error) {
	tx := t.txn(txn, prio)
	if tx.prepared {
		return false, ErrPrepared
	}
	if tx.spilled && seq < tx.spilledSeq {
		return false, ErrSpilledRollback
	}
	delta := tx.writes.rollbackTo(seq)
	tx.bytes += delta
	tx.writeBytes += delta
	if upTo > seq {
		tx.ignored = append(tx.ignored, SeqRange{From: seq, To: upTo})
	}
	return tx.writes.len() > 0 || tx.spilled, nil
}

func (tx *txnState) rolledBack(seq uint64) bool {
	for _, r := range tx.ignored {
		if seq > r.From && seq <= r.To {
			return true
		}
	}
	return false
}
