package locktable

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// State is a copy of the table's contents for status pages and tests.
type State struct {
	Txns  []TxnInfo  // sorted by ID
	Locks []LockInfo // sorted by span start, then txn
	Waits []WaitInfo // in queue order
}

// TxnInfo describes one transaction known to the table.
type TxnInfo struct {
	ID            TxnID
	Priority      Priority
	Prepared      bool
	Wounded       bool
	Bytes         int64
	PendingWrites int
}

// LockInfo describes one held lock.
type LockInfo struct {
	Txn  TxnID
	Span Span
	Mode Mode
}

// WaitInfo describes one queued request: who waits for whom, on what.
// Seq is the request's arrival number; the driver maps it to a wait start
// time if it wants durations.
type WaitInfo struct {
	Txn       TxnID
	Span      Span
	Mode      Mode
	Seq       uint64
	WaitingOn []TxnID
}

// Snapshot returns the current state.
func (t *Table) Snapshot() State {
	var s State
	for _, tx := range t.txns {
		s.Txns = append(s.Txns, TxnInfo{ID: tx.id, Priority: tx.prio, Prepared: tx.prepared,
			Wounded: tx.wounded, Bytes: tx.bytes, PendingWrites: tx.writes.len()})
		for _, l := range tx.locks {
			s.Locks = append(s.Locks, LockInfo{Txn: tx.id, Span: l.span, Mode: l.mode})
		}
	}
	slices.SortFunc(s.Txns, func(a, b TxnInfo) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Locks, compareLocks)
	for _, r := range t.queue {
		waitOn, _ := t.blockers(r)
		s.Waits = append(s.Waits, WaitInfo{Txn: r.txn.id, Span: r.span, Mode: r.mode, Seq: r.seq, WaitingOn: waitOn})
	}
	return s
}

func compareLocks(a, b LockInfo) int {
	if c := bytes.Compare(a.Span.Key, b.Span.Key); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Span.EndKey, b.Span.EndKey); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Txn, b.Txn); c != 0 {
		return c
	}
	return cmp.Compare(a.Mode, b.Mode)
}

// Dump formats Snapshot with numeric transaction IDs.
func (t *Table) Dump() string { return t.Snapshot().Format(nil) }

// Format renders s, naming transactions with name (nil: their number).
func (s State) Format(name func(TxnID) string) string {
	if name == nil {
		name = func(id TxnID) string { return fmt.Sprint(id) }
	}
	var b strings.Builder
	for _, tx := range s.Txns {
		fmt.Fprintf(&b, "txn %s prio=%d.%d bytes=%d writes=%d%s\n", name(tx.ID), tx.Priority.StartNanos,
			tx.Priority.Tiebreak, tx.Bytes, tx.PendingWrites, txnFlags(tx))
	}
	for _, l := range s.Locks {
		fmt.Fprintf(&b, "lock %s %s by %s\n", l.Span, l.Mode, name(l.Txn))
	}
	for _, w := range s.Waits {
		fmt.Fprintf(&b, "wait %s %s by %s on %s\n", w.Span, w.Mode, name(w.Txn), names(w.WaitingOn, name))
	}
	if b.Len() == 0 {
		return "empty\n"
	}
	return b.String()
}

func txnFlags(tx TxnInfo) string {
	var f string
	if tx.Prepared {
		f += " prepared"
	}
	if tx.Wounded {
		f += " wounded"
	}
	return f
}

func names(ids []TxnID, name func(TxnID) string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = name(id)
	}
	return strings.Join(s, ",")
}
