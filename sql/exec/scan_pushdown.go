package exec

import (
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowfilter"
	"github.com/ordodb/ordo/sql/sem"
)

// pushSplit splits the scan's Filter (the conjuncts beyond its key bounds,
// see spanConds) into those it sends with its KV scan, evaluated by each
// range's leaseholder (sql/rowfilter), and those only the gateway
// evaluates. Only a KV scan carries a filter: a point lookup or a
// secondary index lookup pushes nothing.
func (s *scanNode) pushSplit() (pushed, gateway []sem.Expr) {
	_, rest := s.spanConds()
	if a, _, _ := s.access(); a != accessFull && a != accessRange {
		return nil, rest
	}
	for _, e := range rest {
		if rowfilter.Pushable(e, len(s.desc.Table.Columns)) {
			pushed = append(pushed, e)
		} else {
			gateway = append(gateway, e)
		}
	}
	return pushed, gateway
}

// filterPushed reports whether the leaseholders evaluate the scan's whole
// Filter, so a LIMIT may count their matching rows (maybePushLimit).
func (s *scanNode) filterPushed() bool {
	pushed, gateway := s.pushSplit()
	return len(pushed) > 0 && len(gateway) == 0
}

// scanPushed is the KV scan of a full or range scan: it returns, in key
// order, the pairs of [start, end) that match the pushed conjuncts
// (pushSplit), at most limit (0: no limit) of them — more when some are
// evaluated on the gateway, which reads the span whole — and fewer only when
// the span has no more or the scan's own LIMIT is reached (matchLimit); a
// caller reading pages resumes after the last key. The
// conjuncts go with the KV scan when the transaction takes filters
// (kvapi.FilterScanner), and the leaseholders evaluate them; otherwise, or
// for a conjunct whose values could not be sent, the gateway does, on the
// whole span. The gateway still evaluates the whole filter on what comes
// back (scanNode.rows), which costs little: only matching rows come back.
func (s *scanNode) scanPushed(c *Ctx, start, end []byte, limit int) ([]kvapi.KeyValue, error) {
	pushed, _ := s.pushSplit()
	if len(pushed) == 0 {
		return c.kv().Scan(c.Context, start, end, limit, false, s.lock)
	}
	fs, ok := c.Cat.KV.(kvapi.FilterScanner)
	var spec []byte
	var sent []sem.Expr
	if ok {
		var err error
		if spec, sent, err = rowfilter.Encode(c.Eval, s.desc.ID, s.desc.Table, pushed); err != nil {
			return nil, err
		}
	}
	if len(sent) == len(pushed) {
		n, err := s.matchLimit(c)
		if err != nil {
			return nil, err
		}
		if n > 0 && (limit == 0 || n < limit) {
			limit = n
		}
		return s.scanFiltered(c, fs, start, end, limit, spec)
	}
	return s.scanUnsent(c, fs, start, end, spec, unsent(pushed, sent))
}

// matchLimit is the number of matching rows the scan needs (0: all) when
// it pushed its SELECT's LIMIT because the leaseholders evaluate its whole
// filter (maybePushLimit); kvLimit does not count those.
func (s *scanNode) matchLimit(c *Ctx) (int, error) {
	if s.spanCovers() || !s.filterPushed() {
		return 0, nil
	}
	return s.limitRows(c)
}

// scanFiltered runs the KV scan with spec.
func (s *scanNode) scanFiltered(c *Ctx, fs kvapi.FilterScanner, start, end []byte, limit int, spec []byte) ([]kvapi.KeyValue, error) {
	if err := c.flush(); err != nil { // buffered writes first, as c.kv() does
		return nil, err
	}
	kvs, scanned, err := fs.ScanFiltered(c.Context, start, end, limit, false, s.lock, spec)
	if err != nil {
		return nil, err
	}
	// rows counts the pairs returned as read; add those the leaseholders
	// read and filtered out.
	c.analyze.scanned(s, scanned-len(kvs), 0)
	return kvs, nil
}

// scanUnsent reads the whole span (filtered by spec, if any) and keeps the
// pairs that match the conjuncts rest on the gateway: all of them, with no
// limit, since the span was read whole (a caller reading pages,
// scanNode.each, would otherwise read the rest of it again for each page).
func (s *scanNode) scanUnsent(c *Ctx, fs kvapi.FilterScanner, start, end []byte, spec []byte, rest []sem.Expr) ([]kvapi.KeyValue, error) {
	var kvs []kvapi.KeyValue
	var err error
	if spec != nil {
		kvs, err = s.scanFiltered(c, fs, start, end, 0, spec)
	} else {
		kvs, err = c.kv().Scan(c.Context, start, end, 0, false, s.lock)
	}
	if err != nil {
		return nil, err
	}
	out := kvs[:0]
	for _, kv := range kvs {
		row, err := s.codec.DecodeRow(kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		ok, err := sem.IsTrue(c.Eval, andAll(rest), row)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, kv)
		}
	}
	c.analyze.scanned(s, len(kvs)-len(out), 0)
	return out, nil
}

// unsent returns the conjuncts of pushed that are not in sent (a
// subsequence of pushed).
func unsent(pushed, sent []sem.Expr) []sem.Expr {
	var out []sem.Expr
	for _, e := range pushed {
		if len(sent) > 0 && sent[0] == e {
			sent = sent[1:]
			continue
		}
		out = append(out, e)
	}
	return out
}
