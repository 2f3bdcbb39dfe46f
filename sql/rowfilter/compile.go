package rowfilter

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// maxDepth bounds the nesting of a spec's expression.
const maxDepth = 1000

// errMalformed is wrapped by every error of a spec that does not decode.
var errMalformed = errors.New("rowfilter: malformed spec")

// Filter is a compiled spec. It is immutable and safe for concurrent use.
type Filter struct {
	codec *rowenc.Codec
	expr  sem.Expr
}

// leaseEnv is the evaluation environment at a leaseholder: the pushed
// expressions need no session, except that sem.Cast asks for the time
// zone (the pushed casts do not use it).
type leaseEnv struct{ sem.Env }

func (leaseEnv) Location() *time.Location { return time.UTC }

var leaseCtx = &sem.Ctx{Context: context.Background(), Env: leaseEnv{}}

// Compile decodes and checks a spec.
func Compile(spec []byte) (*Filter, error) {
	if len(spec) == 0 || spec[0] != version {
		return nil, fmt.Errorf("rowfilter: unknown spec version")
	}
	r := &reader{b: spec[1:]}
	f := &Filter{}
	var err error
	if f.codec, err = r.table(); err != nil {
		return nil, err
	}
	if f.expr, err = r.pred(0); err != nil {
		return nil, err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(r.b))
	}
	return f, nil
}

// Match decodes a primary index entry and reports whether the filter is
// true for it (false and NULL do not match).
func (f *Filter) Match(key, value []byte) (bool, error) {
	row, err := f.codec.DecodeRow(key, value)
	if err != nil {
		return false, err
	}
	return f.Eval(row)
}

// Eval evaluates the filter on a decoded row.
func (f *Filter) Eval(row sem.Row) (bool, error) { return sem.IsTrue(leaseCtx, f.expr, row) }

// String is the rebuilt expression, for tests.
func (f *Filter) String() string { return f.expr.String() }

// reader decodes a spec; every read is bounds-checked.
type reader struct {
	b    []byte
	cols []types.T
}

func (r *reader) fail(what string) error { return fmt.Errorf("%w: %s", errMalformed, what) }

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, r.fail("uvarint")
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) varint() (int64, error) {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		return 0, r.fail("varint")
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, r.fail("truncated")
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) flag() (bool, error) {
	c, err := r.byte()
	if err == nil && c > 1 {
		err = r.fail("flag")
	}
	return c == 1, err
}

func (r *reader) bytes() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil || n > uint64(len(r.b)) {
		return nil, r.fail("length")
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p, nil
}

func (r *reader) typ() (types.T, error) {
	b, err := r.bytes()
	if err != nil {
		return types.T{}, err
	}
	var t types.T
	if err := json.Unmarshal(b, &t); err != nil {
		return types.T{}, r.fail("type: " + err.Error())
	}
	return t, nil
}

// table reads the columns and primary key into a codec.
func (r *reader) table() (*rowenc.Codec, error) {
	id, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	n, err := r.uvarint()
	if err != nil || n > uint64(len(r.b)) {
		return nil, r.fail("column count")
	}
	t := &catalog.Table{Primary: catalog.Index{ID: catalog.PrimaryIndexID}}
	for range n {
		c, err := r.column(t)
		if err != nil {
			return nil, err
		}
		t.Columns = append(t.Columns, c)
		r.cols = append(r.cols, c.Type)
	}
	if t.Primary.Columns, err = r.primary(t); err != nil {
		return nil, err
	}
	return rowenc.NewCodec(id, t), nil
}

func (r *reader) column(t *catalog.Table) (catalog.Column, error) {
	id, err := r.uvarint()
	if err != nil || id > math.MaxUint32 || t.ColumnByID(uint32(id)) >= 0 {
		return catalog.Column{}, r.fail("column id")
	}
	typ, err := r.typ()
	return catalog.Column{ID: uint32(id), Name: fmt.Sprintf("@%d", id), Type: typ}, err
}

