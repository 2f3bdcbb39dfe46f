package locktable

import (
	"bytes"
	"slices"
)

// Write is a pending write of a transaction: a new value for Key, or its
// deletion.
type Write struct {
	Key     []byte
	Value   []byte
	Deleted bool
}

// pendingWrites holds a transaction's writes sorted by key, one per key
// (the last write wins).
type pendingWrites struct {
	sorted []Write
}

func (p *pendingWrites) search(k []byte) (int, bool) {
	return slices.BinarySearchFunc(p.sorted, k, func(w Write, k []byte) int {
		return bytes.Compare(w.Key, k)
	})
}

// costDelta is the change in bytes held if w is put.
func (p *pendingWrites) costDelta(w Write) int64 {
	if i, found := p.search(w.Key); found {
		return int64(len(w.Value) - len(p.sorted[i].Value))
	}
	return writeCost(w)
}

// put stores w, replacing an earlier write of the same key.
func (p *pendingWrites) put(w Write) {
	i, found := p.search(w.Key)
	if found {
		p.sorted[i] = w
		return
	}
	p.sorted = slices.Insert(p.sorted, i, w)
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
// exclusive lock containing key. Keys and values are copied.
func (t *Table) PutPending(txn TxnID, key, value []byte) error {
	return t.writePending(txn, Write{Key: clone(key), Value: clone(value)})
}

// DeletePending buffers the deletion of key in txn, which must hold an
// exclusive lock containing key.
func (t *Table) DeletePending(txn TxnID, key []byte) error {
	return t.writePending(txn, Write{Key: clone(key), Deleted: true})
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
	}
	if err := t.reserve(tx, tx.writes.costDelta(w)); err != nil {
		return err
	}
	tx.writes.put(w)
	return nil
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
