package exec

import (
	"fmt"
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

func (c *Ctx) planner() *Planner {
	return &Planner{Ctx: c.Context, Cat: c.Cat, DBID: c.DBID, SearchPath: c.SearchPath, Params: sem.NewParams(nil), Env: c.Eval.Env}
}

func skipNotice(c *Ctx, format string, args ...any) {
	c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion, Message: fmt.Sprintf(format, args...)})
}

func undefinedColumn(col, table string) *pgcode.Error {
	return pgcode.New(sqlerr.UndefinedColumn, "column %q of relation %q does not exist", col, table)
}

// copyTable returns a copy of t whose slices may be changed.
func copyTable(t *catalog.Table) *catalog.Table {
	nt := *t
	nt.Columns = slices.Clone(t.Columns)
	nt.Indexes = slices.Clone(t.Indexes)
	nt.Checks = slices.Clone(t.Checks)
	nt.ForeignKeys = slices.Clone(t.ForeignKeys)
	return &nt
}

// rewriteTable rewrites every row of d, stored under the schema old, with
// d's current columns (matched by ID; new ones start NULL), calling fill
// on each new row before it is written. The primary key must not change.
func rewriteTable(c *Ctx, d *catalog.Descriptor, old *catalog.Table, fill func(sem.Row) error) error {
	oc, nc := rowenc.NewCodec(d.ID, old), rowenc.NewCodec(d.ID, d.Table)
	p := oc.IndexPrefix(catalog.PrimaryIndexID)
	kvs, err := c.kv().Scan(c.Context, p, keys.PrefixEnd(p), 0, false, kvapi.LockExclusive)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		row, err := oc.DecodeRow(kv.Key, kv.Value)
		if err != nil {
			return err
		}
		nr := make(sem.Row, len(d.Table.Columns))
		for j, col := range d.Table.Columns {
			if p := old.ColumnByID(col.ID); p >= 0 {
				nr[j] = row[p]
			}
		}
		if err := fill(nr); err != nil {
			return err
		}
		if err := c.kv().Put(c.Context, kv.Key, nc.Value(nr)); err != nil {
			return err
		}
	}
	return nil
}

// addColumn runs ADD COLUMN: existing rows get the column's default
// (evaluated per row, as PostgreSQL does for volatile ones), and its
// constraints are checked against them.
func addColumn(c *Ctx, d *catalog.Descriptor, cmd *pg.AlterTableCmd) error {
	cd := cmd.Def.GetColumnDef()
	if d.Table.ColumnIndex(cd.Colname) >= 0 {
		if cmd.MissingOk {
			skipNotice(c, "column %q of relation %q already exists, skipping", cd.Colname, d.Name)
			return nil
		}
		return pgcode.New(sqlerr.DuplicateColumn, "column %q of relation %q already exists", cd.Colname, d.Name)
	}
	old := copyTable(d.Table)
	tb := &tableBuilder{c: c, schemaID: d.ParentID, name: d.Name, t: d.Table}
	if err := tb.column(cd); err != nil {
		return err
	}
	if tb.pk != nil && !hasHiddenPK(old) {
		return pgcode.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", d.Name)
	}
	placeBeforeHidden(d.Table)
	if err := tb.validateExprs(); err != nil {
		return err
	}
	if err := addOwnedSequences(c, d, tb.seqs); err != nil {
		return err
	}
	col := d.Table.Columns[d.Table.ColumnIndex(cd.Colname)]
	if col.Default != "" || col.NotNull || len(d.Table.Checks) > len(old.Checks) {
		if err := fillColumn(c, d, old, col); err != nil {
			return err
		}
	}
	if tb.pk != nil {
		keys := []*pg.Node{pg.MakeStrNode(col.Name)}
		if err := addPrimaryKey(c, d, &pg.Constraint{Contype: pg.ConstrType_CONSTR_PRIMARY, Keys: keys, Location: -1}); err != nil {
			return err
		}
	}
	for _, u := range tb.uniques {
		if err := addUniqueIndex(c, d, "", u); err != nil {
			return err
		}
	}
	return addColumnForeignKeys(c, tb, d)
}

