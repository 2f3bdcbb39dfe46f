package exec

import (
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// node is a materializing operator.
type node interface {
	rows(c *Ctx) ([]sem.Row, error)
}

// valuesNode yields fixed rows (SELECT without FROM yields one empty row).
type valuesNode struct{ exprs [][]sem.Expr }

func (v *valuesNode) rows(c *Ctx) ([]sem.Row, error) {
	out := make([]sem.Row, 0, len(v.exprs))
	for _, es := range v.exprs {
		row := make(sem.Row, len(es))
		for i, e := range es {
			d, err := e.Eval(c.Eval, nil)
			if err != nil {
				return nil, err
			}
			row[i] = d
		}
		out = append(out, row)
	}
	return out, nil
}

// bound is one predicate on an indexed column usable for a span.
type bound struct {
	op  sem.CmpOp
	val sem.Expr
}

// scanNode reads a table: a point lookup, a primary key range, an index
// lookup, or the whole table; then applies the filter.
type scanNode struct {
	desc   *catalog.Descriptor
	codec  *rowenc.Codec
	filter sem.Expr
	lock   kvapi.Lock
	// pkBounds[i] are the bounds on primary key column i.
	pkBounds [][]bound
	// idx and idxEq: an equality lookup on every column of a secondary
	// index (used when the primary key has no equality on its first column).
	idx   *catalog.Index
	idxEq []sem.Expr
	// alias is the name the query gave the table, for EXPLAIN.
	alias string
	// limit and offset are the SELECT's, when it pushed its LIMIT down
	// (see maybePushLimit): the scan reads at most limit+offset rows.
	limit, offset sem.Expr
}

func newScan(d *catalog.Descriptor, lock kvapi.Lock) *scanNode {
	return &scanNode{desc: d, codec: rowenc.NewCodec(d.ID, d.Table), lock: lock}
}

// setFilter records the filter and extracts usable bounds from its
// conjuncts.
func (s *scanNode) setFilter(f sem.Expr) {
	s.filter = f
	if f == nil {
		return
	}
	var conj []sem.Expr
	splitAnd(f, &conj)
	t := s.desc.Table
	s.pkBounds = make([][]bound, len(t.Primary.Columns))
	for i, id := range t.Primary.Columns {
		s.pkBounds[i] = boundsOn(conj, t.ColumnByID(id), t.Columns[t.ColumnByID(id)].Type)
	}
	if len(s.pkBounds) > 0 && hasEq(s.pkBounds[0]) {
		return
	}
	s.chooseIndex(conj)
}

func (s *scanNode) chooseIndex(conj []sem.Expr) {
	t := s.desc.Table
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if !idx.Public() {
			continue
		}
		var eqs []sem.Expr
		for _, id := range idx.Columns {
			p := t.ColumnByID(id)
			if e := eqOf(boundsOn(conj, p, t.Columns[p].Type)); e != nil {
				eqs = append(eqs, e)
			}
		}
		if len(eqs) == len(idx.Columns) {
			s.idx, s.idxEq = idx, eqs
			return
		}
	}
}

func splitAnd(e sem.Expr, out *[]sem.Expr) {
	if a, ok := e.(*sem.And); ok {
		splitAnd(a.L, out)
		splitAnd(a.R, out)
		return
	}
	*out = append(*out, e)
}

var flip = map[sem.CmpOp]sem.CmpOp{sem.EQ: sem.EQ, sem.LT: sem.GT, sem.LE: sem.GE, sem.GT: sem.LT, sem.GE: sem.LE}

// boundsOn returns the comparisons of column pos with a constant or a
// parameter of the column's family.
func boundsOn(conj []sem.Expr, pos int, t types.T) []bound {
	var out []bound
	for _, e := range conj {
		c, ok := e.(*sem.Cmp)
		if !ok {
			continue
		}
		if _, ok := flip[c.Op]; !ok {
			continue
		}
		if isCol(c.L, pos) && isValue(c.R, t) {
			out = append(out, bound{op: c.Op, val: c.R})
		} else if isCol(c.R, pos) && isValue(c.L, t) {
			out = append(out, bound{op: flip[c.Op], val: c.L})
		}
	}
	return out
}

func isCol(e sem.Expr, pos int) bool {
	r, ok := e.(*sem.ColRef)
	return ok && r.Idx == pos
}

func isValue(e sem.Expr, t types.T) bool {
	switch e.(type) {
	case *sem.Const, *sem.Param:
		return e.Type().Family == t.Family
	}
	return false
}

func hasEq(bs []bound) bool { return eqOf(bs) != nil }

func eqOf(bs []bound) sem.Expr {
	for _, b := range bs {
		if b.op == sem.EQ {
			return b.val
		}
	}
	return nil
}

