package exec

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// rename runs ALTER TABLE ... RENAME [COLUMN|CONSTRAINT] ... TO and
// ALTER SEQUENCE|INDEX ... RENAME TO. The renamed object's descriptor is
// rewritten under LockExclusive, so plans built on the old name are
// re-validated (their descriptor versions moved) and statements resolving
// the old name wait for this transaction.
func rename(c *Ctx, s *pg.RenameStmt) (*Result, error) {
	switch s.RenameType {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_SEQUENCE, pg.ObjectType_OBJECT_VIEW:
		return renameRelation(c, s)
	case pg.ObjectType_OBJECT_COLUMN:
		if s.RelationType == pg.ObjectType_OBJECT_VIEW {
			return nil, sqlerr.Unsupported("ALTER VIEW ... RENAME COLUMN is not supported yet")
		}
		return alterForRename(c, s, refuseWithViews(renameColumn))
	case pg.ObjectType_OBJECT_TABCONSTRAINT:
		return alterForRename(c, s, renameConstraint)
	case pg.ObjectType_OBJECT_INDEX:
		return renameIndex(c, s)
	}
	return nil, sqlerr.Unsupported("ALTER %s RENAME is not supported yet", s.RenameType)
}

// alterForRename applies f to the mutable descriptor of the table.
func alterForRename(c *Ctx, s *pg.RenameStmt, f func(*Ctx, *catalog.Descriptor, *pg.RenameStmt) error) (*Result, error) {
	d, err := lookupTable(c.Context, c.names(), s.Relation, kvapi.LockExclusive)
	if err != nil {
		if s.MissingOk && pgcode.Of(err) == pgcode.UndefinedTable {
			skipNotice(c, "relation %q does not exist, skipping", s.Relation.Relname)
			return &Result{Tag: "ALTER TABLE"}, nil
		}
		return nil, err
	}
	if d, err = c.Cat.Mutable(c.Context, d.ID); err != nil {
		return nil, err
	}
	if err := f(c, d, s); err != nil {
		return nil, err
	}
	return &Result{Tag: "ALTER TABLE"}, c.Cat.Put(c.Context, d)
}

// renameColumn renames a column and rewrites the CHECK constraints that
// mention it (stored as SQL text).
func renameColumn(_ *Ctx, d *catalog.Descriptor, s *pg.RenameStmt) error {
	t := d.Table
	pos := t.ColumnIndex(s.Subname)
	if pos < 0 || t.Columns[pos].Hidden {
		return undefinedColumn(s.Subname, d.Name)
	}
	if t.ColumnIndex(s.Newname) >= 0 {
		return pgcode.New(sqlerr.DuplicateColumn, "column %q of relation %q already exists", s.Newname, d.Name)
	}
	t.Columns[pos].Name = s.Newname
	for i, ch := range t.Checks {
		text, err := renameInExpr(ch.Expr, s.Subname, s.Newname)
		if err != nil {
			return err
		}
		t.Checks[i].Expr = text
	}
	return nil
}

// renameConstraint renames a CHECK, FOREIGN KEY, UNIQUE or PRIMARY KEY
// constraint (the last two rename their index too, as in PostgreSQL).
func renameConstraint(c *Ctx, d *catalog.Descriptor, s *pg.RenameStmt) error {
	t := d.Table
	if !constraintExists(t, s.Subname) {
		return pgcode.New(pgcode.UndefinedObject, "constraint %q for table %q does not exist", s.Subname, d.Name)
	}
	if constraintExists(t, s.Newname) {
		return pgcode.New(sqlerr.DuplicateObject, "constraint %q for relation %q already exists", s.Newname, d.Name)
	}
	for i := range t.Checks {
		if t.Checks[i].Name == s.Subname {
			t.Checks[i].Name = s.Newname
			return nil
		}
	}
	for i := range t.ForeignKeys {
		if t.ForeignKeys[i].Name == s.Subname {
			t.ForeignKeys[i].Name = s.Newname
			return nil
		}
	}
	if taken, err := indexNameTaken(c, d.ParentID, s.Newname); err != nil || taken {
		if err == nil {
			err = pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", s.Newname)
		}
		return err
	}
	for _, idx := range t.AllIndexes() {
		if idx.Name == s.Subname {
			idx.Name = s.Newname
		}
	}
	return nil
}