func (r *reader) primary(t *catalog.Table) ([]uint32, error) {
	n, err := r.uvarint()
	if err != nil || n == 0 || n > uint64(len(t.Columns)) {
		return nil, r.fail("primary key")
	}
	ids := make([]uint32, 0, n)
	for range n {
		id, err := r.uvarint()
		if err != nil || id > math.MaxUint32 || t.ColumnByID(uint32(id)) < 0 {
			return nil, r.fail("primary key column")
		}
		ids = append(ids, uint32(id))
	}
	return ids, nil
}

// pred reads a predicate: an expression of kind bool.
func (r *reader) pred(depth int) (sem.Expr, error) {
	if depth > maxDepth {
		return nil, r.fail("too deep")
	}
	if len(r.b) == 0 {
		return nil, r.fail("truncated")
	}
	switch r.b[0] {
	case tagAnd, tagOr:
		return r.logic(depth)
	case tagNot:
		r.b = r.b[1:]
		arg, err := r.pred(depth + 1)
		return &sem.Not{Arg: arg}, err
	case tagBoolTest:
		return r.boolTest(depth)
	case tagIsNull:
		return r.isNull()
	case tagCmp:
		return r.cmp()
	case tagIn:
		return r.in()
	}
	e, k, err := r.operand()
	if err == nil && k != kindBool {
		err = r.fail("not a predicate")
	}
	return e, err
}

func (r *reader) logic(depth int) (sem.Expr, error) {
	tag, _ := r.byte()
	l, err := r.pred(depth + 1)
	if err != nil {
		return nil, err
	}
	rt, err := r.pred(depth + 1)
	if err != nil {
		return nil, err
	}
	if tag == tagAnd {
		return &sem.And{L: l, R: rt}, nil
	}
	return &sem.Or{L: l, R: rt}, nil
}

func (r *reader) boolTest(depth int) (sem.Expr, error) {
	r.b = r.b[1:]
	want, err := r.byte()
	if err != nil || want > 2 {
		return nil, r.fail("bool test")
	}
	not, err := r.flag()
	if err != nil {
		return nil, err
	}
	arg, err := r.pred(depth + 1)
	bt := &sem.BoolTest{Arg: arg, Not: not}
	if want < 2 {
		bt.Want = want == 1
	}
	return bt, err
}

func (r *reader) isNull() (sem.Expr, error) {
	r.b = r.b[1:]
	not, err := r.flag()
	if err != nil {
		return nil, err
	}
	arg, _, err := r.operand()
	return &sem.IsNull{Arg: arg, Not: not}, err
}

func (r *reader) cmp() (sem.Expr, error) {
	r.b = r.b[1:]
	op, err := r.byte()
	if err != nil || sem.CmpOp(op) > sem.NotDistinct {
		return nil, r.fail("comparison operator")
	}
	l, lk, err := r.operand()
	if err != nil {
		return nil, err
	}
	rt, rk, err := r.operand()
	if err != nil {
		return nil, err
	}
	if lk != rk {
		return nil, r.fail("comparison of different types")
	}
	return &sem.Cmp{Op: sem.CmpOp(op), L: l, R: rt}, nil
}

func (r *reader) in() (sem.Expr, error) {
	r.b = r.b[1:]
	not, err := r.flag()
	if err != nil {
		return nil, err
	}
	n, err := r.uvarint()
	if err != nil || n > uint64(len(r.b)) {
		return nil, r.fail("list length")
	}
	arg, k, err := r.operand()
	if err != nil {
		return nil, err
	}
	x := &sem.In{Arg: arg, Not: not, List: make([]sem.Expr, 0, n)}
	for range n {
		it, ik, err := r.operand()
		if err != nil {
			return nil, err
		}
		if _, ok := it.(*sem.Const); !ok || ik != k {
			return nil, r.fail("list item")
		}
		x.List = append(x.List, it)
	}
	return x, nil
}

