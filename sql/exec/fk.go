package exec

import (
	"fmt"
	"slices"
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

// Foreign keys. A child row's key is checked when the statement's writes
// are done (PostgreSQL's NO ACTION fires at the end of the statement too):
// the parent's primary or unique index entry is read with LockShared, so
// the parent row cannot be deleted until the child's transaction ends. A
// deleted parent key (or one an UPDATE changed) is checked at the same
// point: unless the key is present again, the child table is scanned for
// rows that still reference it. Both sides lock the parent key (the
// deleter writes it), so a concurrent insert of a child and delete of its
// parent serialize on it. Referential actions (CASCADE, SET NULL, SET
// DEFAULT) run at the same point, before the checks: see fk_action.go.

const (
	fkNoAction   = "a"
	fkRestrict   = "r"
	fkCascade    = "c"
	fkSetNull    = "n"
	fkSetDefault = "d"
)

// fkChild is a FOREIGN KEY of the table being written (it is the child).
type fkChild struct {
	fk     *catalog.ForeignKey
	parent *catalog.Descriptor
	pcodec *rowenc.Codec
	idx    *catalog.Index // the parent's index on the referenced columns
	// childPos are the child row's positions of idx's columns, in order.
	childPos []int
}

// fkParent is a FOREIGN KEY of another table referencing the one being
// written.
type fkParent struct {
	fk       *catalog.ForeignKey
	child    *catalog.Descriptor
	idx      *catalog.Index // our index on the referenced columns
	refPos   []int          // our positions of fk.RefColumns
	childPos []int          // the child's positions of fk.Columns
}

// fkPending are the keys to check when the statement's writes are done.
type fkPending struct {
	inserted []sem.Row  // child rows whose key must exist in the parent
	removed  []fkChange // our rows whose key may still be referenced
}

// fkChange is a write to a referenced row: new is nil for a delete.
type fkChange struct {
	old, new sem.Row
}

// referencedIndex finds the primary or unique index of t on exactly cols.
func referencedIndex(t *catalog.Table, cols []uint32) *catalog.Index {
	for _, idx := range t.AllIndexes() {
		if idx.Unique && sameSet(idx.Columns, cols) && (idx.ID == catalog.PrimaryIndexID || idx.Constraint) {
			return idx
		}
	}
	return nil
}

func positions(t *catalog.Table, ids []uint32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = t.ColumnByID(id)
	}
	return out
}

// loadForeignKeys fills in the writer's constraints in both directions,
// reading the other tables' descriptors with LockShared (they become plan
// dependencies).
func (p *Planner) loadForeignKeys(w *writer) error {
	t := w.desc.Table
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		parent, err := p.fkTable(w.desc, fk.RefTable)
		if err != nil {
			return err
		}
		idx := referencedIndex(parent.Table, fk.RefColumns)
		if idx == nil {
			return fmt.Errorf("exec: foreign key %s: no unique index on the referenced columns", fk.Name)
		}
		fc := fkChild{fk: fk, parent: parent, pcodec: rowenc.NewCodec(parent.ID, parent.Table), idx: idx}
		for _, id := range idx.Columns {
			fc.childPos = append(fc.childPos, t.ColumnByID(fk.Columns[slices.Index(fk.RefColumns, id)]))
		}
		w.fkChildren = append(w.fkChildren, fc)
	}
	for _, id := range t.ReferencedBy {
		child, err := p.fkTable(w.desc, id)
		if err != nil {
			return err
		}
		for i := range child.Table.ForeignKeys {
			fk := &child.Table.ForeignKeys[i]
			if fk.RefTable != w.desc.ID {
				continue
			}
			w.fkParents = append(w.fkParents, fkParent{fk: fk, child: child, idx: referencedIndex(t, fk.RefColumns),
				refPos: positions(t, fk.RefColumns), childPos: positions(child.Table, fk.Columns)})
		}
	}
	return nil
}

