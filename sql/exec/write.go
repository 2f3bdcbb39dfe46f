package exec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/parser"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// writer writes rows of one table: constraint checks, the primary index
// entry and every secondary index entry.
type writer struct {
	desc     *catalog.Descriptor
	codec    *rowenc.Codec
	checks   []sem.Expr
	defaults []sem.Expr // per column; nil = NULL
	// fkChildren are the table's FOREIGN KEYs, fkParents those of other
	// tables on it; pending is what finishFK must check.
	fkChildren []fkChild
	fkParents  []fkParent
	pending    fkPending
	depth      int // levels of referential actions above this writer
}

func (p *Planner) newWriter(d *catalog.Descriptor) (*writer, error) {
	w := &writer{desc: d, codec: rowenc.NewCodec(d.ID, d.Table)}
	scope := tableScope(d, "")
	for _, ch := range d.Table.Checks {
		e, err := p.parseExpr(ch.Expr, scope)
		if err != nil {
			return nil, err
		}
		w.checks = append(w.checks, e)
	}
	for _, col := range d.Table.Columns {
		e, err := p.defaultExpr(col)
		if err != nil {
			return nil, err
		}
		w.defaults = append(w.defaults, e)
	}
	return w, p.loadForeignKeys(w)
}

// parseExpr parses an expression stored as SQL text.
func (p *Planner) parseExpr(text string, scope sem.Scope) (sem.Expr, error) {
	stmts, err := parser.Parse("SELECT " + text)
	if err != nil {
		return nil, fmt.Errorf("stored expression %q: %w", text, err)
	}
	n := stmts[0].AST.GetSelectStmt().TargetList[0].GetResTarget().Val
	return p.builder(scope).Build(n)
}

func (p *Planner) defaultExpr(col catalog.Column) (sem.Expr, error) {
	if col.Hidden {
		return &rowIDExpr{}, nil
	}
	if col.Default == "" {
		return nil, nil
	}
	e, err := p.parseExpr(col.Default, nil)
	if err != nil {
		return nil, err
	}
	return p.builder(nil).AssignTo(e, col.Type, col.Name)
}

// rowIDExpr generates the hidden rowid.
type rowIDExpr struct{}

func (rowIDExpr) Type() types.T  { return types.Int8 }
func (rowIDExpr) String() string { return "unique_rowid()" }
func (rowIDExpr) Eval(c *sem.Ctx, _ sem.Row) (types.Datum, error) {
	g, ok := c.Env.(interface{ UniqueRowID() int64 })
	if !ok {
		return nil, errors.New("exec: no row ID generator")
	}
	return g.UniqueRowID(), nil
}

// check validates NOT NULL and CHECK constraints.
func (w *writer) check(c *Ctx, row sem.Row) error {
	t := w.desc.Table
	for i, col := range t.Columns {
		if col.NotNull && row[i] == nil {
			e := pgcode.New(sqlerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", col.Name, w.desc.Name)
			e.Detail = "Failing row contains " + w.rowString(row) + "."
			return e
		}
	}
	for i, ch := range w.checks {
		v, err := ch.Eval(c.Eval, row)
		if err != nil {
			return err
		}
		if v == false {
			e := pgcode.New(sqlerr.CheckViolation, "new row for relation %q violates check constraint %q", w.desc.Name, t.Checks[i].Name)
			e.Detail = "Failing row contains " + w.rowString(row) + "."
			return e
		}
	}
	return nil
}

func (w *writer) rowString(row sem.Row) string {
	var parts []string
	for i, col := range w.desc.Table.Columns {
		if col.Hidden {
			continue
		}
		parts = append(parts, datumString(col.Type, row[i]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func datumString(t types.T, d types.Datum) string {
	if d == nil {
		return "null"
	}
	return types.String(t, d)
}

// insert writes a new row; a duplicate key is 23505.
func (w *writer) insert(c *Ctx, row sem.Row) error {
	if err := w.check(c, row); err != nil {
		return err
	}
	pk := w.codec.PrimaryKey(row)
	if err := c.insert(pk, w.codec.Value(row), w.dupFunc(&w.desc.Table.Primary, row)); err != nil {
		return err
	}
	for i := range w.desc.Table.Indexes {
		if err := w.putIndex(c, &w.desc.Table.Indexes[i], row); err != nil {
			return err
		}
	}
	w.noteFK(nil, row)
	return nil
}

func (w *writer) putIndex(c *Ctx, idx *catalog.Index, row sem.Row) error {
	k, v, unique := w.codec.IndexEntry(idx, row)
	if !unique {
		return c.put(k, v)
	}
	return c.insert(k, v, w.dupFunc(idx, row))
}

// dupFunc is the 23505 of row on idx, made when an insert finds its key.
func (w *writer) dupFunc(idx *catalog.Index, row sem.Row) func() error {
	return func() error { return w.dupErr(kvapi.ErrKeyExists, idx, row) }
}

// dupErr maps ErrKeyExists on an index to 23505 with PostgreSQL's detail.
func (w *writer) dupErr(err error, idx *catalog.Index, row sem.Row) error {
	if !errors.Is(err, kvapi.ErrKeyExists) {
		return err
	}
	t := w.desc.Table
	vals := make([]string, len(idx.Columns))
	for i, id := range idx.Columns {
		p := t.ColumnByID(id)
		vals[i] = datumString(t.Columns[p].Type, row[p])
	}
	return sqlerr.UniqueViolation(idx.Name, t.ColumnNames(idx.Columns), strings.Join(vals, ", "))
}

// delete removes a row and its index entries.
func (w *writer) delete(c *Ctx, row sem.Row) error {
	if err := c.del(w.codec.PrimaryKey(row)); err != nil {
		return err
	}
	for i := range w.desc.Table.Indexes {
		k, _, _ := w.codec.IndexEntry(&w.desc.Table.Indexes[i], row)
		if err := c.del(k); err != nil {
			return err
		}
	}
	w.noteFK(row, nil)
	return nil
}

// update replaces old with new, rewriting only the entries that changed.
func (w *writer) update(c *Ctx, old, new sem.Row) error {
	if err := w.check(c, new); err != nil {
		return err
	}
	oldPK, newPK := w.codec.PrimaryKey(old), w.codec.PrimaryKey(new)
	if string(oldPK) != string(newPK) {
		if err := c.kv().Delete(c.Context, oldPK); err != nil {
			return err
		}
		if err := c.kv().Insert(c.Context, newPK, w.codec.Value(new)); err != nil {
			return w.dupErr(err, &w.desc.Table.Primary, new)
		}
	} else if err := c.kv().Put(c.Context, newPK, w.codec.Value(new)); err != nil {
		return err
	}
	for i := range w.desc.Table.Indexes {
		if err := w.updateIndex(c, &w.desc.Table.Indexes[i], old, new); err != nil {
			return err
		}
	}
	w.noteFK(old, new)
	return nil
}

func (w *writer) updateIndex(c *Ctx, idx *catalog.Index, old, new sem.Row) error {
	ok, ov, _ := w.codec.IndexEntry(idx, old)
	nk, nv, _ := w.codec.IndexEntry(idx, new)
	if string(ok) == string(nk) && string(ov) == string(nv) {
		return nil
	}
	if err := c.kv().Delete(c.Context, ok); err != nil {
		return err
	}
	return w.putIndex(c, idx, new)
}