func (s *scanNode) rows(c *Ctx) ([]sem.Row, error) {
	kvs, err := s.fetch(c)
	if err != nil {
		return nil, err
	}
	out := make([]sem.Row, 0, len(kvs))
	for _, kv := range kvs {
		row, err := s.codec.DecodeRow(kv.Key, kv.Value)
		if err != nil {
			return nil, err
		}
		if s.filter != nil {
			ok, err := sem.IsTrue(c.Eval, s.filter, row)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		if err := c.growRows("scan", row); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	c.analyze.scanned(s, len(kvs), len(out))
	return out, nil
}

// fetch reads the KV pairs the scan needs.
func (s *scanNode) fetch(c *Ctx) ([]kvapi.KeyValue, error) {
	prefix := s.codec.IndexPrefix(catalog.PrimaryIndexID)
	key, allEq, err := s.eqPrefix(c, prefix)
	if err != nil || key == nil {
		return nil, err // a NULL bound matches nothing
	}
	if allEq {
		v, found, err := c.kv().Get(c.Context, key, s.lock)
		if err != nil || !found {
			return nil, err
		}
		return []kvapi.KeyValue{{Key: key, Value: v}}, nil
	}
	if len(key) == len(prefix) && s.idx != nil {
		return s.indexLookup(c)
	}
	start, end, err := s.span(c, key)
	if err != nil || start == nil {
		return nil, err
	}
	limit, err := s.kvLimit(c)
	if err != nil {
		return nil, err
	}
	return s.scanPushed(c, start, end, limit)
}

// eqPrefix encodes the leading primary key columns bound by equality.
func (s *scanNode) eqPrefix(c *Ctx, prefix []byte) (key []byte, allEq bool, err error) {
	key = append([]byte{}, prefix...)
	n := 0
	for i, bs := range s.pkBounds {
		e := eqOf(bs)
		if e == nil {
			break
		}
		v, err := e.Eval(c.Eval, nil)
		if err != nil || v == nil {
			return nil, false, err
		}
		key = rowenc.AppendDatum(key, s.desc.Table.Columns[s.codec.PKPositions()[i]].Type, v)
		n++
	}
	return key, n > 0 && n == len(s.pkBounds), nil
}

// span narrows [key, PrefixEnd(key)) with range bounds on the next
// primary key column.
func (s *scanNode) span(c *Ctx, key []byte) (start, end []byte, err error) {
	start, end = key, keys.PrefixEnd(key)
	n := len(s.pkBounds)
	i := 0
	for i < n && hasEq(s.pkBounds[i]) {
		i++
	}
	if i >= n {
		return start, end, nil
	}
	t := s.desc.Table.Columns[s.codec.PKPositions()[i]].Type
	for _, b := range s.pkBounds[i] {
		v, err := b.val.Eval(c.Eval, nil)
		if err != nil || v == nil {
			return nil, nil, err
		}
		k := rowenc.AppendDatum(append([]byte{}, key...), t, v)
		switch b.op {
		case sem.GT:
			start = maxKey(start, keys.PrefixEnd(k))
		case sem.GE:
			start = maxKey(start, k)
		case sem.LT:
			end = minKey(end, k)
		case sem.LE:
			end = minKey(end, keys.PrefixEnd(k))
		}
	}
	if string(start) >= string(end) {
		return nil, nil, nil
	}
	return start, end, nil
}

func maxKey(a, b []byte) []byte {
	if string(a) >= string(b) {
		return a
	}
	return b
}

func minKey(a, b []byte) []byte {
	if string(a) <= string(b) {
		return a
	}
	return b
}

// indexLookup reads the entries of a secondary index equal to idxEq, then
// the rows they point to.
func (s *scanNode) indexLookup(c *Ctx) ([]kvapi.KeyValue, error) {
	key := s.codec.IndexPrefix(s.idx.ID)
	t := s.desc.Table
	for i, e := range s.idxEq {
		v, err := e.Eval(c.Eval, nil)
		if err != nil || v == nil {
			return nil, err
		}
		key = rowenc.AppendDatum(key, t.Columns[t.ColumnByID(s.idx.Columns[i])].Type, v)
	}
	entries, err := c.kv().Scan(c.Context, key, keys.PrefixEnd(key), 0, false, s.lock)
	if err != nil {
		return nil, err
	}
	out := make([]kvapi.KeyValue, 0, len(entries))
	for _, ent := range entries {
		pk := s.codec.PrimaryKeyFromSuffix(ent.Value)
		v, found, err := c.kv().Get(c.Context, pk, s.lock)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, kvapi.KeyValue{Key: pk, Value: v})
		}
	}
	return out, nil
}
