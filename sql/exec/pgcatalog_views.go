package exec

import (
	"strconv"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// Views in the catalogs: pg_class (relkind 'v', relhasrules as
// PostgreSQL's _RETURN rule sets it), pg_attribute, pg_views,
// information_schema.views, .tables and .columns, pg_get_viewdef. ordo's
// views are not updatable, so information_schema says NO where
// PostgreSQL would say YES for a simple view.

func init() {
	sem.RegisterFunc("pg_get_viewdef", []types.T{types.Oid, types.Bool}, 1, types.Text, getViewDef)
}

// schemaViews is schemaDescs' views.
func schemaViews(c *Ctx) ([]*catalog.Descriptor, error) {
	ds, err := schemaDescs(c)
	var out []*catalog.Descriptor
	for _, d := range ds {
		if d.Kind == catalog.KindView && d.View != nil {
			out = append(out, d)
		}
	}
	return out, err
}

// withViews returns rows followed by more.
func withViews(rows, more func(*Ctx) ([]sem.Row, error)) func(*Ctx) ([]sem.Row, error) {
	return func(c *Ctx) ([]sem.Row, error) {
		a, err := rows(c)
		if err != nil {
			return nil, err
		}
		b, err := more(c)
		return append(a, b...), err
	}
}

// classHasRules is relhasrules' position in a pg_class row.
const classHasRules = 16

func viewClassRow(d *catalog.Descriptor, nsp int64) sem.Row {
	r := classRow(int64(d.ID), d.Name, nsp, "v", 0, len(d.View.Columns), false, 0)
	r[classHasRules] = true
	return r
}

func viewAttributeRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaViews(c)
	var out []sem.Row
	for _, d := range ds {
		for i, col := range d.View.Columns {
			out = append(out, attributeRow(int64(d.ID), col, i+1))
		}
	}
	return out, err
}

func pgViewsRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaViews(c)
	var out []sem.Row
	for _, d := range ds {
		out = append(out, sem.Row{schemaOf(c, d), d.Name, c.Eval.Env.User(), d.View.Definition})
	}
	return out, err
}

func infoViewsRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaViews(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		out = append(out, sem.Row{db, schemaOf(c, d), d.Name, d.View.Definition, "NONE", "NO", "NO", "NO", "NO", "NO"})
	}
	return out, err
}

func infoViewTablesRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaViews(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		out = append(out, sem.Row{db, schemaOf(c, d), d.Name, "VIEW", nil, nil, nil, nil, nil, "NO", "NO", nil})
	}
	return out, err
}

func infoViewColumnsRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaViews(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		for i, col := range d.View.Columns {
			n := int64(i + 1)
			row := sem.Row{db, schemaOf(c, d), d.Name, col.Name, n, nil, "YES", infoDataType(col.Type)}
			row = append(row, typeMetrics(col.Type)...)
			row = append(row, db, "pg_catalog", col.Type.TypName(), strconv.FormatInt(n, 10), "NO", "NEVER", "NO")
			out = append(out, row)
		}
	}
	return out, err
}

// getViewDef is pg_get_viewdef(oid [, pretty]); NULL for an OID that is
// not a view's.
func getViewDef(c *sem.Ctx, a []types.Datum) (types.Datum, error) {
	x, err := execCtx(c)
	if err != nil {
		return nil, err
	}
	oid := a[0].(int64)
	if oid <= 0 || oid >= conOIDBase {
		return nil, nil
	}
	d, err := x.Cat.Get(x.Context, uint64(oid), kvapi.LockShared)
	if err != nil || d == nil || d.Kind != catalog.KindView {
		return nil, err
	}
	if len(a) > 1 && a[1] == true {
		return d.View.Pretty, nil
	}
	return d.View.Definition, nil
}
