package exec

import (
	"fmt"
	"slices"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// createView runs CREATE [OR REPLACE] VIEW. The query is planned once
// (in this transaction, with the session's search_path) to fix the
// columns and find the relations it names, then stored with those names
// schema-qualified.
func createView(c *Ctx, s *pg.ViewStmt) (*Result, error) {
	if err := checkViewOptions(s); err != nil {
		return nil, err
	}
	schemaID, err := c.names().CreationSchema(c.Context, s.View.Schemaname)
	if err != nil {
		return nil, withPos(err, s.View.Location)
	}
	v, err := buildView(c, s)
	if err != nil {
		return nil, err
	}
	name := s.View.Relname
	id, exists, err := c.Cat.LookupID(c.Context, schemaID, name, kvapi.LockExclusive)
	if err != nil {
		return nil, err
	}
	if exists {
		return replaceView(c, s, id, v)
	}
	d := &catalog.Descriptor{Kind: catalog.KindView, Name: name, View: v}
	if _, err := c.Cat.Create(c.Context, schemaID, d); err != nil {
		return nil, nameErr(err, name)
	}
	if err := relink(c, d, nil, v.DependsOn); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE VIEW"}, c.Cat.Put(c.Context, d)
}

func checkViewOptions(s *pg.ViewStmt) error {
	switch {
	case s.View.Relpersistence == "t":
		return sqlerr.Unsupported("temporary views are not supported")
	case s.WithCheckOption != pg.ViewCheckOption_NO_CHECK_OPTION:
		return sqlerr.Unsupported("WITH CHECK OPTION is not supported")
	case len(s.Options) > 0:
		return sqlerr.Unsupported("view options are not supported")
	}
	return nil
}

// replaceView runs CREATE OR REPLACE VIEW over an existing relation: the
// new columns must extend the old ones (42P16 as PostgreSQL).
func replaceView(c *Ctx, s *pg.ViewStmt, id uint64, v *catalog.View) (*Result, error) {
	name := s.View.Relname
	if !s.Replace {
		return nil, posErr(pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", name), s.View.Location)
	}
	d, err := c.Cat.Mutable(c.Context, id)
	if err != nil {
		return nil, err
	}
	if d == nil || d.Kind != catalog.KindView {
		return nil, pgcode.New(sqlerr.WrongObjectType, "%q is not a view", name)
	}
	if err := checkReplacedColumns(d.View.Columns, v.Columns); err != nil {
		return nil, err
	}
	old := d.View.DependsOn
	d.View = v
	if err := relink(c, d, old, v.DependsOn); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE VIEW"}, c.Cat.Put(c.Context, d)
}

func checkReplacedColumns(old, cols []catalog.Column) error {
	if len(cols) < len(old) {
		return pgcode.New(sqlerr.InvalidTableDefinition, "cannot drop columns from view")
	}
	for i, o := range old {
		n := cols[i]
		if n.Name != o.Name {
			e := pgcode.New(sqlerr.InvalidTableDefinition, "cannot change name of view column %q to %q", o.Name, n.Name)
			e.Hint = "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead."
			return e
		}
		if n.Type != o.Type {
			return pgcode.New(sqlerr.InvalidTableDefinition, "cannot change data type of view column %q from %s to %s",
				o.Name, o.Type.SQLString(), n.Type.SQLString())
		}
	}
	return nil
}

// relink moves view d from the Dependents of the relations in old to
// those in deps (d itself may be among them: CREATE OR REPLACE of a view
// over its former self).
func relink(c *Ctx, d *catalog.Descriptor, old, deps []uint64) error {
	for _, id := range old {
		if !slices.Contains(deps, id) {
			if err := updateDesc(c, d, id, func(r *catalog.Descriptor) { r.RemoveDependent(d.ID) }); err != nil {
				return err
			}
		}
	}
	for _, id := range deps {
		if !slices.Contains(old, id) {
			if err := updateDesc(c, d, id, func(r *catalog.Descriptor) { r.AddDependent(d.ID) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// updateDesc applies f to descriptor id and writes it; to self in place
// (the caller writes it).
func updateDesc(c *Ctx, self *catalog.Descriptor, id uint64, f func(*catalog.Descriptor)) error {
	if id == self.ID {
		f(self)
		return nil
	}
	r, err := c.Cat.Mutable(c.Context, id)
	if err != nil || r == nil {
		return err
	}
	f(r)
	return c.Cat.Put(c.Context, r)
}

// buildView plans the view's query and returns its definition.
func buildView(c *Ctx, s *pg.ViewStmt) (*catalog.View, error) {
	if err := qualifyRelations(c, s.Query); err != nil {
		return nil, err
	}
	query, err := deparseStmt(s.Query)
	if err != nil {
		return nil, err
	}
	sel, err := parseSelect(query)
	if err != nil {
		return nil, err
	}
	p := &Planner{Ctx: c.Context, Cat: c.Cat, DBID: c.DBID, SearchPath: c.SearchPath, Params: sem.NewParams(nil), Env: c.Eval.Env}
	sp, err := p.planSelect(sel)
	if err != nil {
		return nil, err
	}
	if len(*p.Params) > 0 {
		return nil, pgcode.New(sqlerr.UndefinedParameter, "there is no parameter $1")
	}
	cols, err := viewColumns(sp.cols, s.Aliases)
	if err != nil {
		return nil, err
	}
	v := &catalog.View{Query: query, Columns: cols, DependsOn: p.refs}
	v.Definition, v.Pretty, err = viewDefinition(c, sel, cols)
	return v, err
}

// viewColumns names the view's columns: the column list, then the
// query's names.
func viewColumns(rc []ResultCol, aliases []*pg.Node) ([]catalog.Column, error) {
	if len(aliases) > len(rc) {
		return nil, pgcode.New(pgcode.SyntaxError, "CREATE VIEW specifies more column names than columns")
	}
	cols := make([]catalog.Column, len(rc))
	for i, r := range rc {
		cols[i] = catalog.Column{ID: uint32(i + 1), Name: r.Name, Type: r.T}
		if i < len(aliases) {
			cols[i].Name = aliases[i].GetString_().GetSval()
		}
		for _, prev := range cols[:i] {
			if prev.Name == cols[i].Name {
				return nil, pgcode.New(sqlerr.DuplicateColumn, "column %q specified more than once", prev.Name)
			}
		}
	}
	return cols, nil
}

// deparseStmt returns a statement's SQL text.
func deparseStmt(n *pg.Node) (string, error) {
	tmpl, err := pg.Parse("SELECT 1")
	if err != nil {
		return "", err
	}
	return pg.Deparse(&pg.ParseResult{Version: tmpl.Version, Stmts: []*pg.RawStmt{{Stmt: n}}})
}

// qualifyRelations gives every relation name in the query that is not a
// CTE's its schema, as resolved now: pg_catalog's virtual tables first,
// then the search path. Names that resolve to nothing are left for the
// planner to report.
func qualifyRelations(c *Ctx, q *pg.Node) error {
	ctes := map[string]bool{}
	var rvs []*pg.RangeVar
	walkNodes(q.ProtoReflect(), func(m protoreflect.ProtoMessage) {
		switch x := m.(type) {
		case *pg.CommonTableExpr:
			ctes[x.Ctename] = true
		case *pg.RangeVar:
			rvs = append(rvs, x)
		}
	})
	for _, rv := range rvs {
		if rv.Schemaname != "" || ctes[rv.Relname] {
			continue
		}
		if _, ok := virtualTable(rv.Relname); ok {
			rv.Schemaname = "pg_catalog"
			continue
		}
		sid, _, found, err := c.names().Lookup(c.Context, "", rv.Relname, kvapi.LockShared)
		if err != nil || !found {
			return err
		}
		sd, err := c.Cat.Get(c.Context, sid, kvapi.LockShared)
		if err != nil || sd == nil {
			return err
		}
		rv.Schemaname = sd.Name
	}
	return nil
}

// walkNodes calls f on m and every message below it.
func walkNodes(m protoreflect.Message, f func(protoreflect.ProtoMessage)) {
	f(m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() || fd.Message() == nil:
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkNodes(l.Get(i).Message(), f)
			}
		default:
			walkNodes(v.Message(), f)
		}
		return true
	})
}

func dropViews(c *Ctx, s *pg.DropStmt) (*Result, error) {
	dropping := map[string]bool{}
	for _, o := range s.Objects {
		_, name, err := objectSchemaName(o)
		if err != nil {
			return nil, err
		}
		dropping[name] = true
	}
	for _, o := range s.Objects {
		name, id, found, err := lookupObject(c, o, s.MissingOk, kvapi.LockExclusive)
		if err != nil {
			return nil, err
		}
		var d *catalog.Descriptor
		if found {
			if d, err = c.Cat.Get(c.Context, id, kvapi.LockExclusive); err != nil {
				return nil, err
			}
		}
		if d == nil {
			if s.MissingOk {
				skipNotice(c, "view %q does not exist, skipping", name)
				continue
			}
			return nil, pgcode.New(pgcode.UndefinedTable, "view %q does not exist", name)
		}
		if d.Kind != catalog.KindView {
			e := pgcode.New(sqlerr.WrongObjectType, "%q is not a view", name)
			e.Hint = "Use DROP " + strings.ToUpper(string(d.Kind)) + " to remove a " + string(d.Kind) + "."
			return nil, e
		}
		if err := dropDependentViews(c, d, s.Behavior == pg.DropBehavior_DROP_CASCADE, dropping); err != nil {
			return nil, err
		}
		if err := dropView(c, d.ID); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "DROP VIEW"}, nil
}

// dropDependentViews handles the views that depend on d when d is
// dropped: 2BP01 naming them, or (CASCADE) drops them too. Views named
// by the same DROP (dropping) are not in the way.
func dropDependentViews(c *Ctx, d *catalog.Descriptor, cascade bool, dropping map[string]bool) error {
	deps, lines, err := dependentViews(c, d, dropping)
	if err != nil || len(deps) == 0 {
		return err
	}
	if !cascade {
		e := pgcode.New(sqlerr.DependentObjectsExist, "cannot drop %s %s because other objects depend on it", d.Kind, d.Name)
		e.Detail = strings.Join(lines, "\n")
		e.Hint = "Use DROP ... CASCADE to drop the dependent objects too."
		return e
	}
	names := make([]string, len(deps))
	for i, v := range deps {
		names[i] = "view " + v.Name
	}
	cascadeNotice(c, names)
	for _, v := range deps {
		if err := dropView(c, v.ID); err != nil {
			return err
		}
	}
	return nil
}

// dependentViews lists the views depending on d, directly or through
// other views, with PostgreSQL's "view v depends on table t" lines.
func dependentViews(c *Ctx, d *catalog.Descriptor, dropping map[string]bool) ([]*catalog.Descriptor, []string, error) {
	var out []*catalog.Descriptor
	var lines []string
	seen := map[uint64]bool{d.ID: true}
	queue := []*catalog.Descriptor{d}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, id := range r.Dependents {
			v, err := c.Cat.Get(c.Context, id, kvapi.LockExclusive)
			if err != nil {
				return nil, nil, err
			}
			if v == nil || seen[id] || (r == d && dropping[v.Name]) {
				continue
			}
			seen[id] = true
			out = append(out, v)
			lines = append(lines, fmt.Sprintf("view %s depends on %s %s", v.Name, r.Kind, r.Name))
			queue = append(queue, v)
		}
	}
	return out, lines, nil
}

// dropView removes a view (gone already is fine: CASCADE may reach it
// twice) and unlinks it from the relations it depends on.
func dropView(c *Ctx, id uint64) error {
	v, err := c.Cat.Get(c.Context, id, kvapi.LockExclusive)
	if err != nil || v == nil {
		return err
	}
	if err := relink(c, v, v.View.DependsOn, nil); err != nil {
		return err
	}
	if err := c.Cat.DeleteName(c.Context, v.ParentID, v.Name); err != nil {
		return err
	}
	return c.Cat.Delete(c.Context, v.ID)
}

// renameInViews rewrites the queries of the views that name d, renamed
// from old (PostgreSQL's views follow a renamed relation by OID).
func renameInViews(c *Ctx, d *catalog.Descriptor, old string) error {
	schema := schemaOf(c, d)
	for _, id := range d.Dependents {
		v, err := c.Cat.Mutable(c.Context, id)
		if err != nil || v == nil {
			return err
		}
		tree, err := pg.Parse(v.View.Query)
		if err != nil {
			return err
		}
		walkNodes(tree.ProtoReflect(), func(m protoreflect.ProtoMessage) {
			if rv, ok := m.(*pg.RangeVar); ok && rv.Schemaname == schema && rv.Relname == old {
				if rv.Alias == nil {
					// Column references qualified by the old name still
					// resolve.
					rv.Alias = &pg.Alias{Aliasname: old}
				}
				rv.Relname = d.Name
			}
		})
		if v.View.Query, err = pg.Deparse(tree); err != nil {
			return err
		}
		sel, err := parseSelect(v.View.Query)
		if err != nil {
			return err
		}
		if v.View.Definition, v.View.Pretty, err = viewDefinition(c, sel, v.View.Columns); err != nil {
			return err
		}
		if err := c.Cat.Put(c.Context, v); err != nil {
			return err
		}
	}
	return nil
}

// refuseWithViews refuses renaming a column of a table views depend on:
// their definitions are stored as text naming it.
func refuseWithViews(f func(*Ctx, *catalog.Descriptor, *pg.RenameStmt) error) func(*Ctx, *catalog.Descriptor, *pg.RenameStmt) error {
	return func(c *Ctx, d *catalog.Descriptor, s *pg.RenameStmt) error {
		if len(d.Dependents) > 0 {
			return sqlerr.Unsupported("cannot rename a column of table %s because views depend on it", d.Name)
		}
		return f(c, d, s)
	}
}

// refuseColumnChanges refuses dropping or retyping a column of a table
// views depend on (PostgreSQL refuses it for the columns they use).
func refuseColumnChanges(d *catalog.Descriptor, cmds []*pg.Node) error {
	if len(d.Dependents) == 0 {
		return nil
	}
	for _, n := range cmds {
		cmd := n.GetAlterTableCmd()
		switch cmd.GetSubtype() {
		case pg.AlterTableType_AT_DropColumn:
			e := pgcode.New(sqlerr.DependentObjectsExist, "cannot drop column %s of table %s because other objects depend on it", cmd.Name, d.Name)
			e.Hint = "Use DROP ... CASCADE to drop the dependent objects too."
			return e
		case pg.AlterTableType_AT_AlterColumnType:
			return sqlerr.Unsupported("cannot alter type of a column used by a view or rule")
		}
	}
	return nil
}