func (p *Planner) fkTable(self *catalog.Descriptor, id uint64) (*catalog.Descriptor, error) {
	if id == self.ID {
		return self, nil
	}
	d, err := p.Cat.Get(p.Ctx, id, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	if d == nil || d.Table == nil {
		return nil, fmt.Errorf("exec: foreign key table %d is missing", id)
	}
	p.deps = append(p.deps, Dep{ID: d.ID, Version: d.Version})
	return d, nil
}

// fkKeyChanged reports whether a write from old to new changes the
// values at pos (old nil: an insert).
func fkKeyChanged(old, new sem.Row, pos []int) bool {
	if old == nil {
		return true
	}
	for _, p := range pos {
		if (old[p] == nil) != (new[p] == nil) || (old[p] != nil && types.Compare(old[p], new[p]) != 0) {
			return true
		}
	}
	return false
}

func anyNullAt(row sem.Row, pos []int) bool {
	return slices.ContainsFunc(pos, func(p int) bool { return row[p] == nil })
}

// noteFK records the keys a write from old to new (either nil for an
// insert or delete) must have checked.
func (w *writer) noteFK(old, new sem.Row) {
	if new != nil && len(w.fkChildren) > 0 {
		w.pending.inserted = append(w.pending.inserted, new)
		if old != nil {
			w.pending.inserted[len(w.pending.inserted)-1] = append(new[:len(new):len(new)], old...)
		}
	}
	for _, fp := range w.fkParents {
		if fp.keyRemoved(fkChange{old, new}) {
			w.pending.removed = append(w.pending.removed, fkChange{old, new})
			break
		}
	}
}

// finishFK runs the referential actions of the statement's writes, then
// checks their foreign keys.
func (w *writer) finishFK(c *Ctx) error {
	pend := w.pending
	w.pending = fkPending{}
	for i := range w.fkParents {
		if err := w.runActions(c, &w.fkParents[i], pend.removed); err != nil {
			return err
		}
	}
	width := len(w.desc.Table.Columns)
	for _, r := range pend.inserted {
		row, old := r[:width], sem.Row(nil)
		if len(r) > width {
			old = r[width:]
		}
		if err := w.checkParents(c, row, old); err != nil {
			return err
		}
	}
	if len(pend.removed) == 0 {
		return nil
	}
	for i := range w.fkParents {
		if err := w.checkRemoved(c, &w.fkParents[i], pend.removed); err != nil {
			return err
		}
	}
	return nil
}

// checkRemoved checks the removed keys of fp whose action is a check:
// NO ACTION (and SET DEFAULT, whose default may be the removed key, as
// PostgreSQL) passes when the key is present again, RESTRICT does not.
func (w *writer) checkRemoved(c *Ctx, fp *fkParent, removed []fkChange) error {
	var noAction, restrict []sem.Row
	for _, ch := range removed {
		if !fp.keyRemoved(ch) {
			continue
		}
		switch fp.action(ch) {
		case fkNoAction, fkSetDefault:
			noAction = append(noAction, ch.old)
		case fkRestrict:
			restrict = append(restrict, ch.old)
		}
	}
	if err := w.checkChildren(c, fp, noAction, true); err != nil {
		return err
	}
	return w.checkChildren(c, fp, restrict, false)
}

// checkParents checks that the row's keys exist in the parents, reading
// each with LockShared.
func (w *writer) checkParents(c *Ctx, row, old sem.Row) error {
	for i := range w.fkChildren {
		fc := &w.fkChildren[i]
		if anyNullAt(row, fc.childPos) || !fkKeyChanged(old, row, fc.childPos) {
			continue
		}
		_, found, err := c.kv().Get(c.Context, fc.parentKey(row), kvapi.LockShared)
		if err != nil {
			return err
		}
		if !found {
			t := w.desc.Table
			e := pgcode.New(sqlerr.ForeignKeyViolation, "insert or update on table %q violates foreign key constraint %q", w.desc.Name, fc.fk.Name)
			e.Detail = fmt.Sprintf("Key (%s)=(%s) is not present in table %q.", t.ColumnNames(fc.fk.Columns), valuesAt(t, row, positions(t, fc.fk.Columns)), fc.parent.Name)
			return e
		}
	}
	return nil
}

// parentKey is the key of the parent's index entry for the child row.
func (fc *fkChild) parentKey(row sem.Row) []byte {
	pt := fc.parent.Table
	prow := make(sem.Row, len(pt.Columns))
	for k, id := range fc.idx.Columns {
		prow[pt.ColumnByID(id)] = row[fc.childPos[k]]
	}
	if fc.idx.ID == catalog.PrimaryIndexID {
		return fc.pcodec.PrimaryKey(prow)
	}
	k, _, _ := fc.pcodec.IndexEntry(fc.idx, prow)
	return k
}

func valuesAt(t *catalog.Table, row sem.Row, pos []int) string {
	vals := make([]string, len(pos))
	for i, p := range pos {
		vals[i] = datumString(t.Columns[p].Type, row[p])
	}
	return strings.Join(vals, ", ")
}

func encodeAt(t *catalog.Table, row sem.Row, pos []int) string {
	var b []byte
	for _, p := range pos {
		b = rowenc.AppendDatum(b, t.Columns[p].Type, row[p])
	}
	return string(b)
}

// checkChildren fails if a removed key (with present, one not present
// again) is still referenced by a row of the child table.
func (w *writer) checkChildren(c *Ctx, fp *fkParent, removed []sem.Row, present bool) error {
	t := w.desc.Table
	gone := map[string]sem.Row{}
	pcodec := w.codec
	for _, row := range removed {
		if anyNullAt(row, fp.refPos) {
			continue
		}
		if !present {
			gone[encodeAt(t, row, fp.refPos)] = row
			continue
		}
		var key []byte
		if fp.idx.ID == catalog.PrimaryIndexID {
			key = pcodec.PrimaryKey(row)
		} else {
			key, _, _ = pcodec.IndexEntry(fp.idx, row)
		}
		_, found, err := c.kv().Get(c.Context, key, kvapi.LockShared)
		if err != nil {
			return err
		}
		if !found {
			gone[encodeAt(t, row, fp.refPos)] = row
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if idx := childIndex(fp); idx != nil {
		return w.lookupChildren(c, fp, idx, gone)
	}
	return scanTable(c, fp.child, kvapi.LockShared, func(crow sem.Row) error {
		if anyNullAt(crow, fp.childPos) {
			return nil
		}
		row, ok := gone[encodeAt(fp.child.Table, crow, fp.childPos)]
		if !ok {
			return nil
		}
		return w.stillReferenced(fp, row)
	})
}

func (w *writer) stillReferenced(fp *fkParent, row sem.Row) error {
	t := w.desc.Table
	e := pgcode.New(sqlerr.ForeignKeyViolation, "update or delete on table %q violates foreign key constraint %q on table %q", w.desc.Name, fp.fk.Name, fp.child.Name)
	e.Detail = fmt.Sprintf("Key (%s)=(%s) is still referenced from table %q.", t.ColumnNames(fp.fk.RefColumns), valuesAt(t, row, fp.refPos), fp.child.Name)
	return e
}

// childIndex finds an index of the child (the primary one included)
// whose leading columns are the foreign key's, to look referencing rows
// up instead of scanning the table.
func childIndex(fp *fkParent) *catalog.Index {
	n := len(fp.fk.Columns)
	for _, idx := range fp.child.Table.AllIndexes() {
		if idx.Public() && len(idx.Columns) >= n && sameSet(idx.Columns[:n], fp.fk.Columns) {
			return idx
		}
	}
	return nil
}

// childPrefix is the key prefix of idx's entries of the child rows
// referencing the parent row.
func childPrefix(fp *fkParent, idx *catalog.Index, row sem.Row) []byte {
	ct := fp.child.Table
	start := keys.IndexPrefix(fp.child.ID, uint64(idx.ID))
	for _, id := range idx.Columns[:len(fp.fk.Columns)] {
		j := slices.Index(fp.fk.Columns, id)
		start = rowenc.AppendDatum(start, ct.Columns[ct.ColumnByID(id)].Type, row[fp.refPos[j]])
	}
	return start
}

// lookupChildren looks each removed key up in the child's index.
func (w *writer) lookupChildren(c *Ctx, fp *fkParent, idx *catalog.Index, gone map[string]sem.Row) error {
	for _, row := range gone {
		start := childPrefix(fp, idx, row)
		kvs, err := c.kv().Scan(c.Context, start, keys.PrefixEnd(start), 1, false, kvapi.LockShared)
		if err != nil {
			return err
		}
		if len(kvs) > 0 {
			return w.stillReferenced(fp, row)
		}
	}
	return nil
}

// buildForeignKey resolves a FOREIGN KEY constraint of child (whose
// column cols names when it is a column constraint) on parent.
func buildForeignKey(child, parent *catalog.Descriptor, cn *pg.Constraint, col string) (catalog.ForeignKey, error) {
	fk := catalog.ForeignKey{RefTable: parent.ID, OnUpdate: cn.FkUpdAction, OnDelete: cn.FkDelAction}
	if err := checkFKActions(cn); err != nil {
		return fk, err
	}
	names := keyNames(cn.FkAttrs)
	if col != "" {
		names = []string{col}
	}
	for _, n := range names {
		p := child.Table.ColumnIndex(n)
		if p < 0 || child.Table.Columns[p].Hidden {
			return fk, pgcode.New(sqlerr.UndefinedColumn, "column %q referenced in foreign key constraint does not exist", n)
		}
		fk.Columns = append(fk.Columns, child.Table.Columns[p].ID)
	}
	if err := fkRefColumns(&fk, parent, cn); err != nil {
		return fk, err
	}
	if err := fkDeleteSetColumns(&fk, child, cn); err != nil {
		return fk, err
	}
	fk.Name = cn.Conname
	if fk.Name == "" {
		fk.Name = freeConstraintName(child.Table, fmt.Sprintf("%s_%s_fkey", child.Name, strings.Join(names, "_")))
	}
	return fk, fkTypesMatch(&fk, child, parent)
}

// fkDeleteSetColumns resolves ON DELETE SET NULL (...) / SET DEFAULT
// (...)'s columns, which must be among the foreign key's.
func fkDeleteSetColumns(fk *catalog.ForeignKey, child *catalog.Descriptor, cn *pg.Constraint) error {
	for _, n := range keyNames(cn.FkDelSetCols) {
		p := child.Table.ColumnIndex(n)
		if p < 0 || child.Table.Columns[p].Hidden {
			return pgcode.New(sqlerr.UndefinedColumn, "column %q referenced in foreign key constraint does not exist", n)
		}
		id := child.Table.Columns[p].ID
		if !slices.Contains(fk.Columns, id) {
			return pgcode.New(sqlerr.InvalidColumnReference, "column %q referenced in ON DELETE SET action must be part of foreign key", n)
		}
		fk.DeleteSetColumns = append(fk.DeleteSetColumns, id)
	}
	return nil
}

// fkActionRule is an action code as information_schema (and
// pg_get_constraintdef) spell it.
func fkActionRule(code string) string {
	switch catalog.Action(code) {
	case fkRestrict:
		return "RESTRICT"
	case fkCascade:
		return "CASCADE"
	case fkSetNull:
		return "SET NULL"
	case fkSetDefault:
		return "SET DEFAULT"
	}
	return "NO ACTION"
}

func checkFKActions(cn *pg.Constraint) error {
	if cn.FkMatchtype == "f" || cn.FkMatchtype == "p" {
		return posErr(sqlerr.Unsupported("MATCH FULL and MATCH PARTIAL are not supported yet"), cn.Location)
	}
	if cn.Deferrable {
		return posErr(sqlerr.Unsupported("deferrable foreign keys are not supported yet"), cn.Location)
	}
	return nil
}

// fkRefColumns resolves the referenced columns (the parent's primary key
// when none are named), which must carry a unique constraint.
func fkRefColumns(fk *catalog.ForeignKey, parent *catalog.Descriptor, cn *pg.Constraint) error {
	pt := parent.Table
	if len(cn.PkAttrs) == 0 {
		if hasHiddenPK(pt) {
			return pgcode.New(sqlerr.InvalidForeignKey, "there is no primary key for referenced table %q", parent.Name)
		}
		fk.RefColumns = slices.Clone(pt.Primary.Columns)
	}
	for _, n := range keyNames(cn.PkAttrs) {
		p := pt.ColumnIndex(n)
		if p < 0 || pt.Columns[p].Hidden {
			return pgcode.New(sqlerr.UndefinedColumn, "column %q referenced in foreign key constraint does not exist", n)
		}
		fk.RefColumns = append(fk.RefColumns, pt.Columns[p].ID)
	}
	if len(fk.RefColumns) != len(fk.Columns) {
		return pgcode.New(sqlerr.InvalidForeignKey, "number of referencing and referenced columns for foreign key disagree")
	}
	if referencedIndex(pt, fk.RefColumns) == nil {
		return pgcode.New(sqlerr.InvalidForeignKey, "there is no unique constraint matching given keys for referenced table %q", parent.Name)
	}
	return nil
}

func fkTypesMatch(fk *catalog.ForeignKey, child, parent *catalog.Descriptor) error {
	for i := range fk.Columns {
		cc := child.Table.Columns[child.Table.ColumnByID(fk.Columns[i])]
		pc := parent.Table.Columns[parent.Table.ColumnByID(fk.RefColumns[i])]
		if cc.Type.Family != pc.Type.Family {
			e := pgcode.New(sqlerr.DatatypeMismatch, "foreign key constraint %q cannot be implemented", fk.Name)
			e.Detail = fmt.Sprintf("Key columns %q and %q are of incompatible types: %s and %s.", cc.Name, pc.Name, cc.Type.SQLString(), pc.Type.SQLString())
			return e
		}
	}
	return nil
}

// addForeignKey runs ALTER TABLE ADD CONSTRAINT ... FOREIGN KEY: the
// existing rows are checked, and the parent records the reference.
func addForeignKey(c *Ctx, d *catalog.Descriptor, cn *pg.Constraint) error {
	parent := d
	if cn.Pktable.Relname != d.Name {
		p, err := lookupTable(c.Context, c.names(), cn.Pktable, kvapi.LockExclusive)
		if err != nil {
			return err
		}
		if parent, err = c.Cat.Mutable(c.Context, p.ID); err != nil {
			return err
		}
	}
	fk, err := buildForeignKey(d, parent, cn, "")
	if err != nil {
		return err
	}
	d.Table.ForeignKeys = append(d.Table.ForeignKeys, fk)
	if err := linkParent(c, d, parent); err != nil {
		return err
	}
	if cn.SkipValidation {
		return nil
	}
	w, err := c.planner().newWriter(d)
	if err != nil {
		return err
	}
	return scanTable(c, d, kvapi.LockShared, func(row sem.Row) error {
		return w.checkParents(c, row, nil)
	})
}

// linkParent adds child to parent's ReferencedBy, writing the parent's
// descriptor unless it is the child itself (written by the caller).
func linkParent(c *Ctx, child, parent *catalog.Descriptor) error {
	if !slices.Contains(parent.Table.ReferencedBy, child.ID) {
		parent.Table.ReferencedBy = append(parent.Table.ReferencedBy, child.ID)
	}
	if parent == child {
		return nil
	}
	return c.Cat.Put(c.Context, parent)
}

// unlinkParents drops child from the ReferencedBy of each parent it no
// longer has a FOREIGN KEY to.
func unlinkParents(c *Ctx, child *catalog.Descriptor, before []catalog.ForeignKey) error {
	for _, fk := range before {
		still := slices.ContainsFunc(child.Table.ForeignKeys, func(f catalog.ForeignKey) bool { return f.RefTable == fk.RefTable })
		if still {
			continue
		}
		parent := child
		if fk.RefTable != child.ID {
			var err error
			if parent, err = c.Cat.Mutable(c.Context, fk.RefTable); err != nil || parent == nil {
				return err
			}
		}
		parent.Table.ReferencedBy = slices.DeleteFunc(parent.Table.ReferencedBy, func(id uint64) bool { return id == child.ID })
		if parent != child {
			if err := c.Cat.Put(c.Context, parent); err != nil {
				return err
			}
		}
	}
	return nil
}

// inboundFKs returns the FOREIGN KEYs of other tables (and self-references)
// on d whose referenced columns satisfy match.
func inboundFKs(c *Ctx, d *catalog.Descriptor, match func(child *catalog.Descriptor, fk *catalog.ForeignKey) bool) ([]*catalog.Descriptor, []*catalog.ForeignKey, error) {
	var tables []*catalog.Descriptor
	var fks []*catalog.ForeignKey
	for _, id := range d.Table.ReferencedBy {
		child := d
		if id != d.ID {
			var err error
			if child, err = c.Cat.Get(c.Context, id, kvapi.LockExclusive); err != nil {
				return nil, nil, err
			}
			if child == nil {
				continue
			}
		}
		for i := range child.Table.ForeignKeys {
			if fk := &child.Table.ForeignKeys[i]; fk.RefTable == d.ID && match(child, fk) {
				tables, fks = append(tables, child), append(fks, fk)
			}
		}
	}
	return tables, fks, nil
}

// dropInbound fails with 2BP01 naming what depends on d, or with cascade
// drops those FOREIGN KEY constraints from their tables.
func dropInbound(c *Ctx, d *catalog.Descriptor, what string, match func(child *catalog.Descriptor, fk *catalog.ForeignKey) bool, cascade bool) error {
	tables, fks, err := inboundFKs(c, d, match)
	if err != nil || len(fks) == 0 {
		return err
	}
	if !cascade {
		e := pgcode.New(sqlerr.DependentObjectsExist, "cannot drop %s because other objects depend on it", what)
		lines := make([]string, len(fks))
		for i, fk := range fks {
			lines[i] = fmt.Sprintf("constraint %s on table %s depends on %s", fk.Name, tables[i].Name, what)
		}
		e.Detail = strings.Join(lines, "\n")
		e.Hint = "Use DROP ... CASCADE to drop the dependent objects too."
		return e
	}
	for i, fk := range fks {
		skipNotice(c, "drop cascades to constraint %s on table %s", fk.Name, tables[i].Name)
		child := d
		if tables[i].ID != d.ID {
			if child, err = c.Cat.Mutable(c.Context, tables[i].ID); err != nil {
				return err
			}
		}
		name := fk.Name
		child.Table.ForeignKeys = slices.DeleteFunc(child.Table.ForeignKeys, func(f catalog.ForeignKey) bool { return f.Name == name })
		if !slices.ContainsFunc(child.Table.ForeignKeys, func(f catalog.ForeignKey) bool { return f.RefTable == d.ID }) {
			d.Table.ReferencedBy = slices.DeleteFunc(d.Table.ReferencedBy, func(id uint64) bool { return id == child.ID })
		}
		if child != d {
			if err := c.Cat.Put(c.Context, child); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkNotReferenced guards DROP COLUMN against FOREIGN KEYs that
// reference the column.
func checkNotReferenced(c *Ctx, d *catalog.Descriptor, col uint32, cascade bool) error {
	name := d.Table.Columns[d.Table.ColumnByID(col)].Name
	return dropInbound(c, d, fmt.Sprintf("column %s of table %s", name, d.Name),
		func(_ *catalog.Descriptor, fk *catalog.ForeignKey) bool { return slices.Contains(fk.RefColumns, col) }, cascade)
}

// checkIndexNotReferenced guards dropping a UNIQUE constraint that a
// FOREIGN KEY relies on.
func checkIndexNotReferenced(c *Ctx, d *catalog.Descriptor, idx *catalog.Index, cascade bool) error {
	return dropInbound(c, d, fmt.Sprintf("constraint %s on table %s", idx.Name, d.Name),
		func(_ *catalog.Descriptor, fk *catalog.ForeignKey) bool { return sameSet(fk.RefColumns, idx.Columns) }, cascade)
}

// truncateReferenced fails when a table referenced by a FOREIGN KEY is
// truncated without its referencing tables (0A000, as PostgreSQL).
func truncateReferenced(d *catalog.Descriptor, truncated map[uint64]bool, c *Ctx) error {
	tables, _, err := inboundFKs(c, d, func(*catalog.Descriptor, *catalog.ForeignKey) bool { return true })
	if err != nil {
		return err
	}
	for _, t := range tables {
		if !truncated[t.ID] {
			e := pgcode.New(pgcode.FeatureNotSupported, "cannot truncate a table referenced in a foreign key constraint")
			e.Detail = fmt.Sprintf("Table %q references %q.", t.Name, d.Name)
			e.Hint = fmt.Sprintf("Truncate table %q at the same time, or use TRUNCATE ... CASCADE.", t.Name)
			return e
		}
	}
	return nil
}

// deleteTableData removes every row and index entry of a table.
func deleteTableData(c *Ctx, id uint64) error {
	p := keys.TablePrefix(id)
	return c.kv().DeleteRange(c.Context, p, keys.PrefixEnd(p))
}
