package exec

import (
	"context"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// Names resolves relation names in one database, as PostgreSQL does: a
// qualified name (s.t) in its schema, which must exist (3F000); an
// unqualified one in the first schema of the search path that has it;
// CREATE of an unqualified name in the first schema of the path that
// exists. Schema names are read with LockShared, so DROP SCHEMA (which
// locks the name exclusively) serializes with every statement that
// resolved a name through the schema.
type Names struct {
	Cat  *catalog.Txn
	DBID uint64
	// Path is search_path's schemas ("$user" already replaced by the
	// user's name); schemas that do not exist are skipped.
	Path []string
}

// virtualSchema says whether name is one of the schemas ordo serves
// without storing them.
func virtualSchema(name string) bool {
	return name == "pg_catalog" || name == "information_schema"
}

// Schema returns the ID of the schema named name, 3F000 if there is none.
func (n Names) Schema(ctx context.Context, name string, lock kvapi.Lock) (uint64, error) {
	id, found, err := n.Cat.LookupID(ctx, n.DBID, name, lock)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errNoSchema(name)
	}
	return id, nil
}

func errNoSchema(name string) *pgcode.Error {
	return pgcode.New(sqlerr.InvalidSchemaName, "schema %q does not exist", name)
}

// Lookup finds the relation rel of schema (the search path when schema is
// ""), reading its name with lock. schemaID is where it was found.
func (n Names) Lookup(ctx context.Context, schema, rel string, lock kvapi.Lock) (schemaID, id uint64, found bool, err error) {
	if schema != "" {
		if virtualSchema(schema) {
			return 0, 0, false, sqlerr.Unsupported("%s is not supported yet", schema)
		}
		if schemaID, err = n.Schema(ctx, schema, kvapi.LockShared); err != nil {
			return 0, 0, false, err
		}
		id, found, err = n.Cat.LookupID(ctx, schemaID, rel, lock)
		return schemaID, id, found, err
	}
	for _, s := range n.Path {
		sid, ok, err := n.Cat.LookupID(ctx, n.DBID, s, kvapi.LockShared)
		if err != nil {
			return 0, 0, false, err
		}
		if !ok {
			continue
		}
		if id, found, err = n.Cat.LookupID(ctx, sid, rel, lock); err != nil || found {
			return sid, id, found, err
		}
	}
	return 0, 0, false, nil
}

// CreationSchema returns the schema a new relation goes to: schema if
// given, else the first schema of the search path that exists.
func (n Names) CreationSchema(ctx context.Context, schema string) (uint64, error) {
	if schema != "" {
		if virtualSchema(schema) {
			return 0, pgcode.New(sqlerr.InsufficientPrivilege, "permission denied to create %q", schema)
		}
		return n.Schema(ctx, schema, kvapi.LockShared)
	}
	for _, s := range n.Path {
		sid, ok, err := n.Cat.LookupID(ctx, n.DBID, s, kvapi.LockShared)
		if err != nil || ok {
			return sid, err
		}
	}
	return 0, pgcode.New(sqlerr.InvalidSchemaName, "no schema has been selected to create in")
}

// Visible says whether the first schema of the path holding a relation
// named name is schemaID (pg_table_is_visible).
func (n Names) Visible(ctx context.Context, schemaID uint64, name string) (bool, error) {
	sid, _, found, err := n.Lookup(ctx, "", name, kvapi.LockShared)
	return found && sid == schemaID, err
}

// SplitQualified splits "s.t" (as in nextval('s.t') or 's.t'::regclass)
// into schema and name, removing double quotes and folding unquoted parts
// to lower case.
func SplitQualified(name string) (schema, rel string) {
	var parts []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case ch == '"' && quoted && i+1 < len(name) && name[i+1] == '"':
			cur.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
		case ch == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		case !quoted && ch >= 'A' && ch <= 'Z':
			cur.WriteByte(ch + 'a' - 'A')
		default:
			cur.WriteByte(ch)
		}
	}
	parts = append(parts, cur.String())
	if len(parts) == 1 {
		return "", parts[0]
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}

// objectSchemaName splits a DROP's object name (a list of strings).
func objectSchemaName(o *pg.Node) (schema, name string, err error) {
	items := o.GetList().GetItems()
	if len(items) == 0 {
		return "", "", sqlerr.Unsupported("object name")
	}
	if len(items) > 1 {
		schema = items[len(items)-2].GetString_().GetSval()
	}
	return schema, items[len(items)-1].GetString_().GetSval(), nil
}

// names returns the resolver of the execution's transaction.
func (c *Ctx) names() Names { return Names{Cat: c.Cat, DBID: c.DBID, Path: c.SearchPath} }

// names returns the resolver of the planner's transaction.
func (p *Planner) names() Names { return Names{Cat: p.Cat, DBID: p.DBID, Path: p.SearchPath} }

// qualifiedSeqName is how a column default names a sequence of schema
// schemaID: bare in public, qualified elsewhere (the schema's name is read
// from its descriptor).
func qualifiedSeqName(c *Ctx, schemaID uint64, name string) (string, error) {
	d, err := c.Cat.Get(c.Context, schemaID, kvapi.LockShared)
	if err != nil || d == nil || d.Name == catalog.PublicSchema {
		return name, err
	}
	return quoteIdent(d.Name) + "." + quoteIdent(name), nil
}
