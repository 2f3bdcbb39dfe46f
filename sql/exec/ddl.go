package exec

import (
	"errors"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// deparse returns an expression's SQL text.
func deparse(n *pg.Node) (string, error) {
	tmpl, err := pg.Parse("SELECT 1")
	if err != nil {
		return "", err
	}
	tree := &pg.ParseResult{Version: tmpl.Version, Stmts: []*pg.RawStmt{{Stmt: &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: &pg.SelectStmt{
		TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: n}}}},
	}}}}}}
	s, err := pg.Deparse(tree)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(s, "SELECT "), nil
}

// tableBuilder accumulates a CREATE TABLE.
type tableBuilder struct {
	c        *Ctx
	schemaID uint64 // the table's schema
	name     string
	t        *catalog.Table
	pk       []string
	uniques  [][]string
	seqs     []*catalog.Descriptor
	fks      []fkDef
}

// fkDef is a FOREIGN KEY of a table being created, resolved once the
// table has its ID (it may reference itself).
type fkDef struct {
	cn  *pg.Constraint
	col string // the column of a column constraint
}

func createTable(c *Ctx, s *pg.CreateStmt) (*Result, error) {
	schemaID, err := c.names().CreationSchema(c.Context, s.Relation.Schemaname)
	if err != nil {
		return nil, withPos(err, s.Relation.Location)
	}
	name := s.Relation.Relname
	_, exists, err := c.Cat.LookupID(c.Context, schemaID, name, kvapi.LockExclusive)
	if err != nil {
		return nil, err
	}
	if exists {
		if s.IfNotExists {
			c.Notice(&pgcode.Error{Code: sqlerr.DuplicateTable, Severity: pgcode.SeverityNotice, Message: fmt.Sprintf("relation %q already exists, skipping", name)})
			return &Result{Tag: "CREATE TABLE"}, nil
		}
		return nil, posErr(pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", name), s.Relation.Location)
	}
	tb := &tableBuilder{c: c, schemaID: schemaID, name: name, t: &catalog.Table{NextColumnID: 1, NextIndexID: 2}}
	if err := tb.elements(s.TableElts); err != nil {
		return nil, err
	}
	if err := tb.finish(); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE TABLE"}, tb.write()
}

func (tb *tableBuilder) elements(elts []*pg.Node) error {
	for _, e := range elts {
		switch x := e.Node.(type) {
		case *pg.Node_ColumnDef:
			if err := tb.column(x.ColumnDef); err != nil {
				return err
			}
		case *pg.Node_Constraint:
			if err := tb.tableConstraint(x.Constraint); err != nil {
				return err
			}
		default:
			return sqlerr.Unsupported("table element %T is not supported", e.Node)
		}
	}
	return nil
}

var serials = map[string]types.T{"serial": types.Int4, "serial4": types.Int4, "bigserial": types.Int8,
	"serial8": types.Int8, "smallserial": types.Int2, "serial2": types.Int2}

func (tb *tableBuilder) column(cd *pg.ColumnDef) error {
	if tb.t.ColumnIndex(cd.Colname) >= 0 {
		return posErr(pgcode.New(sqlerr.DuplicateColumn, "column %q specified more than once", cd.Colname), cd.Location)
	}
	col := catalog.Column{ID: tb.t.NextColumnID, Name: cd.Colname, NotNull: cd.IsNotNull}
	tb.t.NextColumnID++
	tn := typeName(cd.TypeName)
	if st, ok := serials[tn]; ok {
		if err := tb.serial(&col, st); err != nil {
			return err
		}
	} else {
		t, err := sem.ResolveType(cd.TypeName)
		if err != nil {
			return err
		}
		col.Type = t
	}
	if cd.RawDefault != nil {
		if err := setDefault(&col, cd.RawDefault); err != nil {
			return err
		}
	}
	for _, cn := range cd.Constraints {
		if err := tb.columnConstraint(&col, cn.GetConstraint()); err != nil {
			return err
		}
	}
	tb.t.Columns = append(tb.t.Columns, col)
	return nil
}

func typeName(tn *pg.TypeName) string {
	if len(tn.Names) == 0 {
		return ""
	}
	return tn.Names[len(tn.Names)-1].GetString_().GetSval()
}

// serial makes col an integer with a default from a new sequence.
func (tb *tableBuilder) serial(col *catalog.Column, t types.T) error {
	col.Type, col.NotNull = t, true
	return tb.ownedSequence(col, nil)
}

// ownedSequence creates the sequence of a SERIAL or identity column,
// named as PostgreSQL names it, and makes it the column's default.
func (tb *tableBuilder) ownedSequence(col *catalog.Column, opts []*pg.Node) error {
	seq, err := sequenceOptions(opts, col.Type)
	if err != nil {
		return err
	}
	seqName := fmt.Sprintf("%s_%s_seq", tb.name, col.Name)
	tb.seqs = append(tb.seqs, &catalog.Descriptor{Kind: catalog.KindSequence, Name: seqName, Sequence: seq})
	qualified, err := qualifiedSeqName(tb.c, tb.schemaID, seqName)
	col.Default = fmt.Sprintf("nextval('%s'::regclass)", qualified)
	return err
}

// identity makes col GENERATED ALWAYS|BY DEFAULT AS IDENTITY.
func (tb *tableBuilder) identity(col *catalog.Column, cn *pg.Constraint) error {
	if col.Type.Family != types.IntFamily {
		return posErr(pgcode.New(pgcode.InvalidParameterValue, "identity column type must be smallint, integer, or bigint"), cn.Location)
	}
	if col.Identity != "" {
		return posErr(pgcode.New(pgcode.SyntaxError, "multiple identity specifications for column %q of table %q", col.Name, tb.name), cn.Location)
	}
	if col.Default != "" {
		return posErr(pgcode.New(pgcode.SyntaxError, "both default and identity specified for column %q of table %q", col.Name, tb.name), cn.Location)
	}
	col.Identity, col.NotNull = cn.GeneratedWhen, true
	return tb.ownedSequence(col, cn.Options)
}

func setDefault(col *catalog.Column, n *pg.Node) error {
	s, err := deparse(n)
	if err != nil {
		return err
	}
	col.Default = s
	return nil
}

func (tb *tableBuilder) columnConstraint(col *catalog.Column, cn *pg.Constraint) error {
	switch cn.Contype {
	case pg.ConstrType_CONSTR_NOTNULL:
		col.NotNull = true
	case pg.ConstrType_CONSTR_NULL:
	case pg.ConstrType_CONSTR_DEFAULT:
		return setDefault(col, cn.RawExpr)
	case pg.ConstrType_CONSTR_PRIMARY:
		return tb.setPK([]string{col.Name}, cn.Location)
	case pg.ConstrType_CONSTR_UNIQUE:
		tb.uniques = append(tb.uniques, []string{col.Name})
	case pg.ConstrType_CONSTR_CHECK:
		return tb.addCheck(cn, col.Name)
	case pg.ConstrType_CONSTR_IDENTITY:
		return tb.identity(col, cn)
	case pg.ConstrType_CONSTR_FOREIGN:
		tb.fks = append(tb.fks, fkDef{cn: cn, col: col.Name})
	default:
		return posErr(sqlerr.Unsupported("constraint %s is not supported yet", cn.Contype), cn.Location)
	}
	return nil
}

func (tb *tableBuilder) setPK(cols []string, loc int32) error {
	if tb.pk != nil {
		return posErr(pgcode.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", tb.name), loc)
	}
	tb.pk = cols
	return nil
}

func (tb *tableBuilder) addCheck(cn *pg.Constraint, col string) error {
	s, err := deparse(cn.RawExpr)
	if err != nil {
		return err
	}
	name := cn.Conname
	if name == "" {
		name = tb.name + "_check"
		if col != "" {
			name = fmt.Sprintf("%s_%s_check", tb.name, col)
		}
		name = freeConstraintName(tb.t, name)
	}
	tb.t.Checks = append(tb.t.Checks, catalog.Check{Name: name, Expr: s})
	return nil
}

func keyNames(ns []*pg.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.GetString_().GetSval()
	}
	return out
}

func (tb *tableBuilder) tableConstraint(cn *pg.Constraint) error {
	switch cn.Contype {
	case pg.ConstrType_CONSTR_PRIMARY:
		return tb.setPK(keyNames(cn.Keys), cn.Location)
	case pg.ConstrType_CONSTR_UNIQUE:
		tb.uniques = append(tb.uniques, keyNames(cn.Keys))
	case pg.ConstrType_CONSTR_CHECK:
		return tb.addCheck(cn, firstColumn(cn.RawExpr))
	case pg.ConstrType_CONSTR_FOREIGN:
		tb.fks = append(tb.fks, fkDef{cn: cn})
	default:
		return posErr(sqlerr.Unsupported("constraint %s is not supported yet", cn.Contype), cn.Location)
	}
	return nil
}

// firstColumn names a CHECK like PostgreSQL: after the first column it
// mentions.
func firstColumn(n *pg.Node) string {
	s, err := deparse(n)
	if err != nil {
		return ""
	}
	stmts, err := pg.Parse("SELECT " + s)
	if err != nil {
		return ""
	}
	found := ""
	var walk func(*pg.Node)
	walk = func(n *pg.Node) {
		if n == nil || found != "" {
			return
		}
		if cr := n.GetColumnRef(); cr != nil {
			found = cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
			return
		}
		if a := n.GetAExpr(); a != nil {
			walk(a.Lexpr)
			walk(a.Rexpr)
		}
		if b := n.GetBoolExpr(); b != nil {
			for _, x := range b.Args {
				walk(x)
			}
		}
	}
	walk(stmts.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val)
	return found
}

func (tb *tableBuilder) colIDs(names []string) ([]uint32, error) {
	ids := make([]uint32, len(names))
	for i, n := range names {
		p := tb.t.ColumnIndex(n)
		if p < 0 {
			return nil, pgcode.New(sqlerr.UndefinedColumn, "column %q named in key does not exist", n)
		}
		ids[i] = tb.t.Columns[p].ID
	}
	return ids, nil
}

// finish sets up the primary key (or the hidden rowid) and unique indexes.
func (tb *tableBuilder) finish() error {
	t := tb.t
	if tb.pk == nil {
		t.Columns = append(t.Columns, catalog.Column{ID: t.NextColumnID, Name: "rowid", Type: types.Int8, NotNull: true, Hidden: true})
		t.NextColumnID++
		tb.pk = []string{"rowid"}
	}
	ids, err := tb.colIDs(tb.pk)
	if err != nil {
		return err
	}
	for _, id := range ids {
		t.Columns[t.ColumnByID(id)].NotNull = true
	}
	t.Primary = catalog.Index{ID: catalog.PrimaryIndexID, Name: tb.name + "_pkey", Unique: true, Columns: ids, Constraint: true}
	for _, u := range tb.uniques {
		ids, err := tb.colIDs(u)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%s_%s_key", tb.name, strings.Join(u, "_"))
		t.Indexes = append(t.Indexes, catalog.Index{ID: t.NextIndexID, Name: name, Unique: true, Columns: ids, Constraint: true})
		t.NextIndexID++
	}
	return tb.validateExprs()
}

// validateExprs type-checks defaults and checks.
func (tb *tableBuilder) validateExprs() error {
	p := &Planner{Ctx: tb.c.Context, Cat: tb.c.Cat, DBID: tb.c.DBID, SearchPath: tb.c.SearchPath, Params: sem.NewParams(nil), Env: tb.c.Eval.Env}
	for _, col := range tb.t.Columns {
		if col.Default == "" || strings.HasPrefix(col.Default, "nextval(") {
			continue
		}
		if _, err := p.defaultExpr(col); err != nil {
			return err
		}
	}
	d := &catalog.Descriptor{Name: tb.name, Kind: catalog.KindTable, Table: tb.t}
	for _, ch := range tb.t.Checks {
		e, err := p.parseExpr(ch.Expr, tableScope(d, ""))
		if err != nil {
			return err
		}
		if _, err := (&sem.Builder{Params: p.Params}).Predicate(e); err != nil {
			return err
		}
	}
	return nil
}

func (tb *tableBuilder) write() error {
	c := tb.c
	for _, seq := range tb.seqs {
		if _, err := c.Cat.Create(c.Context, tb.schemaID, seq); err != nil {
			return nameErr(err, seq.Name)
		}
	}
	d := &catalog.Descriptor{Kind: catalog.KindTable, Name: tb.name, Table: tb.t}
	id, err := c.Cat.Create(c.Context, tb.schemaID, d)
	if err != nil {
		return nameErr(err, tb.name)
	}
	for _, seq := range tb.seqs {
		seq.Sequence.OwnedBy = id
		if err := c.Cat.Put(c.Context, seq); err != nil {
			return err
		}
	}
	if len(tb.fks) == 0 {
		return nil
	}
	for _, f := range tb.fks {
		if err := tb.addForeignKey(d, f); err != nil {
			return err
		}
	}
	return c.Cat.Put(c.Context, d)
}

func (tb *tableBuilder) addForeignKey(d *catalog.Descriptor, f fkDef) error {
	c := tb.c
	parent := d
	if f.cn.Pktable.Relname != d.Name {
		p, err := lookupTable(c.Context, c.names(), f.cn.Pktable, kvapi.LockExclusive)
		if err != nil {
			return err
		}
		if parent, err = c.Cat.Mutable(c.Context, p.ID); err != nil {
			return err
		}
	}
	fk, err := buildForeignKey(d, parent, f.cn, f.col)
	if err != nil {
		return err
	}
	d.Table.ForeignKeys = append(d.Table.ForeignKeys, fk)
	return linkParent(c, d, parent)
}

func nameErr(err error, name string) error {
	if errors.Is(err, catalog.ErrNameExists) {
		return pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", name)
	}
	return err
}

func drop(c *Ctx, s *pg.DropStmt) (*Result, error) {
	switch s.RemoveType {
	case pg.ObjectType_OBJECT_TABLE:
		return dropTables(c, s)
	case pg.ObjectType_OBJECT_INDEX:
		return dropIndexes(c, s)
	case pg.ObjectType_OBJECT_SEQUENCE:
		return dropSequences(c, s)
	case pg.ObjectType_OBJECT_SCHEMA:
		return dropSchemas(c, s)
	case pg.ObjectType_OBJECT_VIEW:
		return dropViews(c, s)
	}
	return nil, sqlerr.Unsupported("DROP %s is not supported yet", s.RemoveType)
}

// lookupObject resolves a DROP's object name (schema-qualified or
// through the search path) with lock; a missing schema is 3F000 unless
// missingOK, when it is just not found.
func lookupObject(c *Ctx, o *pg.Node, missingOK bool, lock kvapi.Lock) (name string, id uint64, found bool, err error) {
	schema, name, err := objectSchemaName(o)
	if err != nil {
		return "", 0, false, err
	}
	_, id, found, err = c.names().Lookup(c.Context, schema, name, lock)
	if e, ok := err.(*pgcode.Error); ok && missingOK && e.Code == sqlerr.InvalidSchemaName {
		return name, 0, false, nil
	}
	return name, id, found, err
}

func dropTables(c *Ctx, s *pg.DropStmt) (*Result, error) {
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
		if err := dropTable(c, name, id, found, s.MissingOk, s.Behavior == pg.DropBehavior_DROP_CASCADE, dropping); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "DROP TABLE"}, nil
}

