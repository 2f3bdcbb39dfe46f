package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// joinNode is an inner or left join: a hash join on the equality
// conjuncts between the two sides, else a nested loop; on is evaluated on
// each candidate pair.
type joinNode struct {
	left, right           node
	kind                  pg.JoinType
	on                    sem.Expr
	leftWidth, rightWidth int
	// lkeys[i] = rkeys[i] are the hash join keys (columns of each side).
	lkeys, rkeys []int
}

func (p *Planner) planJoin(j *pg.JoinExpr, lock kvapi.Lock) (node, sem.Scope, error) {
	switch j.Jointype {
	case pg.JoinType_JOIN_INNER, pg.JoinType_JOIN_LEFT, pg.JoinType_JOIN_RIGHT:
	default:
		return nil, nil, sqlerr.Unsupported("%s is not supported yet", j.Jointype)
	}
	if j.IsNatural || len(j.UsingClause) > 0 {
		return nil, nil, sqlerr.Unsupported("NATURAL and USING joins are not supported yet")
	}
	l, ls, err := p.planFromItem(j.Larg, lock)
	if err != nil {
		return nil, nil, err
	}
	r, rs, err := p.planFromItem(j.Rarg, lock)
	if err != nil {
		return nil, nil, err
	}
	kind := j.Jointype
	if kind == pg.JoinType_JOIN_RIGHT {
		return p.finishJoin(j, r, rs, l, ls, pg.JoinType_JOIN_LEFT, true)
	}
	return p.finishJoin(j, l, ls, r, rs, kind, false)
}

// finishJoin builds the ON condition; swapped means the sides were
// exchanged for a RIGHT join, so the output columns are permuted back.
func (p *Planner) finishJoin(j *pg.JoinExpr, l node, ls sem.Scope, r node, rs sem.Scope, kind pg.JoinType, swapped bool) (node, sem.Scope, error) {
	scope := append(append(sem.Scope{}, ls...), rs...)
	jn := &joinNode{left: l, right: r, kind: kind, leftWidth: len(ls), rightWidth: len(rs)}
	if j.Quals != nil {
		b := p.builder(scope)
		b.Context = "JOIN/ON"
		e, err := b.Build(j.Quals)
		if err != nil {
			return nil, nil, err
		}
		if e, err = b.Predicate(e); err != nil {
			return nil, nil, err
		}
		jn.on = e
		jn.findHashKeys()
	}
	if !swapped {
		return jn, scope, nil
	}
	perm := &permuteNode{src: jn, split: len(ls), width: len(scope)}
	return perm, append(append(sem.Scope{}, rs...), ls...), nil
}

// permuteNode swaps the two halves of joined rows (RIGHT JOIN).
type permuteNode struct {
	src          node
	split, width int
}

func (pn *permuteNode) rows(c *Ctx) ([]sem.Row, error) {
	rows, err := pn.src.rows(c)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		out := make(sem.Row, 0, pn.width)
		out = append(out, r[pn.split:]...)
		rows[i] = append(out, r[:pn.split]...)
	}
	return rows, nil
}

func (jn *joinNode) findHashKeys() {
	var conj []sem.Expr
	splitAnd(jn.on, &conj)
	for _, e := range conj {
		c, ok := e.(*sem.Cmp)
		if !ok || c.Op != sem.EQ {
			continue
		}
		l, lok := c.L.(*sem.ColRef)
		r, rok := c.R.(*sem.ColRef)
		if !lok || !rok {
			continue
		}
		if l.Idx > r.Idx {
			l, r = r, l
		}
		if l.Idx < jn.leftWidth && r.Idx >= jn.leftWidth {
			jn.lkeys = append(jn.lkeys, l.Idx)
			jn.rkeys = append(jn.rkeys, r.Idx-jn.leftWidth)
		}
	}
}

func (jn *joinNode) rows(c *Ctx) ([]sem.Row, error) {
	left, err := jn.left.rows(c)
	if err != nil {
		return nil, err
	}
	right, err := jn.right.rows(c)
	if err != nil {
		return nil, err
	}
	var index map[string][]int
	var all []int
	if len(jn.lkeys) > 0 {
		index = hashRows(right, jn.rkeys)
	} else {
		all = make([]int, len(right))
		for i := range all {
			all[i] = i
		}
	}
	var out []sem.Row
	for _, l := range left {
		matched := false
		for _, ri := range jn.candidates(l, all, index) {
			row := append(append(make(sem.Row, 0, jn.leftWidth+jn.rightWidth), l...), right[ri]...)
			ok := true
			if jn.on != nil {
				if ok, err = sem.IsTrue(c.Eval, jn.on, row); err != nil {
					return nil, err
				}
			}
			if ok {
				matched = true
				out = append(out, row)
			}
		}
		if !matched && jn.kind == pg.JoinType_JOIN_LEFT {
			out = append(out, append(append(make(sem.Row, 0, jn.leftWidth+jn.rightWidth), l...), make(sem.Row, jn.rightWidth)...))
		}
	}
	return out, nil
}

func hashRows(rows []sem.Row, cols []int) map[string][]int {
	m := make(map[string][]int, len(rows))
	for i, r := range rows {
		k, ok := keyOf(r, cols)
		if ok {
			m[k] = append(m[k], i)
		}
	}
	return m
}

// keyOf encodes the key columns; ok is false when one is NULL (never equal).
func keyOf(r sem.Row, cols []int) (string, bool) {
	sub := make(sem.Row, len(cols))
	for i, c := range cols {
		if r[c] == nil {
			return "", false
		}
		sub[i] = r[c]
	}
	return string(rowKey(nil, sub, len(sub))), true
}

func (jn *joinNode) candidates(l sem.Row, all []int, index map[string][]int) []int {
	if index == nil {
		return all
	}
	k, ok := keyOf(l, jn.lkeys)
	if !ok {
		return nil
	}
	return index[k]
}
