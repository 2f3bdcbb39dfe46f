package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// unnestNode is unnest(array) in FROM: one row per element.
type unnestNode struct{ arg sem.Expr }

func (n *unnestNode) rows(c *Ctx) ([]sem.Row, error) {
	v, err := n.arg.Eval(c.Eval, nil)
	if err != nil || v == nil {
		return nil, err
	}
	elems := v.([]types.Datum)
	out := make([]sem.Row, len(elems))
	for i, e := range elems {
		out[i] = sem.Row{e}
	}
	return out, nil
}

func (p *Planner) planUnnest(rf *pg.RangeFunction, fc *pg.FuncCall) (node, sem.Scope, error) {
	if len(fc.Args) != 1 {
		return nil, nil, posErr(pgcode.New(pgcode.FeatureNotSupported, "unnest of several arrays is not supported"), fc.Location)
	}
	arg, err := p.builder(nil).Build(fc.Args[0])
	if err != nil {
		return nil, nil, err
	}
	if arg.Type().Family != types.ArrayFamily {
		return nil, nil, posErr(pgcode.New(pgcode.UndefinedFunction, "function unnest(%s) does not exist", arg.Type().Name()), fc.Location)
	}
	name, table := "unnest", "unnest"
	if rf.Alias != nil {
		table, name = rf.Alias.Aliasname, rf.Alias.Aliasname
		if len(rf.Alias.Colnames) > 0 {
			name = rf.Alias.Colnames[0].GetString_().GetSval()
		}
	}
	return &unnestNode{arg: arg}, sem.Scope{{Table: table, Name: name, T: arg.Type().Elem()}}, nil
}
