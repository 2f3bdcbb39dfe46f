package exec

import (
	"github.com/ordodb/ordo/sql/sem"
)

// maybePushLimit hands a SELECT's LIMIT (plus OFFSET) to its table scan
// when no later stage could drop or reorder rows (no filter beyond the
// scan's key bounds but one the leaseholders evaluate whole, no grouping,
// DISTINCT or ORDER BY): the scan then asks the KV layer for that many
// (matching) rows, and each range's leaseholder stops reading there. The
// SELECT still applies LIMIT and OFFSET itself.
func (sp *selectPlan) maybePushLimit() {
	s := sp.scan
	if s == nil || sp.limit == nil || sp.where != nil || sp.grouping || sp.distinct || len(sp.order) > 0 ||
		!(s.spanCovers() || s.filterPushed()) {
		return
	}
	s.limit, s.offset = sp.limit, sp.offset
}

// kvLimit is the number of KV pairs a scan needs (0 = all): its
// pushed-down LIMIT plus OFFSET when its span holds exactly the rows it
// keeps. A LIMIT pushed because the leaseholders evaluate the whole filter
// counts matching rows instead: scanPushed applies it (limitRows).
func (s *scanNode) kvLimit(c *Ctx) (int, error) {
	if !s.spanCovers() {
		return 0, nil
	}
	return s.limitRows(c)
}

// limitRows is the number of rows a scan needs (0 = all): its pushed-down
// LIMIT plus OFFSET. A value the SELECT will reject (negative, NULL)
// reads everything and lets the SELECT report it.
func (s *scanNode) limitRows(c *Ctx) (int, error) {
	if s.limit == nil {
		return 0, nil
	}
	n, err := constCount(c, s.limit)
	if err != nil || n <= 0 {
		return 0, err
	}
	off, err := constCount(c, s.offset)
	if err != nil || off < 0 {
		return 0, err
	}
	if n+off > 1<<30 {
		return 0, nil
	}
	return int(n + off), nil
}

// constCount evaluates a LIMIT or OFFSET expression; -1 when absent,
// NULL or not an integer.
func constCount(c *Ctx, e sem.Expr) (int64, error) {
	if e == nil {
		return 0, nil
	}
	v, err := e.Eval(c.Eval, nil)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return -1, nil
	}
	return n, nil
}
