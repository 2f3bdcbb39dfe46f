package exec

import (
	"errors"
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
)

// createIndex adds an index and backfills it in the same transaction; the
// exclusive lock on the descriptor keeps writers out meanwhile. This is
// CREATE INDEX in a transaction block; an autocommit one is built online
// (CreateIndexOnline).
func createIndex(c *Ctx, s *pg.IndexStmt) (*Result, error) {
	if s.Concurrent {
		return nil, pgcode.New(pgcode.ActiveSQLTransaction, "CREATE INDEX CONCURRENTLY cannot run inside a transaction block")
	}
	d, idx, err := prepareIndex(c, s)
	if err != nil || d == nil {
		return &Result{Tag: "CREATE INDEX"}, err
	}
	d.Table.Indexes = append(d.Table.Indexes, idx)
	d.Table.NextIndexID++
	if err := backfill(c, d, &d.Table.Indexes[len(d.Table.Indexes)-1]); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE INDEX"}, c.Cat.Put(c.Context, d)
}

// prepareIndex locks the table's descriptor exclusively and returns a
// mutable copy with the new index, not yet added. A nil descriptor and
// error means IF NOT EXISTS found the name taken (the notice is sent).
func prepareIndex(c *Ctx, s *pg.IndexStmt) (*catalog.Descriptor, catalog.Index, error) {
	if s.WhereClause != nil {
		return nil, catalog.Index{}, sqlerr.Unsupported("partial indexes are not supported yet")
	}
	d, err := lookupTable(c.Context, c.names(), s.Relation, kvapi.LockExclusive)
	if err != nil {
		return nil, catalog.Index{}, err
	}
	if d, err = c.Cat.Mutable(c.Context, d.ID); err != nil {
		return nil, catalog.Index{}, err
	}
	idx, err := newIndex(d, s)
	if err != nil {
		return nil, idx, err
	}
	taken, err := indexNameTaken(c, d.ParentID, idx.Name)
	switch {
	case err != nil:
		return nil, idx, err
	case taken && s.IfNotExists:
		c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Message: fmt.Sprintf("relation %q already exists, skipping", idx.Name)})
		return nil, idx, nil
	case taken:
		return nil, idx, pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", idx.Name)
	}
	return d, idx, nil
}

func newIndex(d *catalog.Descriptor, s *pg.IndexStmt) (catalog.Index, error) {
	idx := catalog.Index{ID: d.Table.NextIndexID, Name: s.Idxname, Unique: s.Unique}
	var names []string
	for _, p := range s.IndexParams {
		el := p.GetIndexElem()
		if el.Expr != nil {
			return idx, sqlerr.Unsupported("expression indexes are not supported yet")
		}
		i := d.Table.ColumnIndex(el.Name)
		if i < 0 {
			return idx, pgcode.New(sqlerr.UndefinedColumn, "column %q does not exist", el.Name)
		}
		idx.Columns = append(idx.Columns, d.Table.Columns[i].ID)
		names = append(names, el.Name)
	}
	if idx.Name == "" {
		suffix := "idx"
		if s.Unique {
			suffix = "key"
		}
		idx.Name = fmt.Sprintf("%s_%s_%s", d.Name, strings.Join(names, "_"), suffix)
	}
	return idx, nil
}

// indexNameTaken reports whether a relation (table, sequence or index) of
// the schema has the name.
func indexNameTaken(c *Ctx, schemaID uint64, name string) (bool, error) {
	names, err := c.Cat.ListNames(c.Context, schemaID, kvapi.LockShared)
	if err != nil {
		return false, err
	}
	if _, ok := names[name]; ok {
		return true, nil
	}
	_, _, found, err := findIndex(c, names, name)
	return found, err
}

func findIndex(c *Ctx, names map[string]uint64, name string) (*catalog.Descriptor, int, bool, error) {
	for _, id := range names {
		d, err := c.Cat.Get(c.Context, id, kvapi.LockShared)
		if err != nil {
			return nil, 0, false, err
		}
		if d == nil || d.Table == nil {
			continue
		}
		if i, ok := d.Table.IndexByName(name); ok {
			return d, i, true, nil
		}
	}
	return nil, 0, false, nil
}

