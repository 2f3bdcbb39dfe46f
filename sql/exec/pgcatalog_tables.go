package exec

import (
	"fmt"
	"hash/fnv"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// More of pg_catalog: columns, defaults, constraints, types, sequences and
// the relations psql reads that ordo has no objects for (policies,
// triggers, publications, inheritance, extended statistics, extensions,
// rules, descriptions), which are empty as in a fresh PostgreSQL
// database. Constraint OIDs are conOIDBase + 64*table ID + n, where n is
// the backing index's ID for PRIMARY KEY and UNIQUE and 32 + i for the
// i-th CHECK.
const (
	conOIDBase       = 1 << 29
	checkConOffset   = 32
	fkConOffset      = 48
	defaultCollation = 100
)

var (
	textArray = mustArray(types.Text)
	int2Array = mustArray(types.Int2)
	oidArray  = mustArray(types.Oid)
)

func mustArray(t types.T) types.T {
	a, ok := types.ArrayOf(t)
	if !ok {
		panic("no array type of " + t.Name())
	}
	return a
}

func emptyRows(*Ctx) ([]sem.Row, error) { return nil, nil }

func init() {
	txt, oid, b, i4, i2, i8, nm := types.Text, types.Oid, types.Bool, types.Int4, types.Int2, types.Int8, types.Name
	add := func(name string, rows func(*Ctx) ([]sem.Row, error), cols ...vcol) {
		vtables[name] = &vtable{cols: cols, rows: rows}
	}
	add("pg_attribute", withViews(attributeRows, viewAttributeRows), vcol{"attrelid", oid}, vcol{"attname", nm}, vcol{"atttypid", oid},
		vcol{"attstattarget", i4}, vcol{"attlen", i2}, vcol{"attnum", i2}, vcol{"attndims", i4},
		vcol{"attcacheoff", i4}, vcol{"atttypmod", i4}, vcol{"attbyval", b}, vcol{"attalign", txt},
		vcol{"attstorage", txt}, vcol{"attcompression", txt}, vcol{"attnotnull", b}, vcol{"atthasdef", b},
		vcol{"atthasmissing", b}, vcol{"attidentity", txt}, vcol{"attgenerated", txt}, vcol{"attisdropped", b},
		vcol{"attislocal", b}, vcol{"attinhcount", i4}, vcol{"attcollation", oid}, vcol{"attacl", textArray},
		vcol{"attoptions", textArray}, vcol{"attfdwoptions", textArray})
	add("pg_attrdef", attrdefRows, vcol{"oid", oid}, vcol{"adrelid", oid}, vcol{"adnum", i2}, vcol{"adbin", txt})
	add("pg_constraint", constraintRows, vcol{"oid", oid}, vcol{"conname", nm}, vcol{"connamespace", oid},
		vcol{"contype", txt}, vcol{"condeferrable", b}, vcol{"condeferred", b}, vcol{"convalidated", b},
		vcol{"conrelid", oid}, vcol{"contypid", oid}, vcol{"conindid", oid}, vcol{"conparentid", oid},
		vcol{"confrelid", oid}, vcol{"confupdtype", txt}, vcol{"confdeltype", txt}, vcol{"confmatchtype", txt},
		vcol{"conislocal", b}, vcol{"coninhcount", i4}, vcol{"connoinherit", b}, vcol{"conkey", int2Array},
		vcol{"confkey", int2Array}, vcol{"confdelsetcols", int2Array}, vcol{"conbin", txt})
	add("pg_type", typeRows, vcol{"oid", oid}, vcol{"typname", nm}, vcol{"typnamespace", oid},
		vcol{"typowner", oid}, vcol{"typlen", i2}, vcol{"typbyval", b}, vcol{"typtype", txt},
		vcol{"typcategory", txt}, vcol{"typispreferred", b}, vcol{"typisdefined", b}, vcol{"typdelim", txt},
		vcol{"typrelid", oid}, vcol{"typelem", oid}, vcol{"typarray", oid}, vcol{"typnotnull", b},
		vcol{"typbasetype", oid}, vcol{"typtypmod", i4}, vcol{"typndims", i4}, vcol{"typcollation", oid},
		vcol{"typdefault", txt})
	add("pg_collation", collationRows, vcol{"oid", oid}, vcol{"collname", nm}, vcol{"collnamespace", oid},
		vcol{"collowner", oid}, vcol{"collprovider", txt}, vcol{"collisdeterministic", b},
		vcol{"collencoding", i4}, vcol{"collcollate", txt}, vcol{"collctype", txt})
	add("pg_sequence", sequenceRows, vcol{"seqrelid", oid}, vcol{"seqtypid", oid}, vcol{"seqstart", i8},
		vcol{"seqincrement", i8}, vcol{"seqmax", i8}, vcol{"seqmin", i8}, vcol{"seqcache", i8}, vcol{"seqcycle", b})
	add("pg_description", emptyRows, vcol{"objoid", oid}, vcol{"classoid", oid}, vcol{"objsubid", i4},
		vcol{"description", txt})
	add("pg_policy", emptyRows, vcol{"oid", oid}, vcol{"polname", nm}, vcol{"polrelid", oid},
		vcol{"polcmd", txt}, vcol{"polpermissive", b}, vcol{"polroles", oidArray}, vcol{"polqual", txt},
		vcol{"polwithcheck", txt})
	add("pg_statistic_ext", emptyRows, vcol{"oid", oid}, vcol{"stxrelid", oid}, vcol{"stxname", nm},
		vcol{"stxnamespace", oid}, vcol{"stxowner", oid}, vcol{"stxstattarget", i4}, vcol{"stxkeys", int2Array},
		vcol{"stxkind", textArray}, vcol{"stxexprs", txt})
	add("pg_publication", emptyRows, vcol{"oid", oid}, vcol{"pubname", nm}, vcol{"pubowner", oid},
		vcol{"puballtables", b}, vcol{"pubinsert", b}, vcol{"pubupdate", b}, vcol{"pubdelete", b},
		vcol{"pubtruncate", b}, vcol{"pubviaroot", b})
	add("pg_publication_namespace", emptyRows, vcol{"oid", oid}, vcol{"pnpubid", oid}, vcol{"pnnspid", oid})
	add("pg_publication_rel", emptyRows, vcol{"oid", oid}, vcol{"prpubid", oid}, vcol{"prrelid", oid},
		vcol{"prqual", txt}, vcol{"prattrs", int2Array})
	add("pg_inherits", emptyRows, vcol{"inhrelid", oid}, vcol{"inhparent", oid}, vcol{"inhseqno", i4},
		vcol{"inhdetachpending", b})
	add("pg_trigger", emptyRows, vcol{"oid", oid}, vcol{"tgrelid", oid}, vcol{"tgparentid", oid},
		vcol{"tgname", nm}, vcol{"tgfoid", oid}, vcol{"tgtype", i2}, vcol{"tgenabled", txt},
		vcol{"tgisinternal", b}, vcol{"tgconstrrelid", oid}, vcol{"tgconstrindid", oid},
		vcol{"tgconstraint", oid}, vcol{"tgdeferrable", b}, vcol{"tginitdeferred", b}, vcol{"tgnargs", i2})
	add("pg_rewrite", emptyRows, vcol{"oid", oid}, vcol{"rulename", nm}, vcol{"ev_class", oid},
		vcol{"ev_type", txt}, vcol{"ev_enabled", txt}, vcol{"is_instead", b})
	add("pg_extension", emptyRows, vcol{"oid", oid}, vcol{"extname", nm}, vcol{"extowner", oid},
		vcol{"extnamespace", oid}, vcol{"extrelocatable", b}, vcol{"extversion", txt})
	add("pg_depend", dependRows, vcol{"classid", oid}, vcol{"objid", oid}, vcol{"objsubid", i4},
		vcol{"refclassid", oid}, vcol{"refobjid", oid}, vcol{"refobjsubid", i4}, vcol{"deptype", txt})
	add("pg_tables", tablesViewRows, vcol{"schemaname", nm}, vcol{"tablename", nm}, vcol{"tableowner", nm},
		vcol{"tablespace", nm}, vcol{"hasindexes", b}, vcol{"hasrules", b}, vcol{"hastriggers", b},
		vcol{"rowsecurity", b})
	add("pg_views", pgViewsRows, vcol{"schemaname", nm}, vcol{"viewname", nm}, vcol{"viewowner", nm},
		vcol{"definition", txt})
	add("pg_indexes", indexesViewRows, vcol{"schemaname", nm}, vcol{"tablename", nm}, vcol{"indexname", nm},
		vcol{"tablespace", nm}, vcol{"indexdef", txt})
}

// schemaDescs returns the session schema's descriptors in name order.
func schemaDescs(c *Ctx) ([]*catalog.Descriptor, error) {
	schemas, err := c.Cat.ListNames(c.Context, c.DBID, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	var out []*catalog.Descriptor
	for _, name := range sortedNames(schemas) {
		ds, err := descsIn(c, schemas[name])
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// descsIn lists the relations of one schema, sorted by name.
func descsIn(c *Ctx, schemaID uint64) ([]*catalog.Descriptor, error) {
	names, err := c.Cat.ListNames(c.Context, schemaID, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	var out []*catalog.Descriptor
	for _, name := range sortedNames(names) {
		d, err := c.Cat.Get(c.Context, names[name], kvapi.LockShared)
		if err != nil {
			return nil, err
		}
		if d != nil {
			out = append(out, d)
		}
	}
	return out, nil
}

// schemaTables is schemaDescs' tables.
func schemaTables(c *Ctx) ([]*catalog.Descriptor, error) {
	ds, err := schemaDescs(c)
	var out []*catalog.Descriptor
	for _, d := range ds {
		if d.Kind == catalog.KindTable && d.Table != nil {
			out = append(out, d)
		}
	}
	return out, err
}

func attributeRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	var out []sem.Row
	for _, d := range ds {
		for _, col := range d.Table.Columns {
			if !col.Hidden {
				out = append(out, attributeRow(int64(d.ID), col, attnum(d.Table, col.ID)))
			}
		}
		for _, idx := range visibleIndexes(d.Table) {
			for i, id := range idx.Columns {
				col := d.Table.Columns[d.Table.ColumnByID(id)]
				col.NotNull, col.Default = false, ""
				out = append(out, attributeRow(IndexOID(d.ID, idx.ID), col, i+1))
			}
		}
	}
	return out, err
}

func attributeRow(rel int64, col catalog.Column, num int) sem.Row {
	t := col.Type
	storage, coll, align := "p", int64(0), "i"
	switch {
	case t.Family == types.DecimalFamily:
		storage = "m" // numeric is stored inline, as PostgreSQL's "main"
	case t.Size() < 0:
		storage = "x"
	}
	elem, ndims := t, int64(0)
	if t.Family == types.ArrayFamily {
		elem, ndims = t.Elem(), 1
	}
	if elem.Family == types.StringFamily {
		coll = defaultCollation
	}
	if elem.Size() == 8 {
		align = "d"
	}
	return sem.Row{rel, col.Name, int64(t.OID), int64(-1), int64(t.Size()), int64(num), ndims,
		int64(-1), int64(t.TypeMod()), t.Size() > 0 && t.Size() <= 8, align,
		storage, "", col.NotNull, col.Default != "" && col.Identity == "",
		false, col.Identity, "", false,
		true, int64(0), coll, nil,
		nil, nil}
}

// attrdefOID is a column default's OID.
func attrdefOID(tableID uint64, num int) int64 {
	return int64(conOIDBase/2 + tableID*indexOIDsPerTab*4 + uint64(num))
}

func attrdefRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	var out []sem.Row
	for _, d := range ds {
		for _, col := range d.Table.Columns {
			if col.Default != "" && col.Identity == "" && !col.Hidden {
				n := attnum(d.Table, col.ID)
				out = append(out, sem.Row{attrdefOID(d.ID, n), int64(d.ID), int64(n), col.Default})
			}
		}
	}
	return out, err
}

// ConstraintOID is the pg_constraint OID of a table's n-th constraint
// (see conOIDBase).
func ConstraintOID(tableID uint64, n int) int64 {
	return int64(conOIDBase + tableID*indexOIDsPerTab + uint64(n))
}

func constraintRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	var out []sem.Row
	for _, d := range ds {
		for _, con := range tableConstraints(d) {
			row, err := constraintRow(c, d, con)
			if err != nil {
				return nil, err
			}
			out = append(out, row)
		}
	}
	return out, err
}

// constraint is one PRIMARY KEY, UNIQUE, CHECK or FOREIGN KEY constraint
// of a table.
type constraint struct {
	oid   int64
	name  string
	typ   string // p, u, c, f
	index *catalog.Index
	check *catalog.Check
	fk    *catalog.ForeignKey
}

func tableConstraints(d *catalog.Descriptor) []constraint {
	var out []constraint
	for _, idx := range visibleIndexes(d.Table) {
		if !idx.Constraint && idx.ID != catalog.PrimaryIndexID {
			continue
		}
		typ := "u"
		if idx.ID == catalog.PrimaryIndexID {
			typ = "p"
		}
		out = append(out, constraint{oid: ConstraintOID(d.ID, int(idx.ID)), name: idx.Name, typ: typ, index: idx})
	}
	for i := range d.Table.Checks {
		ch := &d.Table.Checks[i]
		out = append(out, constraint{oid: ConstraintOID(d.ID, checkConOffset+i), name: ch.Name, typ: "c", check: ch})
	}
	for i := range d.Table.ForeignKeys {
		fk := &d.Table.ForeignKeys[i]
		out = append(out, constraint{oid: ConstraintOID(d.ID, fkConOffset+i), name: fk.Name, typ: "f", fk: fk})
	}
	return out
}

// fkParentOf returns the table a FOREIGN KEY references and its index on
// the referenced columns.
func fkParentOf(c *Ctx, fk *catalog.ForeignKey) (*catalog.Descriptor, *catalog.Index, error) {
	p, err := c.Cat.Get(c.Context, fk.RefTable, kvapi.LockShared)
	if err != nil || p == nil || p.Table == nil {
		return nil, nil, err
	}
	return p, referencedIndex(p.Table, fk.RefColumns), nil
}

func attnums(t *catalog.Table, ids []uint32) []types.Datum {
	out := []types.Datum{}
	for _, id := range ids {
		out = append(out, int64(attnum(t, id)))
	}
	return out
}

func constraintRow(c *Ctx, d *catalog.Descriptor, con constraint) (sem.Row, error) {
	indid, key, bin := int64(0), []types.Datum(nil), any(nil)
	frel, fkey, upd, del, match := int64(0), any(nil), " ", " ", " "
	var delset any
	switch {
	case con.index != nil:
		indid = IndexOID(d.ID, con.index.ID)
		key = attnums(d.Table, con.index.Columns)
	case con.fk != nil:
		p, idx, err := fkParentOf(c, con.fk)
		if err != nil || p == nil || idx == nil {
			return nil, err
		}
		key, frel, fkey = attnums(d.Table, con.fk.Columns), int64(p.ID), attnums(p.Table, con.fk.RefColumns)
		indid = IndexOID(p.ID, idx.ID)
		upd, del, match = catalog.Action(con.fk.OnUpdate), catalog.Action(con.fk.OnDelete), "s"
		if len(con.fk.DeleteSetColumns) > 0 {
			delset = attnums(d.Table, con.fk.DeleteSetColumns)
		}
	default:
		bin = con.check.Expr
		key = nil
	}
	return sem.Row{con.oid, con.name, nspOf(c, d), con.typ, false, false, true,
		int64(d.ID), int64(0), indid, int64(0), frel, upd, del, match,
		true, int64(0), false, key, fkey, delset, bin}, nil
}

// builtinTypes are the types pg_type lists, in OID order.
func builtinTypes() []types.T {
	var out []types.T
	for oid := uint32(0); oid < 4000; oid++ {
		if t, ok := types.FromOID(oid); ok {
			out = append(out, t)
		}
	}
	return out
}

func typeRows(*Ctx) ([]sem.Row, error) {
	var out []sem.Row
	for _, t := range builtinTypes() {
		typtype, cat, elem, coll := "b", typeCategory(t), int64(0), int64(0)
		if t.Family == types.ArrayFamily {
			elem = int64(t.Elem().OID)
		}
		if t.Family == types.StringFamily || t.Family == types.ArrayFamily && t.Elem().Family == types.StringFamily {
			coll = defaultCollation
		}
		if t.Family == types.UnknownFamily {
			typtype = "p"
		}
		out = append(out, sem.Row{int64(t.OID), t.TypName(), int64(pgCatalogOID), int64(sem.BootstrapRoleOID),
			int64(t.Size()), t.Size() > 0 && t.Size() <= 8, typtype, cat, false, true, ",",
			int64(0), elem, int64(t.ArrayTypeOID()), false, int64(0), int64(-1), int64(0), coll, nil})
	}
	return out, nil
}

func typeCategory(t types.T) string {
	switch t.Family {
	case types.BoolFamily:
		return "B"
	case types.IntFamily, types.FloatFamily, types.DecimalFamily, types.OidFamily:
		return "N"
	case types.StringFamily:
		return "S"
	case types.DateFamily, types.TimestampFamily, types.TimestampTZFamily:
		return "D"
	case types.IntervalFamily:
		return "T"
	case types.ArrayFamily:
		return "A"
	case types.UnknownFamily:
		return "X"
	}
	return "U"
}

func collationRows(*Ctx) ([]sem.Row, error) {
	return []sem.Row{
		{int64(defaultCollation), "default", int64(pgCatalogOID), int64(sem.BootstrapRoleOID), "d", true, int64(-1), nil, nil},
		{int64(950), "C", int64(pgCatalogOID), int64(sem.BootstrapRoleOID), "c", true, int64(-1), "C", "C"},
		{int64(951), "POSIX", int64(pgCatalogOID), int64(sem.BootstrapRoleOID), "c", true, int64(-1), "POSIX", "POSIX"},
	}, nil
}

func sequenceRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaDescs(c)
	var out []sem.Row
	for _, d := range ds {
		if s := d.Sequence; d.Kind == catalog.KindSequence && s != nil {
			out = append(out, sem.Row{int64(d.ID), int64(sequenceType(c, d).OID), s.Start, s.Increment,
				s.Max, s.Min, max(s.Cache, 1), s.Cycle})
		}
	}
	return out, err
}

// sequenceType is the type of the column that owns the sequence (integer
// for serial, bigint for bigserial), bigint when none does.
func sequenceType(c *Ctx, d *catalog.Descriptor) types.T {
	if d.Sequence != nil && d.Sequence.Type.OID != 0 {
		return d.Sequence.Type
	}
	if _, col := sequenceOwner(c, d); col != nil {
		return col.Type
	}
	return types.Int8
}

// sequenceOwner returns the table and column a serial column's sequence
// belongs to: the column whose default draws from it.
func sequenceOwner(c *Ctx, d *catalog.Descriptor) (*catalog.Descriptor, *catalog.Column) {
	if d.Sequence == nil || d.Sequence.OwnedBy == 0 {
		return nil, nil
	}
	owner, err := c.Cat.Get(c.Context, d.Sequence.OwnedBy, kvapi.LockShared)
	if err != nil || owner == nil || owner.Table == nil {
		return nil, nil
	}
	def := fmt.Sprintf("nextval('%s'::regclass)", d.Name)
	for i, col := range owner.Table.Columns {
		if col.Default == def {
			return owner, &owner.Table.Columns[i]
		}
	}
	return nil, nil
}

// pgClassOID is pg_class's own OID, the classid of relations in pg_depend.
const pgClassOID = 1259

// dependRows holds the dependency psql shows: a serial column's sequence
// is owned by the column ('a').
func dependRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaDescs(c)
	var out []sem.Row
	for _, d := range ds {
		if t, col := sequenceOwner(c, d); col != nil {
			out = append(out, sem.Row{int64(pgClassOID), int64(d.ID), int64(0), int64(pgClassOID),
				int64(t.ID), int64(attnum(t.Table, col.ID)), "a"})
		}
	}
	return out, err
}

func tablesViewRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	var out []sem.Row
	for _, d := range ds {
		out = append(out, sem.Row{schemaOf(c, d), d.Name, c.Eval.Env.User(), nil,
			len(visibleIndexes(d.Table)) > 0, false, false, false})
	}
	return out, err
}

func indexesViewRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	var out []sem.Row
	for _, d := range ds {
		for _, idx := range visibleIndexes(d.Table) {
			out = append(out, sem.Row{schemaOf(c, d), d.Name, idx.Name, nil, indexDef(schemaOf(c, d), d, idx)})
		}
	}
	return out, err
}

// procOIDBase is where the built-in functions' pg_proc OIDs start: a
// function's OID is procOIDBase plus a hash of its name, so it does not
// change when functions are added.
const procOIDBase = 1 << 28

func procOID(name string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return int64(procOIDBase + h.Sum32()%(1<<27))
}

// procRows lists ordo's built-in functions, in pg_catalog as PostgreSQL's
// are; ordo has no user-defined functions.
func procRows(*Ctx) ([]sem.Row, error) {
	names, aggs := sem.FuncNames()
	out := make([]sem.Row, 0, len(names))
	for _, n := range names {
		kind := "f"
		if aggs[n] {
			kind = "a"
		}
		out = append(out, sem.Row{procOID(n), n, int64(pgCatalogOID), int64(sem.BootstrapRoleOID),
			int64(12), kind, false, nil})
	}
	return out, nil
}

func init() {
	oid, nm, txt, b := types.Oid, types.Name, types.Text, types.Bool
	vtables["pg_proc"] = &vtable{rows: procRows, cols: []vcol{{"oid", oid}, {"proname", nm},
		{"pronamespace", oid}, {"proowner", oid}, {"prolang", oid}, {"prokind", txt}, {"proretset", b},
		{"prosrc", txt}}}
	null := func(*sem.Ctx, []types.Datum) (types.Datum, error) { return nil, nil }
	// No statistics objects, triggers or rules exist, so these
	// are never given the OID of one.
	sem.RegisterFunc("pg_get_statisticsobjdef_columns", []types.T{oid}, 1, txt, null)
	sem.RegisterFunc("pg_get_triggerdef", []types.T{oid, b}, 1, txt, null)
	sem.RegisterFunc("pg_get_ruledef", []types.T{oid, b}, 1, txt, null)
	// ordo's functions have no pg_proc argument metadata.
	sem.RegisterFunc("pg_get_function_result", []types.T{oid}, 1, txt, null)
	sem.RegisterFunc("pg_get_function_arguments", []types.T{oid}, 1, txt, null)
}
