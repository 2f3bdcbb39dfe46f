package exec

import (
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// usingNode puts the merged columns of a USING or NATURAL join in front
// of the joined row: the left value, the right one for RIGHT joins, the
// first non-NULL of the two for FULL joins.
type usingNode struct {
	src   node
	lcols []int // positions in the joined row
	rcols []int
	kind  pg.JoinType
}

func (u *usingNode) rows(c *Ctx) ([]sem.Row, error) {
	rows, err := runNode(c, u.src)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		out := make(sem.Row, len(u.lcols), len(u.lcols)+len(r))
		for k := range u.lcols {
			l, rv := r[u.lcols[k]], r[u.rcols[k]]
			switch {
			case u.kind == pg.JoinType_JOIN_RIGHT, u.kind == pg.JoinType_JOIN_FULL && l == nil:
				out[k] = rv
			default:
				out[k] = l
			}
		}
		rows[i] = append(out, r...)
	}
	return rows, nil
}

// usingNames returns the join's USING columns, or for NATURAL the names
// the two sides share (in the left side's order).
func usingNames(j *pg.JoinExpr, ls, rs sem.Scope) []string {
	if !j.IsNatural {
		names := make([]string, len(j.UsingClause))
		for i, n := range j.UsingClause {
			names[i] = n.GetString_().GetSval()
		}
		return names
	}
	var names []string
	for _, c := range ls {
		if c.Hidden || c.QualifiedOnly || slices.Contains(names, c.Name) {
			continue
		}
		if _, err := rs.Resolve("", c.Name, 0); err == nil {
			names = append(names, c.Name)
		}
	}
	return names
}

// planUsingJoin plans a join whose condition is equality on the USING
// (or, for NATURAL, the shared) columns.
func (p *Planner) planUsingJoin(j *pg.JoinExpr, l node, ls sem.Scope, r node, rs sem.Scope) (node, sem.Scope, error) {
	names := usingNames(j, ls, rs)
	ls, rs = append(sem.Scope{}, ls...), append(sem.Scope{}, rs...)
	scope := append(append(sem.Scope{}, ls...), rs...)
	b := p.builder(scope)
	u := &usingNode{kind: j.Jointype}
	var merged sem.Scope
	var on sem.Expr
	for _, name := range names {
		li, err := ls.Resolve("", name, 0)
		if err != nil {
			return nil, nil, usingErr(err, name, "left", -1)
		}
		ri, err := rs.Resolve("", name, 0)
		if err != nil {
			return nil, nil, usingErr(err, name, "right", -1)
		}
		cmp, err := b.Compare("=", &sem.ColRef{Idx: li, T: ls[li].T, Name: name}, &sem.ColRef{Idx: len(ls) + ri, T: rs[ri].T, Name: name})
		if err != nil {
			return nil, nil, posErr(err.(*pgcode.Error), -1)
		}
		if on == nil {
			on = cmp
		} else {
			on = &sem.And{L: on, R: cmp}
		}
		t := ls[li].T
		if j.Jointype == pg.JoinType_JOIN_RIGHT {
			t = rs[ri].T
		}
		merged = append(merged, sem.ScopeCol{Name: name, T: t})
		u.lcols, u.rcols = append(u.lcols, li), append(u.rcols, len(ls)+ri)
		ls[li].QualifiedOnly, rs[ri].QualifiedOnly = true, true
	}
	src, _, err := p.joinOn(j.Jointype, l, ls, r, rs, on)
	if err != nil {
		return nil, nil, err
	}
	u.src = src
	return u, append(append(merged, ls...), rs...), nil
}

func usingErr(err error, name, side string, loc int32) error {
	if pe, ok := err.(*pgcode.Error); ok && pe.Code == sqlerr.AmbiguousColumn {
		return posErr(pgcode.New(sqlerr.AmbiguousColumn, "common column name %q appears more than once in %s table", name, side), loc)
	}
	return posErr(pgcode.New(sqlerr.UndefinedColumn, "column %q specified in USING clause does not exist in %s table", name, side), loc)
}
