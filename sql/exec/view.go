package exec

import (
	"context"
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// Views. A view's descriptor keeps its query as SQL text with every
// relation schema-qualified at creation, its columns (names and types
// fixed then, as PostgreSQL's), and the relations it names directly
// (View.DependsOn; each of those lists the view in Dependents). A
// statement reading the view plans the stored query as a subquery in its
// own transaction, after locking the view's descriptor shared like a
// table's, so it never runs a stale definition; the view's and the base
// tables' versions become the plan's dependencies.

// lookupRelation finds the relation rv names with lock (nil if its
// descriptor is gone).
func lookupRelation(ctx context.Context, n Names, rv *pg.RangeVar, lock kvapi.Lock) (*catalog.Descriptor, error) {
	_, id, found, err := n.Lookup(ctx, rv.Schemaname, rv.Relname, lock)
	if err != nil {
		return nil, withPos(err, rv.Location)
	}
	if !found {
		return nil, posErr(sqlerr.UndefinedTable(relName(rv)), rv.Location)
	}
	return n.Cat.Get(ctx, id, lock)
}

// resolveRelation finds a table or view a query reads, locking its name
// and descriptor shared.
func (p *Planner) resolveRelation(rv *pg.RangeVar) (*catalog.Descriptor, error) {
	d, err := lookupRelation(p.Ctx, p.names(), rv, kvapi.LockShared)
	if e, ok := err.(*pgcode.Error); ok && e.Code == sqlerr.InvalidSchemaName {
		return nil, posErr(sqlerr.UndefinedTable(relName(rv)), rv.Location)
	}
	if err != nil {
		return nil, err
	}
	if d == nil || (d.Kind != catalog.KindTable && d.Kind != catalog.KindView) {
		return nil, posErr(pgcode.New(sqlerr.WrongObjectType, "%q is not a table", rv.Relname), rv.Location)
	}
	p.deps = append(p.deps, Dep{ID: d.ID, Version: d.Version})
	if len(p.views) == 0 && !slices.Contains(p.refs, d.ID) {
		p.refs = append(p.refs, d.ID)
	}
	return d, nil
}

// planView plans a view read: its stored query as a subquery whose
// columns carry the view's names, types and attnums.
func (p *Planner) planView(d *catalog.Descriptor, rv *pg.RangeVar) (node, sem.Scope, error) {
	if slices.Contains(p.views, d.ID) {
		return nil, nil, pgcode.New(invalidObjectDefinition, "infinite recursion detected in rules for relation %q", d.Name)
	}
	sel, err := parseSelect(d.View.Query)
	if err != nil {
		return nil, nil, err
	}
	outer, ctes := p.outer, p.ctes
	p.outer, p.ctes, p.views = nil, nil, append(p.views, d.ID)
	sub, err := p.planSelect(sel)
	p.outer, p.ctes, p.views = outer, ctes, p.views[:len(p.views)-1]
	if err != nil {
		return nil, nil, err
	}
	cols := d.View.Columns
	if len(sub.cols) < len(cols) {
		return nil, nil, pgcode.New(pgcode.FeatureNotSupported, "view %q no longer matches its definition", d.Name)
	}
	scope := make(sem.Scope, len(cols))
	for i, col := range cols {
		if sub.cols[i].T.OID != col.Type.OID {
			return nil, nil, pgcode.New(pgcode.FeatureNotSupported, "view %q no longer matches its definition", d.Name)
		}
		scope[i] = sem.ScopeCol{Table: aliasOr(rv), Name: col.Name, T: col.Type, TableOID: uint32(d.ID), Attr: uint16(i + 1)}
	}
	if rv.Alias != nil {
		scope = aliasScope(scope, rv.Alias)
	}
	return &viewNode{plan: sub, width: len(cols)}, scope, nil
}

// viewNode reads a view: the rows of its query, cut to the view's
// columns (a SELECT * in the definition gains the columns added to its
// tables since; PostgreSQL expands it at creation).
type viewNode struct {
	plan  *selectPlan
	width int
}

func (v *viewNode) rows(c *Ctx) ([]sem.Row, error) {
	res, err := v.plan.Exec(c)
	if err != nil {
		return nil, err
	}
	for i, r := range res.Rows {
		if len(r) > v.width {
			res.Rows[i] = r[:v.width]
		}
	}
	return res.Rows, nil
}

// parseSelect parses a stored view query.
func parseSelect(q string) (*pg.SelectStmt, error) {
	tree, err := pg.Parse(q)
	if err != nil {
		return nil, err
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil {
		return nil, pgcode.New(pgcode.Internal, "view query is not a SELECT: %s", q)
	}
	return tree.Stmts[0].Stmt.GetSelectStmt(), nil
}

// refuseViewWrite refuses INSERT, UPDATE and DELETE on a view: ordo has
// no automatically updatable views (PostgreSQL makes simple ones
// updatable), so every view answers as PostgreSQL answers for one that
// is not (55000).
func (p *Planner) refuseViewWrite(rv *pg.RangeVar, verb string) error {
	_, id, found, err := p.names().Lookup(p.Ctx, rv.Schemaname, rv.Relname, kvapi.LockShared)
	if err != nil || !found {
		return nil // resolveTable reports it
	}
	d, err := p.Cat.Get(p.Ctx, id, kvapi.LockShared)
	if err != nil || d == nil || d.Kind != catalog.KindView {
		return err
	}
	e := pgcode.New(sqlerr.ObjectNotInPrerequisite, "cannot %s view %q", verb, rv.Relname)
	e.Detail = "Views are not automatically updatable in ordo."
	e.Hint = "Write to the view's base table instead."
	return posErr(e, rv.Location)
}

// invalidObjectDefinition is 42P17 (invalid_object_definition).
const invalidObjectDefinition pgcode.Code = "42P17"