// addColumnForeignKeys adds the REFERENCES of an added column and checks
// the rows' values (its default's) against the parent.
func addColumnForeignKeys(c *Ctx, tb *tableBuilder, d *catalog.Descriptor) error {
	if len(tb.fks) == 0 {
		return nil
	}
	for _, f := range tb.fks {
		if err := tb.addForeignKey(d, f); err != nil {
			return err
		}
	}
	w, err := c.planner().newWriter(d)
	if err != nil {
		return err
	}
	return scanTable(c, d, kvapi.LockShared, func(row sem.Row) error { return w.checkParents(c, row, nil) })
}

// placeBeforeHidden moves the last column before the hidden rowid, so
// the visible columns keep PostgreSQL's attribute numbers.
func placeBeforeHidden(t *catalog.Table) {
	n := len(t.Columns) - 1
	for i := range n {
		if t.Columns[i].Hidden {
			col := t.Columns[n]
			copy(t.Columns[i+1:], t.Columns[i:n])
			t.Columns[i] = col
			return
		}
	}
}

func addOwnedSequences(c *Ctx, d *catalog.Descriptor, seqs []*catalog.Descriptor) error {
	for _, seq := range seqs {
		seq.Sequence.OwnedBy = d.ID
		if _, err := c.Cat.Create(c.Context, d.ParentID, seq); err != nil {
			return nameErr(err, seq.Name)
		}
	}
	return nil
}

// fillColumn writes the new column's default into every row and checks
// NOT NULL and the table's CHECK constraints on the result.
func fillColumn(c *Ctx, d *catalog.Descriptor, old *catalog.Table, col catalog.Column) error {
	w, err := c.planner().newWriter(d)
	if err != nil {
		return err
	}
	pos := d.Table.ColumnIndex(col.Name)
	return rewriteTable(c, d, old, func(row sem.Row) error {
		if def := w.defaults[pos]; def != nil {
			v, err := def.Eval(c.Eval, nil)
			if err != nil {
				return err
			}
			row[pos] = v
		}
		if col.NotNull && row[pos] == nil {
			return pgcode.New(sqlerr.NotNullViolation, "column %q of relation %q contains null values", col.Name, d.Name)
		}
		return w.validateChecks(c, row, nil)
	})
}

// validateChecks evaluates the CHECK constraints (those named in only, or
// all) on an existing row: 23514 as when a constraint is added.
func (w *writer) validateChecks(c *Ctx, row sem.Row, only map[string]bool) error {
	for i, ch := range w.checks {
		name := w.desc.Table.Checks[i].Name
		if only != nil && !only[name] {
			continue
		}
		v, err := ch.Eval(c.Eval, row)
		if err != nil {
			return err
		}
		if v == false {
			return pgcode.New(sqlerr.CheckViolation, "check constraint %q of relation %q is violated by some row", name, w.desc.Name)
		}
	}
	return nil
}

// dropColumn runs DROP COLUMN: the indexes and constraints that use the
// column go with it, as does a SERIAL or identity column's sequence, and
// every row is rewritten without its value.
func dropColumn(c *Ctx, d *catalog.Descriptor, cmd *pg.AlterTableCmd) error {
	t := d.Table
	pos := t.ColumnIndex(cmd.Name)
	if pos < 0 || t.Columns[pos].Hidden {
		if cmd.MissingOk {
			skipNotice(c, "column %q of relation %q does not exist, skipping", cmd.Name, d.Name)
			return nil
		}
		return undefinedColumn(cmd.Name, d.Name)
	}
	col := t.Columns[pos]
	cascade := cmd.Behavior == pg.DropBehavior_DROP_CASCADE
	if slices.Contains(t.Primary.Columns, col.ID) {
		if err := dropPrimaryKey(c, d, cascade); err != nil {
			return err
		}
		t = d.Table
	}
	if err := checkNotReferenced(c, d, col.ID, cascade); err != nil {
		return err
	}
	old := copyTable(t)
	t.Columns = slices.Delete(t.Columns, pos, pos+1)
	if err := dropColumnIndexes(c, d, col.ID); err != nil {
		return err
	}
	if err := dropColumnChecks(t, col.Name); err != nil {
		return err
	}
	t.ForeignKeys = slices.DeleteFunc(t.ForeignKeys, func(fk catalog.ForeignKey) bool { return slices.Contains(fk.Columns, col.ID) })
	if err := unlinkParents(c, d, old.ForeignKeys); err != nil {
		return err
	}
	if err := dropColumnSequence(c, d, col); err != nil {
		return err
	}
	return rewriteTable(c, d, old, func(sem.Row) error { return nil })
}

