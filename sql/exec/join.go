package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// joinNode is an inner, left or full join: a hash join on the equality
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
	case pg.JoinType_JOIN_INNER, pg.JoinType_JOIN_LEFT, pg.JoinType_JOIN_RIGHT, pg.JoinType_JOIN_FULL:
	default:
		return nil, nil, sqlerr.Unsupported("%s is not supported yet", j.Jointype)
	}
	n, scope, err := p.planJoinSides(j, lock)
	if err != nil || j.Alias == nil {
		return n, scope, err
	}
	return n, aliasScope(scope, j.Alias), nil
}

// aliasScope renames a FROM item's columns for its alias (and column
// aliases).
func aliasScope(scope sem.Scope, a *pg.Alias) sem.Scope {
	out := make(sem.Scope, 0, len(scope))
	i := 0
	for _, c := range scope {
		if c.QualifiedOnly {
			c.Table = "" // unreachable under the alias, as in PostgreSQL
			out = append(out, c)
			continue
		}
		c.Table = a.Aliasname
		if !c.Hidden && i < len(a.Colnames) {
			c.Name = a.Colnames[i].GetString_().GetSval()
			i++
		}
		out = append(out, c)
	}
	return out
}

func (p *Planner) planJoinSides(j *pg.JoinExpr, lock kvapi.Lock) (node, sem.Scope, error) {
	l, ls, err := p.planFromItem(j.Larg, lock)
	if err != nil {
		return nil, nil, err
	}
	r, rs, err := p.planFromItem(j.Rarg, lock)
	if err != nil {
		return nil, nil, err
	}
	if j.IsNatural || len(j.UsingClause) > 0 {
		return p.planUsingJoin(j, l, ls, r, rs)
	}
	var on sem.Expr
	if j.Quals != nil {
		b := p.builder(append(append(sem.Scope{}, ls...), rs...))
		b.Context = "JOIN/ON"
		if on, err = b.Build(j.Quals); err != nil {
			return nil, nil, err
		}
		if on, err = b.Predicate(on); err != nil {
			return nil, nil, err
		}
	}
	return p.joinOn(j.Jointype, l, ls, r, rs, on)
}

// joinOn joins l and r on the condition on (over their concatenated
// columns), as a hash join when it has equality conjuncts between them.
func (p *Planner) joinOn(kind pg.JoinType, l node, ls sem.Scope, r node, rs sem.Scope, on sem.Expr) (node, sem.Scope, error) {
	jn := &joinNode{left: l, right: r, kind: kind, on: on, leftWidth: len(ls), rightWidth: len(rs)}
	if on != nil {
		jn.findHashKeys()
	}
	return jn, append(append(sem.Scope{}, ls...), rs...), nil
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
	left, err := runNode(c, jn.left)
	if err != nil {
		return nil, err
	}
	right, err := runNode(c, jn.right)
	if err != nil {
		return nil, err
	}
	var index map[string][]int
	var all []int
	if len(jn.lkeys) > 0 {
		if index, err = hashRows(c, right, jn.rkeys); err != nil {
			return nil, err
		}
	} else {
		all = make([]int, len(right))
		for i := range all {
			all[i] = i
		}
	}
	var out []sem.Row
	var rightMatched []bool
	if jn.kind == pg.JoinType_JOIN_FULL || jn.kind == pg.JoinType_JOIN_RIGHT {
		rightMatched = make([]bool, len(right))
	}
	for _, l := range left {
		if err := c.Context.Err(); err != nil {
			return nil, err
		}
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
				if err := c.growRows("join", row); err != nil {
					return nil, err
				}
				matched = true
				out = append(out, row)
				if rightMatched != nil {
					rightMatched[ri] = true
				}
			}
		}
		if !matched && (jn.kind == pg.JoinType_JOIN_LEFT || jn.kind == pg.JoinType_JOIN_FULL) {
			out = append(out, append(append(make(sem.Row, 0, jn.leftWidth+jn.rightWidth), l...), make(sem.Row, jn.rightWidth)...))
		}
	}
	for ri, m := range rightMatched {
		if !m {
			out = append(out, append(make(sem.Row, jn.leftWidth, jn.leftWidth+jn.rightWidth), right[ri]...))
		}
	}
	return out, nil
}

// hashRows is a hash join's table: the positions of rows by key.
func hashRows(c *Ctx, rows []sem.Row, cols []int) (map[string][]int, error) {
	m := make(map[string][]int, len(rows))
	for i, r := range rows {
		k, ok := keyOf(r, cols)
		if !ok {
			continue
		}
		if err := c.grow("hash join", int64(len(k))+48); err != nil {
			return nil, err
		}
		m[k] = append(m[k], i)
	}
	return m, nil
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
