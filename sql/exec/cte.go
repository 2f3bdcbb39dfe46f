package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// cte is a planned common table expression. Its rows are computed once
// per execution, on first use, and shared by every reference. A
// recursive one (WITH RECURSIVE, a UNION [ALL] whose right arm refers to
// the CTE) is its non-recursive arm's rows, then the recursive arm run
// on the rows of the previous round until a round adds none.
type cte struct {
	name string
	cols []ResultCol
	plan *selectPlan // the query, or the non-recursive arm
	// rec is the recursive arm (nil if not recursive); unionAll keeps
	// duplicates; recursing is set while rec is being planned.
	rec       *selectPlan
	unionAll  bool
	recursing bool
	// referenced is set when rec refers to the CTE.
	referenced bool
}

// pushWith plans a WITH clause's CTEs and makes them visible until pop.
func (p *Planner) pushWith(w *pg.WithClause) (pop func(), err error) {
	frame := map[string]*cte{}
	p.ctes = append(p.ctes, frame)
	pop = func() { p.ctes = p.ctes[:len(p.ctes)-1] }
	for _, n := range w.Ctes {
		c := n.GetCommonTableExpr()
		if _, dup := frame[c.Ctename]; dup {
			pop()
			return nil, posErr(pgcode.New(sqlerr.DuplicateAlias, "WITH query name %q specified more than once", c.Ctename), c.Location)
		}
		ct, err := p.planCTE(c, w.Recursive, frame)
		if err != nil {
			pop()
			return nil, err
		}
		frame[c.Ctename] = ct
	}
	return pop, nil
}

func (p *Planner) planCTE(c *pg.CommonTableExpr, recursive bool, frame map[string]*cte) (*cte, error) {
	sel := c.Ctequery.GetSelectStmt()
	if sel == nil {
		return nil, posErr(sqlerr.Unsupported("data-modifying statements in WITH are not supported yet"), c.Location)
	}
	saved := p.outer
	p.outer = nil
	defer func() { p.outer = saved }()
	ct := &cte{name: c.Ctename}
	if recursive && sel.Op == pg.SetOperation_SETOP_UNION {
		ok, err := p.planRecursive(ct, c, sel, frame)
		if err != nil || ok {
			return ct, err
		}
	}
	sp, err := p.planSelect(sel)
	if err != nil {
		return nil, err
	}
	ct.plan = sp
	return ct, ct.setCols(sp.cols, c)
}

// planRecursive plans a UNION [ALL] CTE whose right arm may refer to the
// CTE; ok is false when it does not (it is then an ordinary CTE).
func (p *Planner) planRecursive(ct *cte, c *pg.CommonTableExpr, sel *pg.SelectStmt, frame map[string]*cte) (bool, error) {
	if sel.WithClause != nil || len(sel.SortClause) > 0 || sel.LimitCount != nil || sel.LimitOffset != nil {
		return false, nil
	}
	base, err := p.planSelect(sel.Larg)
	if err != nil {
		return false, err
	}
	if err := ct.setCols(base.cols, c); err != nil {
		return false, err
	}
	ct.recursing = true
	frame[ct.name] = ct
	rec, err := p.planSelect(sel.Rarg)
	ct.recursing = false
	delete(frame, ct.name)
	if err != nil || !ct.referenced {
		return false, err
	}
	if len(rec.cols) != len(base.cols) {
		return false, pgcode.New(pgcode.SyntaxError, "each UNION query must have the same number of columns")
	}
	b := p.builder(nil)
	for i, col := range base.cols {
		if err := rec.coerceCol(b, i, col.T); err != nil {
			return false, pgcode.New(sqlerr.DatatypeMismatch, "recursive query %q column %d has type %s in non-recursive term but type %s overall",
				ct.name, i+1, col.T.Name(), rec.cols[i].T.Name())
		}
	}
	ct.plan, ct.rec, ct.unionAll = base, rec, sel.All
	return true, nil
}

