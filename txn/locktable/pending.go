package locktable

import (
	"bytes"
	"slices"
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

// pendingWrites holds a transaction's writes sorted by key, one per key
// (the last write wins), and an undo log of what each write with a
// sequence number above 0 replaced, so RollbackTo can restore it.
type pendingWrites struct {
	sorted []Write
	undo   []undoEntry // in the order the writes were made; seq never decreases
}

// undoEntry restores key to prev (or removes it, if !hadPrev) when the
// transaction rolls back to a sequence number below seq.
type undoEntry struct {
	seq     uint64
	key     []byte
	prev    Write
	hadPrev bool
}

func (p *pendingWrites) search(k []byte) (int, bool) {
	return slices.BinarySearchFunc(p.sorted, k, func(w Write, k []byte) int {
		return bytes.Compare(w.Key, k)
	})
}

// costDelta is the change in bytes held if w is put: a write that replaces
// one of the same sequence number replaces its value; one that needs an
// undo entry keeps the value it replaces (in the entry) as well.
func (p *pendingWrites) costDelta(w Write) int64 {
	i, found := p.search(w.Key)
	if found && !p.needsUndo(p.sorted[i], w) {
		return int64(len(w.Value) - len(p.sorted[i].Value))
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
	i, found := p.search(w.Key)
	if found {
		if p.needsUndo(p.sorted[i], w) {
			w.Seq = p.undoSeq(w)
			p.undo = append(p.undo, undoEntry{seq: w.Seq, key: w.Key, prev: p.sorted[i], hadPrev: true})
		}
		p.sorted[i] = w
		return
	}
	if w.Seq > 0 {
		w.Seq = p.undoSeq(w)
		p.undo = append(p.undo, undoEntry{seq: w.Seq, key: w.Key})
	}
	p.sorted = slices.Insert(p.sorted, i, w)
}

// rollbackTo undoes every write with a sequence number above seq, newest
// first, and returns the change in bytes held.
func (p *pendingWrites) rollbackTo(seq uint64) int64 {
	var delta int64
	for n := len(p.undo); n > 0 && p.undo[n-1].seq > seq; n = len(p.undo) {
		e := p.undo[n-1]
		p.undo = p.undo[:n-1]
		i, found := p.search(e.key)
		if !found {
			continue // cannot happen: a logged key keeps a pending write until its entry is undone
		}
		delta -= writeCost(p.sorted[i]) + undoOverhead
		if e.hadPrev {
			p.sorted[i] = e.prev
		} else {
			p.sorted = slices.Delete(p.sorted, i, i+1)
		}
	}
	return delta
}

func writeCost(w Write) int64 {
	return int64(len(w.Key)+len(w.Value)) + writeOverhead
}

// inSpan returns the writes in s, sorted by key.
func (p *pendingWrites) inSpan(s Span) []Write {
	i, _ := p.search(s.Key)
	var out []Write
	for ; i < len(p.sorted) && s.ContainsKey(p.sorted[i].Key); i++ {
		out = append(out, p.sorted[i])
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
	case !ok || !tx.holdsCovering(PointSpan(w.Key), Exclusive):
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
	if !ok || len(tx.writes.sorted) == 0 {
		return nil
	}
	out := tx.writes.sorted
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
	return len(tx.writes.sorted) > 0 || tx.spilled, nil
}

func (tx *txnState) rolledBack(seq uint64) bool {
	for _, r := range tx.ignored {
		if seq > r.From && seq <= r.To {
			return true
		}
	}
	return false
}
