package exec

import (
	"context"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// ResultCol describes one result column.
type ResultCol struct {
	Name     string
	T        types.T
	TableOID uint32
	Attr     uint16
}

// Result is what a statement produced.
type Result struct {
	Rows [][]types.Datum
	Tag  string
	// Streamed says the rows were sent to the client as they were made
	// (Rows is empty); Digest is then their digest (set by the session).
	Streamed bool
	Digest   uint64
}

// Ctx is what execution needs.
type Ctx struct {
	Context context.Context
	Cat     *catalog.Txn
	DB      kvapi.DB
	Eval    *sem.Ctx
	// DBID is the session's database, SearchPath its search_path (see
	// Names).
	DBID       uint64
	SearchPath []string
	// Notice sends a NoticeResponse.
	Notice func(*pgcode.Error)
	// cteRows holds the materialized rows of the CTEs of this execution,
	// and workRows the working table of each recursive CTE being computed.
	cteRows  map[*cte][]sem.Row
	workRows map[*cte][]sem.Row
	// analyze collects EXPLAIN ANALYZE's figures; nil otherwise.
	analyze *analysis
	// buf holds buffered row writes (writebuf.go); nil outside bulk work.
	buf *writeBuf
	// MemBudget bounds the bytes the statement's operators hold (see
	// memory.go); 0 means no bound. memUsed is the account.
	MemBudget int64
	memUsed   int64
	// Backfill tunes online index builds (tests).
	Backfill BackfillKnobs
}

// kv is the statement's transaction; while row writes are buffered, each
// call sends them first.
func (c *Ctx) kv() kvapi.Txn {
	if c.buf != nil && len(c.buf.ws) > 0 {
		return flushFirst{c: c, Txn: c.Cat.KV}
	}
	return c.Cat.KV
}

// Dep is a descriptor version a plan was built from.
type Dep struct {
	ID, Version uint64
}

// Plan is a prepared statement.
type Plan interface {
	Columns() []ResultCol
	Deps() []Dep
	Exec(c *Ctx) (*Result, error)
}

// Planner prepares statements.
type Planner struct {
	Ctx        context.Context
	Cat        *catalog.Txn
	DBID       uint64
	SearchPath []string
	Params     *[]types.T
	Env        sem.Env
	// Clock times EXPLAIN ANALYZE (time.Now when nil).
	Clock func() time.Time
	deps  []Dep
	// outer are the scopes of the queries enclosing the subquery being
	// planned, innermost last; ctes are the WITH clauses in effect,
	// innermost last.
	outer []*sem.OuterScope
	ctes  []map[string]*cte
	// views are the views being expanded, innermost last (a view that
	// names itself is 42P17); refs collects the relations the statement
	// names directly (outside any view), for CREATE VIEW's dependencies.
	views []uint64
	refs  []uint64
}

// Prepare plans a DML or DDL statement.
func (p *Planner) Prepare(stmt *pg.Node) (Plan, error) {
	switch s := stmt.Node.(type) {
	case *pg.Node_SelectStmt:
		return p.planSelectStmt(s.SelectStmt)
	case *pg.Node_InsertStmt:
		return p.planInsert(s.InsertStmt)
	case *pg.Node_UpdateStmt:
		return p.planUpdate(s.UpdateStmt)
	case *pg.Node_DeleteStmt:
		return p.planDelete(s.DeleteStmt)
	case *pg.Node_CreateStmt:
		return ddl(func(c *Ctx) (*Result, error) { return createTable(c, s.CreateStmt) }), nil
	case *pg.Node_DropStmt:
		return ddl(func(c *Ctx) (*Result, error) { return drop(c, s.DropStmt) }), nil
	case *pg.Node_IndexStmt:
		return ddl(func(c *Ctx) (*Result, error) { return createIndex(c, s.IndexStmt) }), nil
	case *pg.Node_AlterTableStmt:
		return ddl(func(c *Ctx) (*Result, error) { return alterTable(c, s.AlterTableStmt) }), nil
	case *pg.Node_CreateSeqStmt:
		return ddl(func(c *Ctx) (*Result, error) { return createSequence(c, s.CreateSeqStmt) }), nil
	case *pg.Node_AlterSeqStmt:
		return ddl(func(c *Ctx) (*Result, error) { return alterSequence(c, s.AlterSeqStmt) }), nil
	case *pg.Node_RenameStmt:
		return ddl(func(c *Ctx) (*Result, error) { return rename(c, s.RenameStmt) }), nil
	case *pg.Node_CreateSchemaStmt:
		return ddl(func(c *Ctx) (*Result, error) { return createSchema(c, s.CreateSchemaStmt) }), nil
	case *pg.Node_TruncateStmt:
		return ddl(func(c *Ctx) (*Result, error) { return truncate(c, s.TruncateStmt) }), nil
	case *pg.Node_ExplainStmt:
		return p.planExplain(s.ExplainStmt)
	case *pg.Node_ViewStmt:
		return ddl(func(c *Ctx) (*Result, error) { return createView(c, s.ViewStmt) }), nil
	}
	return nil, sqlerr.Unsupported("statement not supported: %T", stmt.Node)
}

// Validate checks that the plan's descriptors are current, reading them
// with LockShared in the executing transaction.
func Validate(ctx context.Context, cat *catalog.Txn, plan Plan) (bool, error) {
	for _, d := range plan.Deps() {
		desc, err := cat.Get(ctx, d.ID, kvapi.LockShared)
		if err != nil {
			return false, err
		}
		if desc == nil || desc.Version != d.Version {
			return false, nil
		}
	}
	return true, nil
}

type ddlPlan func(c *Ctx) (*Result, error)

func ddl(f func(c *Ctx) (*Result, error)) Plan { return ddlPlan(f) }

func (d ddlPlan) Columns() []ResultCol         { return nil }
func (d ddlPlan) Deps() []Dep                  { return nil }
func (d ddlPlan) Exec(c *Ctx) (*Result, error) { return d(c) }

func (p *Planner) builder(scope sem.Scope) *sem.Builder {
	return &sem.Builder{Scope: scope, Params: p.Params, Loc: p.Env.Location(),
		Subquery: p.planSubLink, Outer: p.outer}
}

// resolveTable finds a table for DML, locking its name and descriptor
// shared.
func (p *Planner) resolveTable(rv *pg.RangeVar) (*catalog.Descriptor, error) {
	d, err := lookupTable(p.Ctx, p.names(), rv, kvapi.LockShared)
	if e, ok := err.(*pgcode.Error); ok && e.Code == sqlerr.InvalidSchemaName {
		// As PostgreSQL's parser: a query's relation in a missing schema is
		// a missing relation.
		return nil, posErr(sqlerr.UndefinedTable(relName(rv)), rv.Location)
	}
	if err != nil {
		return nil, err
	}
	p.deps = append(p.deps, Dep{ID: d.ID, Version: d.Version})
	return d, nil
}

func lookupTable(ctx context.Context, n Names, rv *pg.RangeVar, lock kvapi.Lock) (*catalog.Descriptor, error) {
	_, id, found, err := n.Lookup(ctx, rv.Schemaname, rv.Relname, lock)
	if err != nil {
		return nil, withPos(err, rv.Location)
	}
	if !found {
		return nil, posErr(sqlerr.UndefinedTable(relName(rv)), rv.Location)
	}
	d, err := n.Cat.Get(ctx, id, lock)
	if err != nil {
		return nil, err
	}
	if d == nil || d.Kind != catalog.KindTable {
		return nil, posErr(pgcode.New(sqlerr.WrongObjectType, "%q is not a table", rv.Relname), rv.Location)
	}
	return d, nil
}

// relName is the name as written, for error messages.
func relName(rv *pg.RangeVar) string {
	if rv.Schemaname != "" {
		return rv.Schemaname + "." + rv.Relname
	}
	return rv.Relname
}

// withPos adds the position to a *pgcode.Error.
func withPos(err error, loc int32) error {
	if e, ok := err.(*pgcode.Error); ok {
		return posErr(e, loc)
	}
	return err
}

func posErr(e *pgcode.Error, loc int32) *pgcode.Error {
	if loc >= 0 && e.Position == 0 {
		e.Position = loc + 1
	}
	return e
}

// tableScope returns the scope of a table's columns.
func tableScope(d *catalog.Descriptor, alias string) sem.Scope {
	if alias == "" {
		alias = d.Name
	}
	s := make(sem.Scope, len(d.Table.Columns))
	for i, c := range d.Table.Columns {
		s[i] = sem.ScopeCol{Table: alias, Name: c.Name, T: c.Type, Hidden: c.Hidden,
			TableOID: uint32(d.ID), Attr: uint16(i + 1)}
	}
	return s
}

// LookupTable resolves a table name with LockShared (for utility
// statements that only need it to exist).
func LookupTable(ctx context.Context, n Names, rv *pg.RangeVar) (*catalog.Descriptor, error) {
	return lookupTable(ctx, n, rv, kvapi.LockShared)
}