// backfill writes idx's entries for every row, in key order (see
// replaceSorted).
func backfill(c *Ctx, d *catalog.Descriptor, idx *catalog.Index) error {
	codec := rowenc.NewCodec(d.ID, d.Table)
	p := codec.IndexPrefix(catalog.PrimaryIndexID)
	kvs, err := c.kv().Scan(c.Context, p, keys.PrefixEnd(p), 0, false, kvapi.LockShared)
	if err != nil {
		return err
	}
	rows := make([]sem.Row, len(kvs))
	for i, kv := range kvs {
		if rows[i], err = codec.DecodeRow(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	w := &writer{desc: d, codec: codec}
	return replaceSorted(c, nil, indexEntries(w, idx, rows), func(e entry) error {
		return backfillErr(w.dupErr(kvapi.ErrKeyExists, idx, rows[e.row]), idx)
	})
}

func backfillErr(err error, idx *catalog.Index) error {
	var pe *pgcode.Error
	if errors.As(err, &pe) && pe.Code == pgcode.UniqueViolation {
		e := pgcode.New(pgcode.UniqueViolation, "could not create unique index %q", idx.Name)
		e.Detail = strings.Replace(pe.Detail, "already exists", "is duplicated", 1)
		return e
	}
	return err
}

func dropIndexes(c *Ctx, s *pg.DropStmt) (*Result, error) {
	for _, o := range s.Objects {
		schema, name, err := objectSchemaName(o)
		if err != nil {
			return nil, err
		}
		if err := dropIndex(c, schema, name, s.MissingOk); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "DROP INDEX"}, nil
}

// pathNames returns the relations of schema, or of every schema of the
// search path (the first schema's name wins).
func pathNames(c *Ctx, schema string) (map[string]uint64, error) {
	path := c.SearchPath
	if schema != "" {
		if _, err := c.names().Schema(c.Context, schema, kvapi.LockShared); err != nil {
			return nil, err
		}
		path = []string{schema}
	}
	out := map[string]uint64{}
	for _, s := range path {
		sid, ok, err := c.Cat.LookupID(c.Context, c.DBID, s, kvapi.LockShared)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		names, err := c.Cat.ListNames(c.Context, sid, kvapi.LockShared)
		if err != nil {
			return nil, err
		}
		for n, id := range names {
			if _, seen := out[n]; !seen {
				out[n] = id
			}
		}
	}
	return out, nil
}

// lookupIndex finds the index name in schema, or in the search path.
func lookupIndex(c *Ctx, schema, name string) (*catalog.Descriptor, int, bool, error) {
	names, err := pathNames(c, schema)
	if err != nil {
		return nil, 0, false, err
	}
	return findIndex(c, names, name)
}

func dropIndex(c *Ctx, schema, name string, missingOK bool) error {
	d, i, found, err := lookupIndex(c, schema, name)
	if e, ok := err.(*pgcode.Error); ok && missingOK && e.Code == sqlerr.InvalidSchemaName {
		err = nil
	}
	if err != nil {
		return err
	}
	if !found {
		if missingOK {
			c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Message: fmt.Sprintf("index %q does not exist, skipping", name)})
			return nil
		}
		return pgcode.New(pgcode.UndefinedObject, "index %q does not exist", name)
	}
	if d.Table.Indexes[i].Constraint {
		e := pgcode.New("2BP01", "cannot drop index %s because constraint %s on table %s requires it", name, name, d.Name)
		e.Hint = fmt.Sprintf("You can drop constraint %s on table %s instead.", name, d.Name)
		return e
	}
	if d, err = c.Cat.Mutable(c.Context, d.ID); err != nil {
		return err
	}
	p := keys.IndexPrefix(d.ID, uint64(d.Table.Indexes[i].ID))
	if err := c.kv().DeleteRange(c.Context, p, keys.PrefixEnd(p)); err != nil {
		return err
	}
	d.Table.Indexes = append(d.Table.Indexes[:i], d.Table.Indexes[i+1:]...)
	return c.Cat.Put(c.Context, d)
}
