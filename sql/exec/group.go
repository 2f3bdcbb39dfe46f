package exec

import (
	"github.com/ordodb/ordo/sql/sem"
)

type group struct {
	keys sem.Row
	accs []*sem.Acc
}

// group evaluates GROUP BY and aggregates: each output row is the group's
// key values followed by its aggregate results. Without GROUP BY there is
// exactly one group, even over no rows.
func (sp *selectPlan) group(c *Ctx, rows []sem.Row) ([]sem.Row, error) {
	groups := map[string]*group{}
	var order []*group
	var buf []byte
	for _, r := range rows {
		keys := make(sem.Row, len(sp.groupBy))
		for i, e := range sp.groupBy {
			v, err := e.Eval(c.Eval, r)
			if err != nil {
				return nil, err
			}
			keys[i] = v
		}
		buf = rowKey(buf[:0], keys, len(keys))
		g, ok := groups[string(buf)]
		if !ok {
			if err := c.grow("hash aggregation", sp.groupBytes(buf, keys)); err != nil {
				return nil, err
			}
			g = sp.newGroup(keys)
			groups[string(buf)] = g
			order = append(order, g)
		}
		if err := sp.accumulate(c, g, r); err != nil {
			return nil, err
		}
	}
	if len(order) == 0 && len(sp.groupBy) == 0 {
		order = append(order, sp.newGroup(nil))
	}
	return sp.groupRows(order)
}

// groupBytes estimates a new group's size: its key, twice (in the map and
// the group), and its accumulators.
func (sp *selectPlan) groupBytes(key []byte, keys sem.Row) int64 {
	return int64(len(key)) + rowBytes(keys) + int64(len(sp.aggs))*160 + 64
}

func (sp *selectPlan) newGroup(keys sem.Row) *group {
	g := &group{keys: keys, accs: make([]*sem.Acc, len(sp.aggs))}
	for i, a := range sp.aggs {
		g.accs[i] = a.NewAcc()
	}
	return g
}

func (sp *selectPlan) accumulate(c *Ctx, g *group, r sem.Row) error {
	for i, a := range sp.aggs {
		var v, sep any
		var err error
		if a.Filter != nil {
			ok, err := sem.IsTrue(c.Eval, a.Filter, r)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if a.Arg != nil {
			if v, err = a.Arg.Eval(c.Eval, r); err != nil {
				return err
			}
		}
		if a.Sep != nil {
			if sep, err = a.Sep.Eval(c.Eval, r); err != nil {
				return err
			}
		}
		if a.Name == "string_agg" || a.Name == "array_agg" { // holds every value
			if err := c.grow("aggregation", datumBytes(v)+datumBytes(sep)); err != nil {
				return err
			}
		}
		if err := g.accs[i].Add(v, sep); err != nil {
			return err
		}
	}
	return nil
}

func (sp *selectPlan) groupRows(groups []*group) ([]sem.Row, error) {
	out := make([]sem.Row, 0, len(groups))
	for _, g := range groups {
		row := make(sem.Row, 0, len(g.keys)+len(g.accs))
		row = append(row, g.keys...)
		for _, acc := range g.accs {
			v, err := acc.Result()
			if err != nil {
				return nil, err
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out, nil
}
