package exec

import (
	"fmt"
	"sort"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// pg_catalog is served by virtual tables computed from the catalog when a
// statement reads them. OIDs are stable: a table's or sequence's OID is its
// descriptor ID, an index's is indexOIDBase + 64*table ID + index ID, and
// the schemas and roles use PostgreSQL's fixed OIDs.
const (
	pgCatalogOID    = 11
	publicOID       = 2200
	infoSchemaOID   = 13000
	heapAMOID       = 2
	btreeAMOID      = 403
	utf8Encoding    = 6
	indexOIDBase    = 1 << 30
	indexOIDsPerTab = 64
)

// vcol is a virtual table's column.
type vcol struct {
	name string
	t    types.T
}

// vtable is a virtual pg_catalog table.
type vtable struct {
	cols []vcol
	rows func(c *Ctx) ([]sem.Row, error)
}

var vtables map[string]*vtable

func init() {
	txt, oid, b, i4, i2, nm := types.Text, types.Oid, types.Bool, types.Int4, types.Int2, types.Name
	vtables = map[string]*vtable{
		"pg_namespace": {cols: []vcol{{"oid", oid}, {"nspname", nm}, {"nspowner", oid}, {"nspacl", textArray}}, rows: namespaceRows},
		"pg_am":        {cols: []vcol{{"oid", oid}, {"amname", nm}, {"amhandler", oid}, {"amtype", txt}}, rows: amRows},
		"pg_database": {cols: []vcol{{"oid", oid}, {"datname", nm}, {"datdba", oid}, {"encoding", i4}, {"datlocprovider", txt},
			{"datistemplate", b}, {"datallowconn", b}, {"datconnlimit", i4}, {"datcollate", txt}, {"datctype", txt},
			{"daticulocale", txt}, {"datcollversion", txt}, {"datacl", textArray}}, rows: databaseRows},
		"pg_index": {cols: []vcol{{"indexrelid", oid}, {"indrelid", oid}, {"indnatts", i2}, {"indnkeyatts", i2},
			{"indisunique", b}, {"indnullsnotdistinct", b}, {"indisprimary", b}, {"indisexclusion", b}, {"indimmediate", b},
			{"indisclustered", b}, {"indisvalid", b}, {"indisreplident", b}, {"indkey", txt}, {"indexprs", txt}, {"indpred", txt}}, rows: indexRows},
		"pg_class": {cols: []vcol{{"oid", oid}, {"relname", nm}, {"relnamespace", oid}, {"reltype", oid}, {"reloftype", oid},
			{"relowner", oid}, {"relam", oid}, {"relfilenode", oid}, {"reltablespace", oid}, {"reltoastrelid", oid},
			{"relhasindex", b}, {"relisshared", b}, {"relpersistence", txt}, {"relkind", txt}, {"relnatts", i2},
			{"relchecks", i2}, {"relhasrules", b}, {"relhastriggers", b}, {"relhassubclass", b}, {"relrowsecurity", b},
			{"relforcerowsecurity", b}, {"relispopulated", b}, {"relreplident", txt}, {"relispartition", b},
			{"relacl", textArray}, {"reloptions", textArray}, {"relpartbound", txt}}, rows: classRows},
	}
}

// virtualTable returns the pg_catalog table named name, if any.
func virtualTable(name string) (*vtable, bool) {
	v, ok := vtables[name]
	return v, ok
}

func (v *vtable) scope(alias string) sem.Scope {
	s := make(sem.Scope, len(v.cols))
	for i, c := range v.cols {
		s[i] = sem.ScopeCol{Table: alias, Name: c.name, T: c.t}
	}
	return s
}

// vtableNode reads a virtual table.
type vtableNode struct {
	v    *vtable
	name string // for EXPLAIN
}

func (n *vtableNode) rows(c *Ctx) ([]sem.Row, error) { return n.v.rows(c) }

// namespaceRows lists pg_catalog, information_schema and the database's
// schemas: public with PostgreSQL's OID, the others with their descriptor
// IDs.
func namespaceRows(c *Ctx) ([]sem.Row, error) {
	out := []sem.Row{
		{int64(pgCatalogOID), "pg_catalog", int64(sem.BootstrapRoleOID), nil},
		{int64(infoSchemaOID), "information_schema", int64(sem.BootstrapRoleOID), nil},
	}
	schemas, err := schemaList(c)
	if err != nil {
		return nil, err
	}
	for _, d := range schemas {
		owner, err := schemaOwnerOID(c, d)
		if err != nil {
			return nil, err
		}
		out = append(out, sem.Row{namespaceOID(d), d.Name, owner, nil})
	}
	return out, nil
}

// schemaList returns the database's schema descriptors in name order.
func schemaList(c *Ctx) ([]*catalog.Descriptor, error) {
	names, err := c.Cat.ListNames(c.Context, c.DBID, kvapi.LockShared)
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

// namespaceOID is a schema's OID: PostgreSQL's for public, the descriptor
// ID for the others.
func namespaceOID(d *catalog.Descriptor) int64 {
	if d.Name == catalog.PublicSchema && d.Owner == "" {
		return publicOID
	}
	return int64(d.ID)
}

// schemaOwnerOID is the OID of a schema's owner (public's is
// pg_database_owner).
func schemaOwnerOID(c *Ctx, d *catalog.Descriptor) (int64, error) {
	if d.Owner == "" {
		return int64(sem.DatabaseOwnerRoleOID), nil
	}
	u, err := c.Cat.GetUser(c.Context, d.Owner, kvapi.LockShared)
	if err != nil || u == nil {
		return int64(sem.BootstrapRoleOID), err
	}
	return int64(u.OID), nil
}

// schemaOf returns the name of a relation's schema ("public" if its
// descriptor cannot be read: catalog rows carry no errors).
func schemaOf(c *Ctx, d *catalog.Descriptor) string {
	name, _, _ := relSchema(c, d)
	return name
}

// nspOf returns the OID of a relation's schema.
func nspOf(c *Ctx, d *catalog.Descriptor) int64 {
	_, oid, _ := relSchema(c, d)
	return oid
}

// relSchema returns the schema of a relation, with its namespace OID.
func relSchema(c *Ctx, d *catalog.Descriptor) (string, int64, error) {
	s, err := c.Cat.Get(c.Context, d.ParentID, kvapi.LockShared)
	if err != nil || s == nil {
		return catalog.PublicSchema, publicOID, err
	}
	return s.Name, namespaceOID(s), nil
}

func amRows(*Ctx) ([]sem.Row, error) {
	return []sem.Row{
		{int64(heapAMOID), "heap", int64(3), "t"},
		{int64(btreeAMOID), "btree", int64(330), "i"},
	}, nil
}

func databaseRows(c *Ctx) ([]sem.Row, error) {
	names, err := c.Cat.ListNames(c.Context, 0, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	var out []sem.Row
	for _, name := range sortedNames(names) {
		out = append(out, sem.Row{int64(names[name]), name, int64(sem.BootstrapRoleOID), int64(utf8Encoding), "c",
			false, true, int64(-1), "C.UTF-8", "C.UTF-8", nil, nil, nil})
	}
	return out, nil
}

func sortedNames(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// classRows lists the session's schema: tables, their indexes, sequences.
func classRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaDescs(c)
	if err != nil {
		return nil, err
	}
	var out []sem.Row
	for _, d := range ds {
		_, nsp, err := relSchema(c, d)
		if err != nil {
			return nil, err
		}
		out = append(out, descClassRows(d, nsp)...)
	}
	return out, nil
}

func descClassRows(d *catalog.Descriptor, nsp int64) []sem.Row {
	switch {
	case d == nil:
		return nil
	case d.Kind == catalog.KindSequence:
		return []sem.Row{classRow(int64(d.ID), d.Name, nsp, "S", 0, 3, false, 0)}
	case d.Kind == catalog.KindView:
		return []sem.Row{viewClassRow(d, nsp)}
	case d.Kind != catalog.KindTable:
		return nil
	}
	t := d.Table
	idxs := visibleIndexes(t)
	out := []sem.Row{classRow(int64(d.ID), d.Name, nsp, "r", heapAMOID, visibleColumns(t), len(idxs) > 0, len(t.Checks))}
	// PostgreSQL's foreign keys are triggers on both tables; psql looks
	// for them only where relhastriggers is set.
	out[0][classHasTriggers] = len(t.ForeignKeys) > 0 || len(t.ReferencedBy) > 0
	for _, idx := range idxs {
		out = append(out, classRow(IndexOID(d.ID, idx.ID), idx.Name, nsp, "i", btreeAMOID, len(idx.Columns), false, 0))
	}
	return out
}

// classHasTriggers is relhastriggers' position in a pg_class row.
const classHasTriggers = 17

func classRow(oid int64, name string, nsp int64, kind string, am int64, natts int, hasIndex bool, checks int) sem.Row {
	return sem.Row{oid, name, nsp, int64(0), int64(0),
		int64(sem.BootstrapRoleOID), am, oid, int64(0), int64(0),
		hasIndex, false, "p", kind, int64(natts),
		int64(checks), false, false, false, false,
		false, true, "d", false,
		nil, nil, nil}
}

// IndexOID is the pg_class OID of a table's index.
func IndexOID(tableID uint64, indexID uint32) int64 {
	return int64(indexOIDBase + tableID*indexOIDsPerTab + uint64(indexID))
}

// visibleIndexes are the indexes PostgreSQL would have: not the primary
// index of a table keyed by the hidden rowid, nor an index being built.
func visibleIndexes(t *catalog.Table) []*catalog.Index {
	var out []*catalog.Index
	for _, idx := range t.AllIndexes() {
		if idx.ID == catalog.PrimaryIndexID && hasHiddenPK(t) || !idx.Public() {
			continue
		}
		out = append(out, idx)
	}
	return out
}

func visibleColumns(t *catalog.Table) int {
	n := 0
	for _, c := range t.Columns {
		if !c.Hidden {
			n++
		}
	}
	return n
}

// indexRows lists pg_index: one row per visible index of the schema.
func indexRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaDescs(c)
	if err != nil {
		return nil, err
	}
	var out []sem.Row
	for _, d := range ds {
		if d.Table == nil {
			continue
		}
		for _, idx := range visibleIndexes(d.Table) {
			out = append(out, indexRow(d, idx))
		}
	}
	return out, nil
}

func indexRow(d *catalog.Descriptor, idx *catalog.Index) sem.Row {
	key := ""
	for i, id := range idx.Columns {
		if i > 0 {
			key += " "
		}
		key += fmt.Sprint(attnum(d.Table, id))
	}
	n := int64(len(idx.Columns))
	return sem.Row{IndexOID(d.ID, idx.ID), int64(d.ID), n, n,
		idx.Unique, false, idx.ID == catalog.PrimaryIndexID, false, true,
		false, true, false, key, nil, nil}
}

// attnum is a column's pg_attribute.attnum: its 1-based position among
// the visible columns.
func attnum(t *catalog.Table, id uint32) int {
	n := 0
	for _, c := range t.Columns {
		if c.Hidden {
			continue
		}
		n++
		if c.ID == id {
			return n
		}
	}
	return 0
}