func dropColumnIndexes(c *Ctx, d *catalog.Descriptor, id uint32) error {
	var keep []catalog.Index
	for _, idx := range d.Table.Indexes {
		if !slices.Contains(idx.Columns, id) {
			keep = append(keep, idx)
			continue
		}
		if err := deleteIndexData(c, d, &idx); err != nil {
			return err
		}
	}
	d.Table.Indexes = keep
	return nil
}

func deleteIndexData(c *Ctx, d *catalog.Descriptor, idx *catalog.Index) error {
	p := keys.IndexPrefix(d.ID, uint64(idx.ID))
	return c.kv().DeleteRange(c.Context, p, keys.PrefixEnd(p))
}

func dropColumnChecks(t *catalog.Table, name string) error {
	var keep []catalog.Check
	for _, ch := range t.Checks {
		uses, err := exprMentions(ch.Expr, name)
		if err != nil {
			return err
		}
		if !uses {
			keep = append(keep, ch)
		}
	}
	t.Checks = keep
	return nil
}

// dropColumnSequence drops the sequence a SERIAL or identity column owns.
func dropColumnSequence(c *Ctx, d *catalog.Descriptor, col catalog.Column) error {
	name, ok := defaultSequence(col.Default)
	if !ok {
		return nil
	}
	id, found, err := c.Cat.LookupID(c.Context, d.ParentID, name, kvapi.LockExclusive)
	if err != nil || !found {
		return err
	}
	seq, err := c.Cat.Get(c.Context, id, kvapi.LockExclusive)
	if err != nil || seq == nil || seq.Sequence == nil || seq.Sequence.OwnedBy != d.ID {
		return err
	}
	return deleteSequence(c, seq)
}

// setDefault runs ALTER COLUMN SET DEFAULT and DROP DEFAULT.
func setColumnDefault(c *Ctx, d *catalog.Descriptor, cmd *pg.AlterTableCmd) error {
	pos := d.Table.ColumnIndex(cmd.Name)
	if pos < 0 || d.Table.Columns[pos].Hidden {
		return undefinedColumn(cmd.Name, d.Name)
	}
	col := &d.Table.Columns[pos]
	if col.Identity != "" {
		e := pgcode.New(pgcode.SyntaxError, "column %q of relation %q is an identity column", col.Name, d.Name)
		if cmd.Def == nil {
			e.Hint = "Use ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY instead."
		}
		return e
	}
	if cmd.Def == nil {
		col.Default = ""
		return nil
	}
	if err := setDefault(col, cmd.Def); err != nil {
		return err
	}
	_, err := c.planner().defaultExpr(*col)
	return err
}

// setNotNull runs ALTER COLUMN SET NOT NULL (checked against every row)
// and DROP NOT NULL.
func setNotNull(c *Ctx, d *catalog.Descriptor, cmd *pg.AlterTableCmd, on bool) error {
	t := d.Table
	pos := t.ColumnIndex(cmd.Name)
	if pos < 0 || t.Columns[pos].Hidden {
		return undefinedColumn(cmd.Name, d.Name)
	}
	col := &t.Columns[pos]
	if !on {
		if slices.Contains(t.Primary.Columns, col.ID) {
			return pgcode.New(sqlerr.InvalidTableDefinition, "column %q is in a primary key", col.Name)
		}
		if col.Identity != "" {
			return pgcode.New(sqlerr.InvalidTableDefinition, "column %q of relation %q is an identity column", col.Name, d.Name)
		}
		col.NotNull = false
		return nil
	}
	if col.NotNull {
		return nil
	}
	col.NotNull = true
	return rewriteTable(c, d, d.Table, func(row sem.Row) error {
		if row[pos] == nil {
			return pgcode.New(sqlerr.NotNullViolation, "column %q of relation %q contains null values", col.Name, d.Name)
		}
		return nil
	})
}
