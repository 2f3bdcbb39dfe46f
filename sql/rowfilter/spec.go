package rowfilter

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// version is the first byte of every spec.
const version = 1

// Expression tags of the spec.
const (
	tagCol byte = iota + 1
	tagConst
	tagCmp
	tagAnd
	tagOr
	tagNot
	tagIsNull
	tagIn
	tagBoolTest
	tagCast
)

// Pushable reports whether a leaseholder can evaluate e, a predicate over
// the rows of a table with ncols columns (ColRef.Idx is a column's
// position): see the package doc for what qualifies.
func Pushable(e sem.Expr, ncols int) bool {
	switch x := e.(type) {
	case *sem.And:
		return Pushable(x.L, ncols) && Pushable(x.R, ncols)
	case *sem.Or:
		return Pushable(x.L, ncols) && Pushable(x.R, ncols)
	case *sem.Not:
		return Pushable(x.Arg, ncols)
	case *sem.BoolTest:
		return Pushable(x.Arg, ncols)
	case *sem.IsNull:
		return operandKind(x.Arg, ncols) != kindNone
	case *sem.Cmp:
		k := operandKind(x.L, ncols)
		return k != kindNone && k == operandKind(x.R, ncols)
	case *sem.In:
		return inPushable(x, ncols)
	}
	return operandKind(e, ncols) == kindBool
}

func inPushable(x *sem.In, ncols int) bool {
	k := operandKind(x.Arg, ncols)
	if k == kindNone {
		return false
	}
	for _, it := range x.List {
		if !isValue(it) || kindOf(it.Type()) != k {
			return false
		}
	}
	return true
}

// operandKind is the kind of a pushable operand: a column, a safe cast of
// one, or a value.
func operandKind(e sem.Expr, ncols int) kind {
	switch x := e.(type) {
	case *sem.ColRef:
		if x.Idx < 0 || x.Idx >= ncols {
			return kindNone
		}
		return kindOf(x.T)
	case *sem.Cast:
		if c, ok := x.Arg.(*sem.ColRef); ok {
			if operandKind(c, ncols) == kindNone || !safeCast(c.T, x.T) {
				return kindNone
			}
			return kindOf(x.T)
		}
	}
	if isValue(e) {
		return kindOf(e.Type())
	}
	return kindNone
}

// isValue reports whether e is the same for every row of one execution.
func isValue(e sem.Expr) bool {
	switch x := e.(type) {
	case *sem.Const, *sem.Param, *sem.OuterRef:
		return true
	case *sem.Cast:
		return isValue(x.Arg)
	}
	return false
}

// Encode returns the spec of the Pushable conjuncts conj of a filter over
// table t (ID tableID), and the conjuncts it holds: values are evaluated
// with ec, and a conjunct whose value fails to evaluate (an error the
// gateway reports, if a row reaches it) or has an unexpected type is left
// out. The spec is nil when no conjunct is pushed.
func Encode(ec *sem.Ctx, tableID uint64, t *catalog.Table, conj []sem.Expr) (spec []byte, pushed []sem.Expr, err error) {
	var exprs []byte
	for _, e := range conj {
		if !Pushable(e, len(t.Columns)) {
			continue
		}
		w := writer{ec: ec}
		if err := w.pred(e); err != nil {
			continue
		}
		if len(pushed) > 0 {
			exprs = append([]byte{tagAnd}, exprs...)
		}
		exprs = append(exprs, w.b...)
		pushed = append(pushed, e)
	}
	if len(pushed) == 0 {
		return nil, nil, nil
	}
	w := writer{b: []byte{version}}
	if err := w.table(tableID, t); err != nil {
		return nil, nil, err
	}
	return append(w.b, exprs...), pushed, nil
}

// writer appends a spec.
type writer struct {
	b  []byte
	ec *sem.Ctx
}

