package exec

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// alterTable runs ALTER TABLE: ADD PRIMARY KEY (rewriting the rows under
// the new key) and ADD CONSTRAINT UNIQUE (a backfilled index). The table's
// descriptor is locked exclusively, so writers wait meanwhile.
func alterTable(c *Ctx, s *pg.AlterTableStmt) (*Result, error) {
	if s.Objtype != pg.ObjectType_OBJECT_TABLE {
		return nil, sqlerr.Unsupported("ALTER %s is not supported yet", s.Objtype)
	}
	d, err := lookupTable(c.Context, c.names(), s.Relation, kvapi.LockExclusive)
	if err != nil {
		if s.MissingOk && pgcode.Of(err) == pgcode.UndefinedTable {
			c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion, Message: fmt.Sprintf("relation %q does not exist, skipping", s.Relation.Relname)})
			return &Result{Tag: "ALTER TABLE"}, nil
		}
		return nil, err
	}
	if d, err = c.Cat.Mutable(c.Context, d.ID); err != nil {
		return nil, err
	}
	if err := refuseColumnChanges(d, s.Cmds); err != nil {
		return nil, err
	}
	for _, n := range s.Cmds {
		if err := alterCmd(c, d, n.GetAlterTableCmd()); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "ALTER TABLE"}, c.Cat.Put(c.Context, d)
}

func alterCmd(c *Ctx, d *catalog.Descriptor, cmd *pg.AlterTableCmd) error {
	switch cmd.Subtype {
	case pg.AlterTableType_AT_AddConstraint:
		return addConstraint(c, d, cmd.Def.GetConstraint())
	case pg.AlterTableType_AT_AddColumn:
		return addColumn(c, d, cmd)
	case pg.AlterTableType_AT_DropColumn:
		return dropColumn(c, d, cmd)
	case pg.AlterTableType_AT_DropConstraint:
		return dropConstraint(c, d, cmd)
	case pg.AlterTableType_AT_ColumnDefault:
		return setColumnDefault(c, d, cmd)
	case pg.AlterTableType_AT_SetNotNull:
		return setNotNull(c, d, cmd, true)
	case pg.AlterTableType_AT_DropNotNull:
		return setNotNull(c, d, cmd, false)
	}
	return sqlerr.Unsupported("ALTER TABLE %s is not supported yet", strings.TrimPrefix(cmd.Subtype.String(), "AT_"))
}

func addConstraint(c *Ctx, d *catalog.Descriptor, cn *pg.Constraint) error {
	if cn.Conname != "" && constraintExists(d.Table, cn.Conname) {
		return pgcode.New(sqlerr.DuplicateObject, "constraint %q for relation %q already exists", cn.Conname, d.Name)
	}
	switch cn.Contype {
	case pg.ConstrType_CONSTR_PRIMARY:
		return addPrimaryKey(c, d, cn)
	case pg.ConstrType_CONSTR_UNIQUE:
		return addUniqueIndex(c, d, cn.Conname, keyNames(cn.Keys))
	case pg.ConstrType_CONSTR_CHECK:
		return addCheckConstraint(c, d, cn)
	case pg.ConstrType_CONSTR_FOREIGN:
		return addForeignKey(c, d, cn)
	}
	return posErr(sqlerr.Unsupported("ALTER TABLE ADD CONSTRAINT %s is not supported yet", strings.TrimPrefix(cn.Contype.String(), "CONSTR_")), cn.Location)
}

// keyColumns resolves a constraint's column names to IDs.
func keyColumns(t *catalog.Table, names []string) ([]uint32, error) {
	ids := make([]uint32, len(names))
	for i, n := range names {
		p := t.ColumnIndex(n)
		if p < 0 || t.Columns[p].Hidden {
			return nil, pgcode.New(sqlerr.UndefinedColumn, "column %q named in key does not exist", n)
		}
		ids[i] = t.Columns[p].ID
	}
	return ids, nil
}

func addUniqueIndex(c *Ctx, d *catalog.Descriptor, name string, names []string) error {
	ids, err := keyColumns(d.Table, names)
	if err != nil {
		return err
	}
	if name == "" {
		name = fmt.Sprintf("%s_%s_key", d.Name, strings.Join(names, "_"))
	}
	if taken, err := indexNameTaken(c, d.ParentID, name); err != nil || taken {
		if err == nil {
			err = pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", name)
		}
		return err
	}
	t := d.Table
	t.Indexes = append(t.Indexes, catalog.Index{ID: t.NextIndexID, Name: name, Unique: true, Columns: ids, Constraint: true})
	t.NextIndexID++
	return backfill(c, d, &t.Indexes[len(t.Indexes)-1])
}

// hasHiddenPK reports whether the table is keyed by the implicit rowid.
func hasHiddenPK(t *catalog.Table) bool {
	if len(t.Primary.Columns) != 1 {
		return false
	}
	p := t.ColumnByID(t.Primary.Columns[0])
	return p >= 0 && t.Columns[p].Hidden
}

