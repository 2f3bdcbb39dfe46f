package locktable

import (
	"bytes"
	"slices"
)

// heldLock is one granted lock. A transaction may hold several entries
// that overlap (an S lock and a later X on the same key, say).
type heldLock struct {
	txn  *txnState
	span Span
	mode Mode
}

// lockIndex finds the held locks that overlap a span. Point locks are kept
// sorted by key (binary search); span locks in a list that is scanned, on
// the assumption that a transaction holding many point locks in a range
// escalates them to one span lock. A balanced interval tree can replace it
// without changing callers.
type lockIndex struct {
	points []*heldLock // sorted by span.Key
	spans  []*heldLock // in grant order
}

func (x *lockIndex) insert(l *heldLock) {
	if !l.span.IsPoint() {
		x.spans = append(x.spans, l)
		return
	}
	i := x.pointSearch(l.span.Key)
	x.points = slices.Insert(x.points, i, l)
}

func (x *lockIndex) remove(l *heldLock) {
	if !l.span.IsPoint() {
		x.spans = slices.DeleteFunc(x.spans, func(o *heldLock) bool { return o == l })
		return
	}
	for i := x.pointSearch(l.span.Key); i < len(x.points); i++ {
		if x.points[i] == l {
			x.points = slices.Delete(x.points, i, i+1)
			return
		}
	}
}

// pointSearch returns the index of the first point lock with key >= k.
func (x *lockIndex) pointSearch(k []byte) int {
	i, _ := slices.BinarySearchFunc(x.points, k, func(l *heldLock, k []byte) int {
		return bytes.Compare(l.span.Key, k)
	})
	return i
}

// overlapping calls fn for every held lock that overlaps s, points first in
// key order, then spans in grant order.
func (x *lockIndex) overlapping(s Span, fn func(*heldLock)) {
	for i := x.pointSearch(s.Key); i < len(x.points) && s.Overlaps(x.points[i].span); i++ {
		fn(x.points[i])
	}
	for _, l := range x.spans {
		if s.Overlaps(l.span) {
			fn(l)
		}
	}
}
