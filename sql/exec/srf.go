package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// seriesNode is generate_series(start, stop[, step]) over integers, as a
// FROM item.
type seriesNode struct {
	start, stop, step sem.Expr
}

func (s *seriesNode) rows(c *Ctx) ([]sem.Row, error) {
	var vals [3]types.Datum
	for i, e := range []sem.Expr{s.start, s.stop, s.step} {
		if e == nil {
			vals[i] = int64(1)
			continue
		}
		v, err := e.Eval(c.Eval, nil)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, nil
		}
		vals[i] = v
	}
	start, stop, step := vals[0].(int64), vals[1].(int64), vals[2].(int64)
	if step == 0 {
		return nil, pgcode.New(pgcode.InvalidParameterValue, "step size cannot equal zero")
	}
	var out []sem.Row
	for v := start; (step > 0 && v <= stop) || (step < 0 && v >= stop); v += step {
		if len(out)%4096 == 0 {
			if err := c.Context.Err(); err != nil {
				return nil, err
			}
		}
		out = append(out, sem.Row{v})
		if (step > 0 && v > stop-step) || (step < 0 && v < stop-step) {
			break // the next value would overflow or pass stop
		}
	}
	return out, nil
}

// planFunctionScan plans a function in FROM: generate_series over
// integers.
func (p *Planner) planFunctionScan(rf *pg.RangeFunction) (node, sem.Scope, error) {
	if rf.Lateral || rf.Ordinality || len(rf.Functions) != 1 {
		return nil, nil, sqlerr.Unsupported("this form of function in FROM is not supported yet")
	}
	fc := rf.Functions[0].GetList().GetItems()[0].GetFuncCall()
	if fc != nil && len(fc.Funcname) > 0 && fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval() == "unnest" {
		return p.planUnnest(rf, fc)
	}
	if fc == nil || len(fc.Funcname) == 0 || fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval() != "generate_series" {
		return nil, nil, sqlerr.Unsupported("only generate_series is supported as a function in FROM")
	}
	if len(fc.Args) < 2 || len(fc.Args) > 3 {
		return nil, nil, posErr(pgcode.New(pgcode.UndefinedFunction, "function generate_series with %d arguments does not exist", len(fc.Args)), fc.Location)
	}
	b := p.builder(nil)
	var es [3]sem.Expr
	t := types.Int4
	for i, a := range fc.Args {
		e, err := b.Build(a)
		if err != nil {
			return nil, nil, err
		}
		if e.Type().Family != types.IntFamily && e.Type().Family != types.UnknownFamily {
			return nil, nil, posErr(sqlerr.Unsupported("generate_series over %s is not supported yet", e.Type().Name()), fc.Location)
		}
		if e.Type().OID == types.Int8.OID {
			t = types.Int8
		}
		if es[i], err = b.Coerce(e, types.Int8); err != nil {
			return nil, nil, err
		}
	}
	name, table := "generate_series", "generate_series"
	if rf.Alias != nil {
		table, name = rf.Alias.Aliasname, rf.Alias.Aliasname
		if len(rf.Alias.Colnames) > 0 {
			name = rf.Alias.Colnames[0].GetString_().GetSval()
		}
	}
	return &seriesNode{start: es[0], stop: es[1], step: es[2]}, sem.Scope{{Table: table, Name: name, T: t}}, nil
}