// renameRelation renames a table or sequence: its namespace entry moves.
func renameRelation(c *Ctx, s *pg.RenameStmt) (*Result, error) {
	tag := "ALTER TABLE"
	want := catalog.KindTable
	switch s.RenameType {
	case pg.ObjectType_OBJECT_SEQUENCE:
		tag, want = "ALTER SEQUENCE", catalog.KindSequence
	case pg.ObjectType_OBJECT_VIEW:
		tag, want = "ALTER VIEW", catalog.KindView
	}
	old := s.Relation.Relname
	_, id, found, err := c.names().Lookup(c.Context, s.Relation.Schemaname, old, kvapi.LockExclusive)
	if e, ok := err.(*pgcode.Error); ok && s.MissingOk && e.Code == sqlerr.InvalidSchemaName {
		err = nil
	}
	if err != nil {
		return nil, withPos(err, s.Relation.Location)
	}
	var d *catalog.Descriptor
	if found {
		if d, err = c.Cat.Mutable(c.Context, id); err != nil {
			return nil, err
		}
	}
	if d == nil {
		if s.MissingOk {
			skipNotice(c, "relation %q does not exist, skipping", old)
			return &Result{Tag: tag}, nil
		}
		return nil, posErr(sqlerr.UndefinedTable(old), s.Relation.Location)
	}
	if d.Kind != want {
		return nil, pgcode.New(sqlerr.WrongObjectType, "%q is not a %s", old, want)
	}
	if err := moveName(c, d, s.Newname); err != nil {
		return nil, err
	}
	if err := renameInViews(c, d, old); err != nil {
		return nil, err
	}
	return &Result{Tag: tag}, c.Cat.Put(c.Context, d)
}

func moveName(c *Ctx, d *catalog.Descriptor, name string) error {
	if taken, err := indexNameTaken(c, d.ParentID, name); err != nil || taken {
		if err == nil {
			err = pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", name)
		}
		return err
	}
	if err := c.Cat.DeleteName(c.Context, d.ParentID, d.Name); err != nil {
		return err
	}
	d.Name = name
	return nameErr(c.Cat.CreateName(c.Context, d.ParentID, name, d.ID), name)
}

// renameIndex runs ALTER INDEX ... RENAME TO (a constraint's index
// renames the constraint, as in PostgreSQL).
func renameIndex(c *Ctx, s *pg.RenameStmt) (*Result, error) {
	names, err := pathNames(c, s.Relation.Schemaname)
	if err != nil {
		return nil, err
	}
	d, i, found, err := findIndex(c, names, s.Relation.Relname)
	if err != nil {
		return nil, err
	}
	isPrimary := false
	if !found {
		d, isPrimary, err = findPrimary(c, names, s.Relation.Relname)
		if err != nil {
			return nil, err
		}
	}
	if d == nil {
		if s.MissingOk {
			skipNotice(c, "relation %q does not exist, skipping", s.Relation.Relname)
			return &Result{Tag: "ALTER INDEX"}, nil
		}
		return nil, sqlerr.UndefinedTable(s.Relation.Relname)
	}
	if taken, err := indexNameTaken(c, d.ParentID, s.Newname); err != nil || taken {
		if err == nil {
			err = pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", s.Newname)
		}
		return nil, err
	}
	if d, err = c.Cat.Mutable(c.Context, d.ID); err != nil {
		return nil, err
	}
	if isPrimary {
		d.Table.Primary.Name = s.Newname
	} else {
		d.Table.Indexes[i].Name = s.Newname
	}
	return &Result{Tag: "ALTER INDEX"}, c.Cat.Put(c.Context, d)
}

func findPrimary(c *Ctx, names map[string]uint64, name string) (*catalog.Descriptor, bool, error) {
	for _, id := range names {
		d, err := c.Cat.Get(c.Context, id, kvapi.LockShared)
		if err != nil {
			return nil, false, err
		}
		if d != nil && d.Table != nil && d.Table.Primary.Name == name && !hasHiddenPK(d.Table) {
			return d, true, nil
		}
	}
	return nil, false, nil
}
