package exec

import (
	"fmt"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// reservedSchemaName is PostgreSQL's 42939.
const reservedSchemaName pgcode.Code = "42939"

// createSchema runs CREATE SCHEMA [IF NOT EXISTS] [name] [AUTHORIZATION
// role]: a schema descriptor under the database, owned by the role (the
// current user by default).
func createSchema(c *Ctx, s *pg.CreateSchemaStmt) (*Result, error) {
	if len(s.SchemaElts) > 0 {
		return nil, sqlerr.Unsupported("CREATE SCHEMA with schema elements is not supported yet")
	}
	owner := c.Eval.Env.User()
	if r := s.Authrole; r != nil && r.Roletype == pg.RoleSpecType_ROLESPEC_CSTRING {
		owner = r.Rolename
	}
	u, err := c.Cat.GetUser(c.Context, owner, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, pgcode.New(pgcode.UndefinedObject, "role %q does not exist", owner)
	}
	name := s.Schemaname
	if name == "" {
		name = owner
	}
	if strings.HasPrefix(name, "pg_") {
		e := pgcode.New(reservedSchemaName, "unacceptable schema name %q", name)
		e.Detail = `The prefix "pg_" is reserved for system schemas.`
		return nil, e
	}
	_, exists, err := c.Cat.LookupID(c.Context, c.DBID, name, kvapi.LockExclusive)
	if err != nil {
		return nil, err
	}
	if exists || virtualSchema(name) {
		if s.IfNotExists {
			c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: sqlerr.DuplicateSchema, Message: fmt.Sprintf("schema %q already exists, skipping", name)})
			return &Result{Tag: "CREATE SCHEMA"}, nil
		}
		return nil, pgcode.New(sqlerr.DuplicateSchema, "schema %q already exists", name)
	}
	d := &catalog.Descriptor{Kind: catalog.KindSchema, Name: name, Owner: owner}
	if _, err := c.Cat.Create(c.Context, c.DBID, d); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE SCHEMA"}, nil
}

// dropSchemas runs DROP SCHEMA [IF EXISTS] name [, ...] [CASCADE |
// RESTRICT]. The schema's name is locked exclusively, so statements that
// resolve names through it (with LockShared) wait or have finished.
func dropSchemas(c *Ctx, s *pg.DropStmt) (*Result, error) {
	cascade := s.Behavior == pg.DropBehavior_DROP_CASCADE
	for _, o := range s.Objects {
		name := o.GetString_().GetSval()
		if virtualSchema(name) {
			return nil, pgcode.New(sqlerr.DependentObjectsExist, "cannot drop schema %s because it is required by the database system", name)
		}
		id, found, err := c.Cat.LookupID(c.Context, c.DBID, name, kvapi.LockExclusive)
		if err != nil {
			return nil, err
		}
		if !found {
			if s.MissingOk {
				skipNotice(c, "schema %q does not exist, skipping", name)
				continue
			}
			return nil, errNoSchema(name)
		}
		if err := dropSchema(c, id, name, cascade); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "DROP SCHEMA"}, nil
}

func dropSchema(c *Ctx, id uint64, name string, cascade bool) error {
	ds, err := descsIn(c, id)
	if err != nil {
		return err
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].ID < ds[j].ID })
	deps := schemaDependents(ds, name)
	if len(deps) > 0 && !cascade {
		e := pgcode.New(sqlerr.DependentObjectsExist, "cannot drop schema %s because other objects depend on it", name)
		for i := range deps {
			deps[i] += " depends on schema " + name
		}
		e.Detail = strings.Join(deps, "\n")
		e.Hint = "Use DROP ... CASCADE to drop the dependent objects too."
		return e
	}
	cascadeNotice(c, deps)
	if err := dropSchemaContents(c, ds); err != nil {
		return err
	}
	if err := c.Cat.DeleteName(c.Context, c.DBID, name); err != nil {
		return err
	}
	return c.Cat.Delete(c.Context, id)
}

// schemaDependents names the objects DROP SCHEMA would drop with it, as
// PostgreSQL lists them (a table's own sequences go with the table).
func schemaDependents(ds []*catalog.Descriptor, schema string) []string {
	var out []string
	for _, d := range ds {
		switch {
		case d.Kind == catalog.KindTable:
			out = append(out, "table "+schema+"."+d.Name)
		case d.Kind == catalog.KindView:
			out = append(out, "view "+schema+"."+d.Name)
		case d.Kind == catalog.KindSequence && d.Sequence.OwnedBy == 0:
			out = append(out, "sequence "+schema+"."+d.Name)
		}
	}
	return out
}

func cascadeNotice(c *Ctx, deps []string) {
	switch len(deps) {
	case 0:
	case 1:
		skipNotice(c, "drop cascades to %s", deps[0])
	default:
		c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion,
			Message: fmt.Sprintf("drop cascades to %d other objects", len(deps)),
			Detail:  "drop cascades to " + strings.Join(deps, "\ndrop cascades to ")})
	}
}

// dropSchemaContents drops the schema's tables (with their indexes and
// owned sequences, and the foreign keys referencing them) and then its
// remaining sequences (with the defaults using them).
func dropSchemaContents(c *Ctx, ds []*catalog.Descriptor) error {
	dropping := map[string]bool{}
	for _, d := range ds {
		if d.Kind == catalog.KindTable {
			dropping[d.Name] = true
		}
	}
	for _, d := range ds {
		if d.Kind == catalog.KindView {
			if err := dropView(c, d.ID); err != nil {
				return err
			}
		}
	}
	for _, d := range ds {
		if d.Kind == catalog.KindTable {
			if err := dropTable(c, d.Name, d.ID, true, false, true, dropping); err != nil {
				return err
			}
		}
	}
	for _, d := range ds {
		if d.Kind != catalog.KindSequence {
			continue
		}
		if _, found, err := c.Cat.LookupID(c.Context, d.ParentID, d.Name, kvapi.LockExclusive); err != nil || !found {
			if err != nil {
				return err
			}
			continue // owned by a table dropped above
		}
		if err := dropSequence(c, d.Name, d.ID, true, false, true); err != nil {
			return err
		}
	}
	return nil
}
