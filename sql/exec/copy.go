package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/types"
)

// CopyTarget inserts the rows of a COPY FROM one at a time, with the
// checks, defaults and index maintenance of INSERT.
type CopyTarget struct {
	ip *insertPlan
}

// PrepareCopy resolves COPY FROM's table and column list (all visible
// columns when cols is empty), locking the descriptor shared.
func (p *Planner) PrepareCopy(rv *pg.RangeVar, cols []*pg.Node) (*CopyTarget, error) {
	d, err := p.resolveTable(rv)
	if err != nil {
		return nil, err
	}
	w, err := p.newWriter(d)
	if err != nil {
		return nil, err
	}
	ip := &insertPlan{w: w, deps: p.deps}
	if ip.targets, err = insertTargets(d, copyColumns(cols)); err != nil {
		return nil, err
	}
	return &CopyTarget{ip: ip}, nil
}

// Table is the target table's name.
func (ct *CopyTarget) Table() string { return ct.ip.w.desc.Name }

// Columns are the target columns, in the order of the data's fields.
func (ct *CopyTarget) Columns() []catalog.Column {
	out := make([]catalog.Column, len(ct.ip.targets))
	for i, t := range ct.ip.targets {
		out[i] = ct.ip.w.desc.Table.Columns[t]
	}
	return out
}

// Insert writes one row; vals holds one value per target column (already
// of the column's type; nil is NULL). Unlisted columns get their defaults.
func (ct *CopyTarget) Insert(c *Ctx, vals []types.Datum) error {
	ptrs := make([]*types.Datum, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	row, err := ct.ip.buildRow(c, ptrs)
	if err != nil {
		return err
	}
	if err := ct.ip.w.insert(c, row); err != nil {
		return err
	}
	return ct.ip.w.finishFK(c)
}

// copyColumns turns COPY's column names into INSERT's target nodes.
func copyColumns(cols []*pg.Node) []*pg.Node {
	out := make([]*pg.Node, len(cols))
	for i, c := range cols {
		rt := &pg.ResTarget{Name: c.GetString_().GetSval(), Location: -1}
		out[i] = &pg.Node{Node: &pg.Node_ResTarget{ResTarget: rt}}
	}
	return out
}
