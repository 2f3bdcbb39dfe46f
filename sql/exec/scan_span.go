package exec

import (
	"github.com/ordodb/ordo/sql/sem"
)

// scanAccess is how a scan reads its table, as fetch decides from the
// bounds setFilter extracted.
type scanAccess uint8

const (
	accessFull   scanAccess = iota // the whole primary index
	accessRange                    // a span of the primary index
	accessPoint                    // one primary key (a Get)
	accessSecIdx                   // equality on a secondary index, then Gets
)

// access returns how fetch reads the table and, for a span of the
// primary index, how many leading key columns are bound by equality and
// whether the next one has range bounds.
func (s *scanNode) access() (a scanAccess, eqCols int, ranged bool) {
	for eqCols < len(s.pkBounds) && hasEq(s.pkBounds[eqCols]) {
		eqCols++
	}
	switch {
	case eqCols > 0 && eqCols == len(s.pkBounds):
		return accessPoint, eqCols, false
	case eqCols == 0 && s.idx != nil:
		return accessSecIdx, 0, false
	}
	ranged = eqCols < len(s.pkBounds) && len(s.pkBounds[eqCols]) > 0
	if eqCols > 0 || ranged {
		return accessRange, eqCols, ranged
	}
	return accessFull, 0, false
}

// spanConds splits the filter's conjuncts into those that gave the
// scan's key bounds (Index Cond) and the rest, which the scan evaluates
// on each row it reads (Filter).
func (s *scanNode) spanConds() (index, rest []sem.Expr) {
	if s.filter == nil {
		return nil, nil
	}
	var conj []sem.Expr
	splitAnd(s.filter, &conj)
	a, eqCols, ranged := s.access()
	t := s.desc.Table
	// ops[pos] are the comparisons on column pos that bound the read.
	ops := map[int]func(sem.CmpOp) bool{}
	isEq := func(op sem.CmpOp) bool { return op == sem.EQ }
	anyOp := func(sem.CmpOp) bool { return true }
	switch a {
	case accessSecIdx:
		for _, id := range s.idx.Columns {
			ops[t.ColumnByID(id)] = isEq
		}
	case accessPoint, accessRange:
		for _, id := range t.Primary.Columns[:eqCols] {
			ops[t.ColumnByID(id)] = isEq
		}
		if ranged {
			ops[t.ColumnByID(t.Primary.Columns[eqCols])] = anyOp
		}
	}
	eqTaken := map[int]bool{}
	for _, e := range conj {
		if pos, op, ok := s.boundOf(e); ok && ops[pos] != nil && ops[pos](op) && !(op == sem.EQ && eqTaken[pos]) {
			eqTaken[pos] = eqTaken[pos] || op == sem.EQ
			index = append(index, e)
			continue
		}
		rest = append(rest, e)
	}
	return index, rest
}

// boundOf reports the column and operator of a conjunct usable as a key
// bound (as boundsOn finds them).
func (s *scanNode) boundOf(e sem.Expr) (pos int, op sem.CmpOp, ok bool) {
	t := s.desc.Table
	for pos := range t.Columns {
		if bs := boundsOn([]sem.Expr{e}, pos, t.Columns[pos].Type); len(bs) == 1 {
			return pos, bs[0].op, true
		}
	}
	return 0, 0, false
}

// spanCovers reports whether the rows of the scan's span are exactly the
// rows its filter keeps: a full or range read whose filter is all key
// bounds.
func (s *scanNode) spanCovers() bool {
	if a, _, _ := s.access(); a != accessFull && a != accessRange {
		return false
	}
	_, rest := s.spanConds()
	return len(rest) == 0
}