// addPrimaryKey replaces the hidden rowid key by the given columns: every
// row is read, deleted under its old key and inserted under the new one,
// and secondary indexes (whose entries hold the primary key) are rebuilt,
// in batches (rekeyRows), so memory does not grow with the table.
func addPrimaryKey(c *Ctx, d *catalog.Descriptor, cn *pg.Constraint) error {
	old := d.Table
	if !hasHiddenPK(old) {
		return posErr(pgcode.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", d.Name), cn.Location)
	}
	ids, err := keyColumns(old, keyNames(cn.Keys))
	if err != nil {
		return err
	}
	nt, rowidPos := withPrimaryKey(old, ids, pkName(d.Name, cn))
	if taken, err := indexNameTaken(c, d.ParentID, nt.Primary.Name); err != nil || taken {
		if err == nil {
			err = pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", nt.Primary.Name)
		}
		return err
	}
	d.Table = nt
	return rekeyRows(c, d, old, rowidPos)
}

// dropPrimaryKey keys the table by a new hidden rowid, as if it had been
// created without a primary key: every row is rewritten under its new key
// and the secondary indexes (whose entries hold the primary key) are
// rebuilt. The key columns stay NOT NULL, as in PostgreSQL.
func dropPrimaryKey(c *Ctx, d *catalog.Descriptor, cascade bool) error {
	old := d.Table
	if err := checkIndexNotReferenced(c, d, &old.Primary, cascade); err != nil {
		return err
	}
	var rows []sem.Row
	var oldKeys [][]byte
	if err := scanTable(c, d, kvapi.LockExclusive, func(row sem.Row) error {
		rows = append(rows, row)
		return nil
	}); err != nil {
		return err
	}
	codec := rowenc.NewCodec(d.ID, old)
	nt := copyTable(old)
	rowid := catalog.Column{ID: nt.NextColumnID, Name: "rowid", Type: types.Int8, NotNull: true, Hidden: true}
	nt.NextColumnID++
	nt.Columns = append(nt.Columns, rowid)
	nt.Primary = catalog.Index{ID: catalog.PrimaryIndexID, Name: d.Name + "_pkey", Unique: true, Columns: []uint32{rowid.ID}, Constraint: true}
	for i, row := range rows {
		oldKeys = append(oldKeys, codec.PrimaryKey(row))
		id, err := rowIDExpr{}.Eval(c.Eval, nil)
		if err != nil {
			return err
		}
		rows[i] = append(row, id)
	}
	d.Table = nt
	return rewriteRows(c, d, rows, oldKeys)
}

func pkName(table string, cn *pg.Constraint) string {
	if cn.Conname != "" {
		return cn.Conname
	}
	return table + "_pkey"
}

// withPrimaryKey returns a copy of t keyed by ids, without the rowid
// column, and the rowid column's position in t.
func withPrimaryKey(t *catalog.Table, ids []uint32, name string) (*catalog.Table, int) {
	nt := *t
	rowidPos := t.ColumnByID(t.Primary.Columns[0])
	nt.Columns = append(append([]catalog.Column{}, t.Columns[:rowidPos]...), t.Columns[rowidPos+1:]...)
	for _, id := range ids {
		nt.Columns[nt.ColumnByID(id)].NotNull = true
	}
	nt.Primary = catalog.Index{ID: catalog.PrimaryIndexID, Name: name, Unique: true, Columns: ids, Constraint: true}
	return &nt, rowidPos
}

// rewriteRows writes rows under d's new primary key, replacing the
// entries at oldKeys, then rebuilds the secondary indexes.
func rewriteRows(c *Ctx, d *catalog.Descriptor, rows []sem.Row, oldKeys [][]byte) error {
	t := d.Table
	codec := rowenc.NewCodec(d.ID, t)
	entries := make([]entry, len(rows))
	for i, row := range rows {
		for _, id := range t.Primary.Columns {
			if p := t.ColumnByID(id); row[p] == nil {
				return pgcode.New(sqlerr.NotNullViolation, "column %q of relation %q contains null values", t.Columns[p].Name, d.Name)
			}
		}
		entries[i] = entry{key: codec.PrimaryKey(row), value: codec.Value(row), row: i}
	}
	w := &writer{desc: d, codec: codec}
	if err := replaceSorted(c, oldKeys, entries, func(e entry) error {
		return backfillErr(w.dupErr(kvapi.ErrKeyExists, &t.Primary, rows[e.row]), &t.Primary)
	}); err != nil {
		return err
	}
	for i := range t.Indexes {
		if err := rebuildIndex(c, w, &t.Indexes[i], rows); err != nil {
			return err
		}
	}
	return nil
}

// rebuildIndex replaces a secondary index's entries by those of rows.
func rebuildIndex(c *Ctx, w *writer, idx *catalog.Index, rows []sem.Row) error {
	p := keys.IndexPrefix(w.desc.ID, uint64(idx.ID))
	old, err := c.kv().Scan(c.Context, p, keys.PrefixEnd(p), 0, false, kvapi.LockExclusive)
	if err != nil {
		return err
	}
	oldKeys := make([][]byte, len(old))
	for i, kv := range old {
		oldKeys[i] = kv.Key
	}
	entries := indexEntries(w, idx, rows)
	return replaceSorted(c, oldKeys, entries, func(e entry) error {
		return backfillErr(w.dupErr(kvapi.ErrKeyExists, idx, rows[e.row]), idx)
	})
}

func indexEntries(w *writer, idx *catalog.Index, rows []sem.Row) []entry {
	entries := make([]entry, len(rows))
	for i, row := range rows {
		k, v, _ := w.codec.IndexEntry(idx, row)
		entries[i] = entry{key: k, value: v, row: i}
	}
	return entries
}