func dropTable(c *Ctx, name string, id uint64, found, missingOK, cascade bool, dropping map[string]bool) error {
	var err error
	var d *catalog.Descriptor
	if found {
		if d, err = c.Cat.Mutable(c.Context, id); err != nil {
			return err
		}
	}
	if d != nil && d.Kind != catalog.KindTable {
		e := pgcode.New(sqlerr.WrongObjectType, "%q is not a table", name)
		e.Hint = "Use DROP " + strings.ToUpper(string(d.Kind)) + " to remove a " + string(d.Kind) + "."
		return e
	}
	if d == nil {
		if missingOK {
			c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion, Message: fmt.Sprintf("table %q does not exist, skipping", name)})
			return nil
		}
		return sqlerr.UndefinedTable(name)
	}
	if err := dropDependentViews(c, d, cascade, dropping); err != nil {
		return err
	}
	others := func(child *catalog.Descriptor, _ *catalog.ForeignKey) bool {
		return child.ID != d.ID && !dropping[child.Name]
	}
	if err := dropInbound(c, d, "table "+name, others, cascade); err != nil {
		return err
	}
	fks := d.Table.ForeignKeys
	d.Table.ForeignKeys = nil
	if err := unlinkParents(c, d, fks); err != nil {
		return err
	}
	if err := deleteTableData(c, d.ID); err != nil {
		return err
	}
	if err := dropOwnedSequences(c, d); err != nil {
		return err
	}
	if err := c.Cat.DeleteName(c.Context, d.ParentID, d.Name); err != nil {
		return err
	}
	return c.Cat.Delete(c.Context, d.ID)
}

