package exec

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// subPlan runs a subquery of an expression (sem.Subquery).
type subPlan struct{ plan *selectPlan }

func (s *subPlan) Run(c *sem.Ctx) ([]sem.Row, error) {
	ec, ok := c.Exec.(*Ctx)
	if !ok {
		return nil, fmt.Errorf("exec: subquery evaluated without an executor context")
	}
	defer ec.release(ec.memUsed) // the expression keeps what it needs
	res, err := s.plan.Exec(ec)
	if err != nil {
		return nil, err
	}
	return res.Rows, nil
}

// planSubLink plans a subquery in an expression built by b: b's scope is
// pushed as the innermost outer scope while the subquery is planned.
func (p *Planner) planSubLink(sel *pg.SelectStmt, b *sem.Builder) (sem.SubPlan, []types.T, bool, error) {
	frame := b.OuterScope()
	saved := p.outer
	p.outer = append(append([]*sem.OuterScope{}, b.Outer...), frame)
	defer func() { p.outer = saved }()
	sp, err := p.planSelect(sel)
	if err != nil {
		return nil, nil, false, err
	}
	ts := make([]types.T, len(sp.cols))
	for i, c := range sp.cols {
		ts[i] = c.T
	}
	return &subPlan{plan: sp}, ts, frame.Used, nil
}
