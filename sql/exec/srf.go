package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

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

// seriesRowBytes is the size of one row of a series (rowBytes of
// sem.Row{int64}) and of its place in the result slice.
const seriesRowBytes = 24 + 16 + 16 + 24

func (s *seriesNode) rows(c *Ctx) ([]sem.Row, error) {
	var out []sem.Row
	err := s.each(c, func(r sem.Row) error {
		out = append(out, r)
		return c.grow("generate_series", seriesRowBytes)
	})
	return out, err
}

// each calls f with each row of the series in turn, without holding them.
func (s *seriesNode) each(c *Ctx, f func(sem.Row) error) error {
	var vals [3]types.Datum
	for i, e := range []sem.Expr{s.start, s.stop, s.step} {
		if e == nil {
			vals[i] = int64(1)
			continue
		}
		v, err := e.Eval(c.Eval, nil)
		if err != nil {
			return err
		}
		if v == nil {
			return nil
		}
		vals[i] = v
	}
	start, stop, step := vals[0].(int64), vals[1].(int64), vals[2].(int64)
	if step == 0 {
		return pgcode.New(pgcode.InvalidParameterValue, "step size cannot equal zero")
	}
	n := 0
	for v := start; (step > 0 && v <= stop) || (step < 0 && v >= stop); v += step {
		if n%4096 == 0 {
			if err := c.Context.Err(); err != nil {
				return err
			}
		}
		n++
		if err := f(sem.Row{v}); err != nil {
			return err
		}
		if (step > 0 && v > stop-step) || (step < 0 && v < stop-step) {
			break // the next value would overflow or pass stop
		}
	}
	return nil
}

// planFunctionScan plans a function in FROM: generate_series over
// integers.
func (p *Planner) planFunctionScan(rf *pg.RangeFunction) (node, sem.Scope, error) {
	if rf.Lateral || len(rf.Functions) != 1 {
		return nil, nil, sqlerr.Unsupported("this form of function in FROM is not supported yet")
	}
	fc := rf.Functions[0].GetList().GetItems()[0].GetFuncCall()
	if srfName(fc) == "pg_partition_ancestors" {
		return p.planPartitionAncestors(rf, fc)
	}
	if rf.Ordinality {
		return nil, nil, sqlerr.Unsupported("this form of function in FROM is not supported yet")
	}
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

func srfName(fc *pg.FuncCall) string {
	if fc == nil || len(fc.Funcname) == 0 {
		return ""
	}
	return fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()
}

// setReturning are the set-returning functions ordo has.
var setReturning = map[string]bool{"generate_series": true, "unnest": true, "pg_partition_ancestors": true}

// srfTargetAsFrom rewrites SELECT srf(...) [AS x] without FROM, whose
// only target is a set-returning function, as SELECT * FROM srf(...) AS
// x(x): the same rows under the same column name, as PostgreSQL returns
// them. It reports false for any other SELECT.
func srfTargetAsFrom(s *pg.SelectStmt) (*pg.SelectStmt, bool) {
	if len(s.FromClause) > 0 || len(s.TargetList) != 1 || s.GroupClause != nil || s.HavingClause != nil || s.DistinctClause != nil {
		return nil, false
	}
	rt := s.TargetList[0].GetResTarget()
	fc := rt.GetVal().GetFuncCall()
	name := srfName(fc)
	if !setReturning[name] || fc.AggStar || fc.Over != nil {
		return nil, false
	}
	if rt.Name != "" {
		name = rt.Name
	}
	out := proto.Clone(s).(*pg.SelectStmt)
	alias := &pg.Alias{Aliasname: name, Colnames: []*pg.Node{pg.MakeStrNode(name)}}
	out.FromClause = []*pg.Node{{Node: &pg.Node_RangeFunction{RangeFunction: &pg.RangeFunction{
		Functions: []*pg.Node{pg.MakeListNode([]*pg.Node{rt.Val, nil})}, Alias: alias}}}}
	out.TargetList = []*pg.Node{pg.MakeResTargetNodeWithVal(pg.MakeColumnRefNode([]*pg.Node{pg.MakeAStarNode()}, rt.Location), rt.Location)}
	return out, true
}

// emptyNode yields no rows.
type emptyNode struct{}

func (emptyNode) rows(*Ctx) ([]sem.Row, error) { return nil, nil }

// planPartitionAncestors plans pg_partition_ancestors(rel) in FROM:
// ordo has no partitioned tables, and PostgreSQL returns no rows for a
// relation that is not a partition (psql's \d adds the relation itself).
func (p *Planner) planPartitionAncestors(rf *pg.RangeFunction, fc *pg.FuncCall) (node, sem.Scope, error) {
	if len(fc.Args) != 1 {
		return nil, nil, posErr(pgcode.New(pgcode.UndefinedFunction, "function pg_partition_ancestors with %d arguments does not exist", len(fc.Args)), fc.Location)
	}
	if _, err := p.builder(nil).Build(fc.Args[0]); err != nil {
		return nil, nil, err
	}
	table, cols := "pg_partition_ancestors", []string{"relid", "ordinality"}
	if rf.Alias != nil {
		table = rf.Alias.Aliasname
		for i, n := range rf.Alias.Colnames {
			if i < len(cols) {
				cols[i] = n.GetString_().GetSval()
			}
		}
	}
	scope := sem.Scope{{Table: table, Name: cols[0], T: types.RegClass}}
	if rf.Ordinality {
		scope = append(scope, sem.ScopeCol{Table: table, Name: cols[1], T: types.Int8})
	}
	return emptyNode{}, scope, nil
}