// operand reads a column, a cast of one, or a constant.
func (r *reader) operand() (sem.Expr, kind, error) {
	tag, err := r.byte()
	if err != nil {
		return nil, kindNone, err
	}
	switch tag {
	case tagCol:
		return r.col()
	case tagCast:
		return r.cast()
	case tagConst:
		return r.constant()
	}
	return nil, kindNone, r.fail(fmt.Sprintf("tag %d", tag))
}

func (r *reader) col() (sem.Expr, kind, error) {
	i, err := r.uvarint()
	if err != nil || i >= uint64(len(r.cols)) {
		return nil, kindNone, r.fail("column position")
	}
	t := r.cols[i]
	k := kindOf(t)
	if k == kindNone {
		return nil, kindNone, r.fail("column type " + t.Name())
	}
	return &sem.ColRef{Idx: int(i), T: t}, k, nil
}

func (r *reader) cast() (sem.Expr, kind, error) {
	assign, err := r.flag()
	if err != nil {
		return nil, kindNone, err
	}
	to, err := r.typ()
	if err != nil {
		return nil, kindNone, err
	}
	if tag, _ := r.byte(); tag != tagCol {
		return nil, kindNone, r.fail("cast of a non-column")
	}
	c, _, err := r.col()
	if err != nil {
		return nil, kindNone, err
	}
	if !safeCast(c.Type(), to) {
		return nil, kindNone, r.fail("cast")
	}
	return &sem.Cast{Arg: c, T: to, Assign: assign}, kindOf(to), nil
}

func (r *reader) constant() (sem.Expr, kind, error) {
	t, err := r.typ()
	if err != nil {
		return nil, kindNone, err
	}
	k := kindOf(t)
	if k == kindNone {
		return nil, kindNone, r.fail("constant type " + t.Name())
	}
	v, err := r.datum(k)
	return &sem.Const{T: t, V: v}, k, err
}

func (r *reader) datum(k kind) (types.Datum, error) {
	present, err := r.flag()
	if err != nil || !present {
		return nil, err
	}
	switch k {
	case kindBool:
		return r.flag()
	case kindInt:
		return r.varint()
	case kindFloat:
		if len(r.b) < 8 {
			return nil, r.fail("float")
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
		return f, nil
	case kindDecimal:
		return r.decimal()
	case kindString:
		s, err := r.bytes()
		return string(s), err
	case kindBytes:
		b, err := r.bytes()
		return append([]byte{}, b...), err
	}
	return r.datumMore(k)
}

func (r *reader) decimal() (types.Datum, error) {
	s, err := r.bytes()
	if err != nil {
		return nil, err
	}
	d, _, err := apd.NewFromString(string(s))
	if err != nil {
		return nil, r.fail("decimal")
	}
	return d, nil
}

func (r *reader) datumMore(k kind) (types.Datum, error) {
	switch k {
	case kindTime:
		sec, err := r.varint()
		if err != nil {
			return nil, err
		}
		ns, err := r.uvarint()
		if err != nil || ns >= 1e9 {
			return nil, r.fail("time")
		}
		return time.Unix(sec, int64(ns)).UTC(), nil
	case kindInterval:
		var f [3]int64
		for i := range f {
			v, err := r.varint()
			if err != nil || (i < 2 && (v < math.MinInt32 || v > math.MaxInt32)) {
				return nil, r.fail("interval")
			}
			f[i] = v
		}
		return pgtype.Interval{Months: int32(f[0]), Days: int32(f[1]), Micros: f[2]}, nil
	case kindUUID:
		if len(r.b) < 16 {
			return nil, r.fail("uuid")
		}
		var u pgtype.UUID
		copy(u[:], r.b)
		r.b = r.b[16:]
		return u, nil
	}
	return nil, r.fail("kind")
}