// setCols names the CTE's columns: its column aliases, else the query's.
func (ct *cte) setCols(cols []ResultCol, c *pg.CommonTableExpr) error {
	if len(c.Aliascolnames) > len(cols) {
		return posErr(pgcode.New(sqlerr.InvalidColumnReference, "WITH query %q has %d columns available but %d columns specified",
			ct.name, len(cols), len(c.Aliascolnames)), c.Location)
	}
	ct.cols = append([]ResultCol{}, cols...)
	for i, n := range c.Aliascolnames {
		ct.cols[i].Name = n.GetString_().GetSval()
	}
	return nil
}

// lookupCTE finds an unqualified name among the CTEs in effect.
func (p *Planner) lookupCTE(rv *pg.RangeVar) (*cte, bool) {
	if rv.Schemaname != "" {
		return nil, false
	}
	for i := len(p.ctes) - 1; i >= 0; i-- {
		if ct, ok := p.ctes[i][rv.Relname]; ok {
			return ct, true
		}
	}
	return nil, false
}

// scan returns a FROM item reading the CTE (its working table inside its
// own recursive arm); inSubquery says the reference is inside a subquery
// expression, where a recursive reference is not allowed.
func (ct *cte) scan(alias string, a *pg.Alias, inSubquery bool) (node, sem.Scope, error) {
	scope := make(sem.Scope, len(ct.cols))
	for i, c := range ct.cols {
		scope[i] = sem.ScopeCol{Table: alias, Name: c.Name, T: c.T}
	}
	if a != nil {
		scope = aliasScope(scope, a)
	}
	if ct.recursing {
		if inSubquery {
			return nil, nil, pgcode.New(sqlerr.InvalidRecursion, "recursive reference to query %q must not appear within a subquery", ct.name)
		}
		ct.referenced = true
		return &cteScanNode{ct: ct, work: true, alias: alias}, scope, nil
	}
	return &cteScanNode{ct: ct, alias: alias}, scope, nil
}

// cteScanNode reads a CTE's rows.
type cteScanNode struct {
	ct    *cte
	work  bool
	alias string // for EXPLAIN
}

func (n *cteScanNode) rows(c *Ctx) ([]sem.Row, error) {
	var rows []sem.Row
	if n.work {
		rows = c.workRows[n.ct]
	} else {
		var err error
		if rows, err = n.ct.materialize(c); err != nil {
			return nil, err
		}
	}
	return append([]sem.Row(nil), rows...), nil // operators filter in place
}

func (ct *cte) materialize(c *Ctx) ([]sem.Row, error) {
	if rows, ok := c.cteRows[ct]; ok {
		return rows, nil
	}
	res, err := ct.plan.Exec(c)
	if err != nil {
		return nil, err
	}
	rows := res.Rows
	if ct.rec != nil {
		if rows, err = ct.iterate(c, rows); err != nil {
			return nil, err
		}
	}
	if c.cteRows == nil {
		c.cteRows = map[*cte][]sem.Row{}
	}
	c.cteRows[ct] = rows
	return rows, nil
}

// iterate runs the recursive arm until it produces no new rows.
func (ct *cte) iterate(c *Ctx, base []sem.Row) ([]sem.Row, error) {
	width := len(ct.cols)
	seen := map[string]bool{}
	var buf []byte
	var seenBytes int64
	fresh := func(rows []sem.Row) []sem.Row {
		if ct.unionAll {
			return rows
		}
		out := rows[:0]
		for _, r := range rows {
			buf = rowKey(buf[:0], r, width)
			if !seen[string(buf)] {
				seen[string(buf)] = true
				out = append(out, r)
				seenBytes += int64(len(buf)) + 32
			}
		}
		return out
	}
	all := fresh(base)
	work := all
	if c.workRows == nil {
		c.workRows = map[*cte][]sem.Row{}
	}
	for len(work) > 0 {
		if err := c.Context.Err(); err != nil {
			return nil, err
		}
		c.workRows[ct] = work
		res, err := ct.rec.Exec(c)
		if err != nil {
			return nil, err
		}
		seenBytes = 0
		work = fresh(res.Rows)
		if err := c.grow("recursive CTE", seenBytes); err != nil {
			return nil, err
		}
		all = append(all, work...)
	}
	delete(c.workRows, ct)
	return all, nil
}
