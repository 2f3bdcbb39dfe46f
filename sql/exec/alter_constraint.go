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
)

// constraintExists reports whether the table has a constraint named name.
func constraintExists(t *catalog.Table, name string) bool {
	for _, idx := range t.AllIndexes() {
		if idx.Constraint && idx.Name == name {
			return true
		}
	}
	return slices.ContainsFunc(t.Checks, func(ch catalog.Check) bool { return ch.Name == name }) ||
		slices.ContainsFunc(t.ForeignKeys, func(fk catalog.ForeignKey) bool { return fk.Name == name })
}

// freeConstraintName returns base, or base followed by the first number
// that makes it unused in the table, as PostgreSQL chooses names.
func freeConstraintName(t *catalog.Table, base string) string {
	name := base
	for i := 1; constraintExists(t, name); i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	return name
}

// scanTable calls fn on every row of d, locked with lock.
func scanTable(c *Ctx, d *catalog.Descriptor, lock kvapi.Lock, fn func(sem.Row) error) error {
	codec := rowenc.NewCodec(d.ID, d.Table)
	p := codec.IndexPrefix(catalog.PrimaryIndexID)
	kvs, err := c.kv().Scan(c.Context, p, keys.PrefixEnd(p), 0, false, lock)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		row, err := codec.DecodeRow(kv.Key, kv.Value)
		if err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// addCheckConstraint runs ADD CONSTRAINT ... CHECK, validating every row
// unless NOT VALID.
func addCheckConstraint(c *Ctx, d *catalog.Descriptor, cn *pg.Constraint) error {
	text, err := deparse(cn.RawExpr)
	if err != nil {
		return err
	}
	name := cn.Conname
	if name == "" {
		base := d.Name + "_check"
		if col := firstColumn(cn.RawExpr); col != "" {
			base = fmt.Sprintf("%s_%s_check", d.Name, col)
		}
		name = freeConstraintName(d.Table, base)
	}
	d.Table.Checks = append(d.Table.Checks, catalog.Check{Name: name, Expr: text})
	w, err := c.planner().newWriter(d)
	if err != nil {
		return err
	}
	if _, err := (&sem.Builder{}).Predicate(w.checks[len(w.checks)-1]); err != nil {
		return err
	}
	if cn.SkipValidation {
		return nil
	}
	only := map[string]bool{name: true}
	return scanTable(c, d, kvapi.LockShared, func(row sem.Row) error { return w.validateChecks(c, row, only) })
}

// dropConstraint runs DROP CONSTRAINT for CHECK, UNIQUE and FOREIGN KEY
// constraints.
func dropConstraint(c *Ctx, d *catalog.Descriptor, cmd *pg.AlterTableCmd) error {
	t := d.Table
	if i := slices.IndexFunc(t.Checks, func(ch catalog.Check) bool { return ch.Name == cmd.Name }); i >= 0 {
		t.Checks = slices.Delete(t.Checks, i, i+1)
		return nil
	}
	if i := slices.IndexFunc(t.ForeignKeys, func(fk catalog.ForeignKey) bool { return fk.Name == cmd.Name }); i >= 0 {
		before := slices.Clone(t.ForeignKeys)
		t.ForeignKeys = slices.Delete(t.ForeignKeys, i, i+1)
		return unlinkParents(c, d, before)
	}
	if t.Primary.Name == cmd.Name && !hasHiddenPK(t) {
		return dropPrimaryKey(c, d, cmd.Behavior == pg.DropBehavior_DROP_CASCADE)
	}
	i := slices.IndexFunc(t.Indexes, func(idx catalog.Index) bool { return idx.Constraint && idx.Name == cmd.Name })
	if i < 0 {
		if cmd.MissingOk {
			skipNotice(c, "constraint %q of relation %q does not exist, skipping", cmd.Name, d.Name)
			return nil
		}
		return pgcode.New(pgcode.UndefinedObject, "constraint %q of relation %q does not exist", cmd.Name, d.Name)
	}
	idx := t.Indexes[i]
	if err := checkIndexNotReferenced(c, d, &idx, cmd.Behavior == pg.DropBehavior_DROP_CASCADE); err != nil {
		return err
	}
	t.Indexes = slices.Delete(t.Indexes, i, i+1)
	return deleteIndexData(c, d, &idx)
}
