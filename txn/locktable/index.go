package locktable

import (
	"bytes"
	"cmp"
	"slices"

	"github.com/RaduBerinde/btreemap"
)

// heldLock is one granted lock. A transaction may hold several entries
// that overlap (an S lock and a later X on the same key, say).
type heldLock struct {
	txn  *txnState
	span Span
	mode Mode
	// id tells point locks on one key apart in the index.
	id uint64
}

// pointKey orders point locks: by key, then by id.
type pointKey struct {
	key []byte
	id  uint64
}

func comparePointKeys(a, b pointKey) int {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// lockIndex finds the held locks that overlap a span. Point locks are kept
// in a B-tree by key, so a transaction holding a million of them (a bulk
// load) costs a logarithm per lock, not a linear scan or a shift of a
// sorted slice; span locks in a list that is scanned, on the assumption
// that transactions hold few of them. An interval tree can replace the list
// without changing callers.
type lockIndex struct {
	points *btreemap.BTreeMap[pointKey, *heldLock] // nil until the first point lock
	spans  []*heldLock                             // in grant order
	nextID uint64
}

func (x *lockIndex) insert(l *heldLock) {
	if !l.span.IsPoint() {
		x.spans = append(x.spans, l)
		return
	}
	if x.points == nil {
		x.points = btreemap.New[pointKey, *heldLock](32, comparePointKeys)
	}
	x.nextID++
	l.id = x.nextID
	x.points.ReplaceOrInsert(pointKey{l.span.Key, l.id}, l)
}

func (x *lockIndex) remove(l *heldLock) {
	if !l.span.IsPoint() {
		x.spans = slices.DeleteFunc(x.spans, func(o *heldLock) bool { return o == l })
		return
	}
	if x.points != nil {
		x.points.Delete(pointKey{l.span.Key, l.id})
	}
}

// pointsFrom calls fn for the point locks with key >= k, in key order,
// until fn returns false.
func (x *lockIndex) pointsFrom(k []byte, fn func(*heldLock) bool) {
	if x.points == nil {
		return
	}
	for _, l := range x.points.Ascend(btreemap.GE(pointKey{key: k}), btreemap.Max[pointKey]()) {
		if !fn(l) {
			return
		}
	}
}

// overlapping calls fn for every held lock that overlaps s, points first in
// key order, then spans in grant order.
func (x *lockIndex) overlapping(s Span, fn func(*heldLock)) {
	x.pointsFrom(s.Key, func(l *heldLock) bool {
		if !s.Overlaps(l.span) {
			return false
		}
		fn(l)
		return true
	})
	for _, l := range x.spans {
		if s.Overlaps(l.span) {
			fn(l)
		}
	}
}

// holds reports whether tx holds a lock in mode m or stronger that
// contains s: a point lock on s's key (found in the index), or one of its
// span locks.
func (x *lockIndex) holds(tx *txnState, s Span, m Mode) bool {
	found := false
	if s.IsPoint() {
		x.pointsFrom(s.Key, func(l *heldLock) bool {
			if !bytes.Equal(l.span.Key, s.Key) {
				return false
			}
			found = l.txn == tx && l.mode >= m
			return !found
		})
	}
	if found {
		return true
	}
	for _, l := range tx.spanLocks {
		if l.mode >= m && l.span.Contains(s) {
			return true
		}
	}
	return false
}