func (w *writer) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *writer) bytes(p []byte)   { w.uvarint(uint64(len(p))); w.b = append(w.b, p...) }
func (w *writer) flag(f bool) {
	if f {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// table writes what decoding a row needs: the columns' ids and types (in
// JSON, the catalog's own form of a type) and the primary key's column ids.
func (w *writer) table(id uint64, t *catalog.Table) error {
	w.uvarint(id)
	w.uvarint(uint64(len(t.Columns)))
	for _, c := range t.Columns {
		typ, err := json.Marshal(c.Type)
		if err != nil {
			return fmt.Errorf("rowfilter: column %s: %w", c.Name, err)
		}
		w.uvarint(uint64(c.ID))
		w.bytes(typ)
	}
	w.uvarint(uint64(len(t.Primary.Columns)))
	for _, id := range t.Primary.Columns {
		w.uvarint(uint64(id))
	}
	return nil
}

func (w *writer) typ(t types.T) error {
	b, err := json.Marshal(t)
	w.bytes(b)
	return err
}

// pred writes a Pushable predicate.
func (w *writer) pred(e sem.Expr) error {
	switch x := e.(type) {
	case *sem.And:
		w.b = append(w.b, tagAnd)
		return w.pair(x.L, x.R, w.pred)
	case *sem.Or:
		w.b = append(w.b, tagOr)
		return w.pair(x.L, x.R, w.pred)
	case *sem.Not:
		w.b = append(w.b, tagNot)
		return w.pred(x.Arg)
	case *sem.BoolTest:
		w.b = append(w.b, tagBoolTest, boolTestWant(x.Want))
		w.flag(x.Not)
		return w.pred(x.Arg)
	case *sem.IsNull:
		w.b = append(w.b, tagIsNull)
		w.flag(x.Not)
		return w.operand(x.Arg)
	case *sem.Cmp:
		w.b = append(w.b, tagCmp, byte(x.Op))
		return w.pair(x.L, x.R, w.operand)
	case *sem.In:
		return w.in(x)
	}
	return w.operand(e)
}

func (w *writer) pair(l, r sem.Expr, f func(sem.Expr) error) error {
	if err := f(l); err != nil {
		return err
	}
	return f(r)
}

func boolTestWant(d types.Datum) byte {
	switch d {
	case true:
		return 1
	case false:
		return 0
	}
	return 2
}

func (w *writer) in(x *sem.In) error {
	w.b = append(w.b, tagIn)
	w.flag(x.Not)
	w.uvarint(uint64(len(x.List)))
	if err := w.operand(x.Arg); err != nil {
		return err
	}
	for _, it := range x.List {
		if err := w.operand(it); err != nil {
			return err
		}
	}
	return nil
}

// operand writes a column, a cast of one, or a value evaluated now.
func (w *writer) operand(e sem.Expr) error {
	switch x := e.(type) {
	case *sem.ColRef:
		w.b = append(w.b, tagCol)
		w.uvarint(uint64(x.Idx))
		return nil
	case *sem.Cast:
		if c, ok := x.Arg.(*sem.ColRef); ok {
			w.b = append(w.b, tagCast)
			w.flag(x.Assign)
			if err := w.typ(x.T); err != nil {
				return err
			}
			return w.operand(c)
		}
	}
	v, err := e.Eval(w.ec, nil)
	if err != nil {
		return err
	}
	if v != nil && datumKind(v) != kindOf(e.Type()) {
		return fmt.Errorf("rowfilter: a %s value of Go type %T", e.Type().Name(), v)
	}
	w.b = append(w.b, tagConst)
	if err := w.typ(e.Type()); err != nil {
		return err
	}
	w.datum(v)
	return nil
}

// datum writes a value exactly (the key encoding would truncate times to
// the microsecond and drop a decimal's scale).
func (w *writer) datum(v types.Datum) {
	w.flag(v != nil)
	switch x := v.(type) {
	case bool:
		w.flag(x)
	case int64:
		w.varint(x)
	case float64:
		w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(x))
	case *apd.Decimal:
		w.bytes([]byte(x.String()))
	case string:
		w.bytes([]byte(x))
	case []byte:
		w.bytes(x)
	case time.Time:
		w.varint(x.Unix())
		w.uvarint(uint64(x.Nanosecond()))
	case pgtype.Interval:
		w.varint(int64(x.Months))
		w.varint(int64(x.Days))
		w.varint(x.Micros)
	case pgtype.UUID:
		w.b = append(w.b, x[:]...)
	}
}