func dropOwnedSequences(c *Ctx, d *catalog.Descriptor) error {
	for _, col := range d.Table.Columns {
		name, ok := defaultSequence(col.Default)
		if !ok {
			continue
		}
		id, found, err := c.Cat.LookupID(c.Context, d.ParentID, name, kvapi.LockExclusive)
		if err != nil || !found {
			return err
		}
		seq, err := c.Cat.Get(c.Context, id, kvapi.LockExclusive)
		if err != nil || seq == nil || seq.Sequence == nil || seq.Sequence.OwnedBy != d.ID {
			return err
		}
		if err := c.Cat.DeleteName(c.Context, d.ParentID, name); err != nil {
			return err
		}
		if err := c.Cat.Delete(c.Context, id); err != nil {
			return err
		}
		if err := c.Cat.DeleteSequenceValue(c.Context, id); err != nil {
			return err
		}
		forgetSequence(c, id)
	}
	return nil
}

func truncate(c *Ctx, s *pg.TruncateStmt) (*Result, error) {
	var ds []*catalog.Descriptor
	truncated := map[uint64]bool{}
	for _, r := range s.Relations {
		d, err := lookupTable(c.Context, c.names(), r.GetRangeVar(), kvapi.LockExclusive)
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
		truncated[d.ID] = true
	}
	for i := 0; i < len(ds); i++ {
		var err error
		if s.Behavior == pg.DropBehavior_DROP_CASCADE {
			ds, err = appendReferencing(c, ds, ds[i], truncated)
		} else {
			err = truncateReferenced(ds[i], truncated, c)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, d := range ds {
		if err := deleteTableData(c, d.ID); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "TRUNCATE TABLE"}, nil
}

// appendReferencing adds the tables referencing d to ds (TRUNCATE
// CASCADE), with a NOTICE for each, as PostgreSQL.
func appendReferencing(c *Ctx, ds []*catalog.Descriptor, d *catalog.Descriptor, truncated map[uint64]bool) ([]*catalog.Descriptor, error) {
	for _, id := range d.Table.ReferencedBy {
		if truncated[id] {
			continue
		}
		child, err := c.Cat.Get(c.Context, id, kvapi.LockExclusive)
		if err != nil {
			return nil, err
		}
		if child == nil {
			continue
		}
		skipNotice(c, "truncate cascades to table %q", child.Name)
		truncated[id] = true
		ds = append(ds, child)
	}
	return ds, nil
}
