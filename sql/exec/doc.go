// Package exec plans and executes statements over a catalog.Txn: SELECT
// (scans with point lookups and primary key range scans chosen from WHERE
// predicates, equality lookups on secondary indexes, hash and nested-loop
// joins — inner, left, right, full, cross, NATURAL and USING — grouping and
// aggregates, DISTINCT, ORDER BY, LIMIT/OFFSET, UNION/INTERSECT/EXCEPT
// [ALL], WITH [RECURSIVE], subqueries in FROM and in expressions,
// generate_series in FROM), INSERT (with DEFAULT, RETURNING, ON CONFLICT),
// UPDATE (FROM), DELETE (USING) and DDL (CREATE and DROP TABLE, INDEX and
// SEQUENCE, ALTER TABLE, renames, TRUNCATE).
//
// ALTER TABLE changes a mutable copy of the table's descriptor, read with
// LockExclusive, and writes it once at the end of the statement, with its
// version incremented. ADD COLUMN with a default or NOT NULL, and DROP
// COLUMN, rewrite every row in the same transaction (values are keyed by
// column ID, so a nullable column without default needs no rewrite);
// constraints added to a table with rows are validated by a scan (23514,
// 23502, 23503, 23505 as PostgreSQL). CHECK expressions are stored as SQL
// text, so RENAME COLUMN rewrites the ones that mention the column.
//
// FOREIGN KEYs (fk.go) live on the child's descriptor; the parent lists
// its children (Table.ReferencedBy), so both sides' writers load the
// constraints, and both descriptors become plan dependencies. NO ACTION
// and RESTRICT are checked after the statement's writes: a new child key
// reads the parent's index entry with LockShared; a parent key removed
// (and not present again) looks for referencing rows through an index of
// the child whose leading columns are the foreign key's, else by a scan.
// CASCADE, SET NULL, SET DEFAULT, MATCH FULL and deferrable constraints
// are refused (0A000).
//
// Sequences: CREATE SEQUENCE's options are checked as PostgreSQL's (22023);
// SERIAL and identity columns own a sequence named <table>_<column>_seq
// that is dropped with the column or table. GENERATED ALWAYS refuses
// explicit values (428C9) unless OVERRIDING SYSTEM VALUE.
//
// Subqueries in expressions are sem.Subquery values whose plans this
// package supplies (Planner.planSubLink). While one is planned, the
// enclosing query's scope is pushed on Planner.outer, so its column
// references resolve there as sem.OuterRef; at run time the enclosing row
// is pushed on sem.Ctx.Outer. A subquery that refers to no enclosing query
// runs once per execution; a correlated one runs per row. A CTE is planned
// once and materialized on first use in an execution (Ctx.cteRows); a
// recursive one iterates its recursive arm over the previous round's rows
// (Ctx.workRows) until a round adds none. UPDATE and DELETE compute every
// new row before the first write, so their expressions see the table as
// the statement found it.
//
// Prepare turns a parsed statement into a Plan once: names are resolved,
// expressions typed and parameter types inferred. A Plan records the
// versions of the descriptors it was built from (Deps); the session
// re-prepares when Validate finds one moved, so a cached plan never runs
// against a stale schema. DDL plans resolve everything when executed.
//
// Execution is a materializing pipeline: each operator returns all its rows
// before the next runs. Results are therefore bounded by memory; streaming
// and a per-query memory budget (53200) are still to do. A LIMIT over a
// bare scan is passed to the KV scan (limit.go), so leaseholders stop
// reading there.
//
// EXPLAIN (explain*.go) describes the plan tree the statement runs;
// EXPLAIN ANALYZE runs it with Ctx.analyze set, which runNode and the
// SELECT stages consult (one nil check per operator run otherwise). See
// docs/sql.md. Reads take
// LockShared (LockExclusive for UPDATE, DELETE and FOR UPDATE), so results
// are strictly serializable under the KV layer's 2PL.
package exec
