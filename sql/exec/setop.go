package exec

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// setOpNode is UNION, INTERSECT or EXCEPT [ALL] of two queries whose
// columns have been coerced to common types.
type setOpNode struct {
	op          pg.SetOperation
	all         bool
	left, right *selectPlan
}

func (n *setOpNode) rows(c *Ctx) ([]sem.Row, error) {
	l, err := n.left.Exec(c)
	if err != nil {
		return nil, err
	}
	r, err := n.right.Exec(c)
	if err != nil {
		return nil, err
	}
	width := len(n.left.cols)
	if n.op == pg.SetOperation_SETOP_UNION {
		out := append(l.Rows, r.Rows...)
		if !n.all {
			return distinctRows(c, out, width)
		}
		return out, nil
	}
	counts := map[string]int{}
	var buf []byte
	for _, row := range r.Rows {
		buf = rowKey(buf[:0], row, width)
		if err := c.grow(setOpName(n.op), int64(len(buf))+32); err != nil {
			return nil, err
		}
		counts[string(buf)]++
	}
	intersect := n.op == pg.SetOperation_SETOP_INTERSECT
	emitted := map[string]bool{}
	var out []sem.Row
	for _, row := range l.Rows {
		buf = rowKey(buf[:0], row, width)
		k := string(buf)
		inRight := counts[k] > 0
		if n.all && inRight {
			counts[k]--
		}
		if inRight != intersect || (!n.all && emitted[k]) {
			continue
		}
		emitted[k] = true
		out = append(out, row)
	}
	return out, nil
}

func setOpName(op pg.SetOperation) string {
	return strings.TrimPrefix(op.String(), "SETOP_")
}

// planSetOp plans UNION, INTERSECT or EXCEPT with its ORDER BY and LIMIT.
func (p *Planner) planSetOp(s *pg.SelectStmt) (*selectPlan, error) {
	l, err := p.planSelect(s.Larg)
	if err != nil {
		return nil, err
	}
	r, err := p.planSelect(s.Rarg)
	if err != nil {
		return nil, err
	}
	name := setOpName(s.Op)
	if len(l.cols) != len(r.cols) {
		return nil, pgcode.New(pgcode.SyntaxError, "each %s query must have the same number of columns", name)
	}
	if err := p.unifyArms(name, l, r); err != nil {
		return nil, err
	}
	sp := &selectPlan{src: &setOpNode{op: s.Op, all: s.All, left: l, right: r}}
	scope := make(sem.Scope, len(l.cols))
	for i, c := range l.cols {
		scope[i] = sem.ScopeCol{Name: c.Name, T: c.T}
		sp.proj = append(sp.proj, &sem.ColRef{Idx: i, T: c.T, Name: c.Name})
		sp.cols = append(sp.cols, ResultCol{Name: c.Name, T: c.T})
	}
	if len(s.LockingClause) > 0 {
		return nil, pgcode.New(pgcode.FeatureNotSupported, "FOR UPDATE is not allowed with %s", name)
	}
	return sp, p.planOrderLimit(sp, s, scope, p.builder(scope))
}

// unifyArms gives each column of the two arms one type, as PostgreSQL's
// UNION/CASE type resolution does for the types ordo has.
func (p *Planner) unifyArms(name string, l, r *selectPlan) error {
	b := p.builder(nil)
	for i := range l.cols {
		t, err := setOpType(name, l.cols[i].T, r.cols[i].T, l.untyped(i), r.untyped(i))
		if err != nil {
			return err
		}
		for _, arm := range []*selectPlan{l, r} {
			if err := arm.coerceCol(b, i, t); err != nil {
				return err
			}
		}
	}
	return nil
}

func setOpType(name string, lt, rt types.T, lu, ru bool) (types.T, error) {
	switch {
	case lu && ru:
		return types.Text, nil
	case lu:
		return rt, nil
	case ru:
		return lt, nil
	case lt == rt:
		return lt, nil
	case lt.IsNumeric() && rt.IsNumeric():
		return widerNumeric(lt, rt), nil
	case lt.Family == rt.Family && lt.Family == types.StringFamily:
		return types.Text, nil
	case lt.Family == rt.Family:
		return lt, nil
	}
	return types.T{}, pgcode.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched", name, lt.Name(), rt.Name())
}

func widerNumeric(a, b types.T) types.T {
	rank := func(t types.T) int {
		switch {
		case t.Family == types.FloatFamily:
			return 10
		case t.Family == types.DecimalFamily:
			return 5
		case t.OID == types.Int8.OID:
			return 3
		case t.OID == types.Int4.OID:
			return 2
		}
		return 1
	}
	switch {
	case rank(a) == 10 || rank(b) == 10:
		return types.Float8
	case rank(a) == 5 || rank(b) == 5:
		return types.Numeric
	case rank(b) > rank(a):
		return b
	}
	return a
}

// untyped reports whether output column i is an untyped literal (such as
// 'a' or NULL), whose type the other arm of a set operation decides.
func (sp *selectPlan) untyped(i int) bool {
	return i < len(sp.untypedCols) && sp.untypedCols[i]
}

// coerceCol converts output column i to type t.
func (sp *selectPlan) coerceCol(b *sem.Builder, i int, t types.T) error {
	if sp.cols[i].T == t {
		return nil
	}
	if v := sp.values; v != nil && sp.untyped(i) {
		for _, row := range v.exprs {
			k := row[i].(*sem.Const)
			ce, err := b.Coerce(&sem.Const{T: types.Unknown, V: k.V}, t)
			if err != nil {
				return err
			}
			row[i] = ce
		}
		sp.proj[i], sp.cols[i].T = &sem.ColRef{Idx: i, T: t}, t
		return nil
	}
	e := sp.proj[i]
	if k, ok := e.(*sem.Const); ok && sp.untyped(i) {
		e = &sem.Const{T: types.Unknown, V: k.V}
	}
	ce, err := b.Coerce(e, t)
	if err != nil {
		return err
	}
	if ce.Type() != t {
		ce = &sem.Cast{Arg: ce, T: t}
	}
	if ce.Type().Family != t.Family {
		return fmt.Errorf("exec: cannot coerce %s to %s", e.Type().Name(), t.Name())
	}
	sp.proj[i], sp.cols[i].T = ce, t
	return nil
}
