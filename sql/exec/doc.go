// Package exec plans and executes statements over a catalog.Txn: SELECT
// (scans with point lookups and primary key range scans chosen from WHERE
// predicates, equality lookups on secondary indexes, hash and nested-loop
// joins — inner, left, right, full, cross, NATURAL and USING — grouping and
// aggregates, DISTINCT, ORDER BY, LIMIT/OFFSET, UNION/INTERSECT/EXCEPT
// [ALL], WITH [RECURSIVE], subqueries in FROM and in expressions,
// generate_series in FROM), INSERT (with DEFAULT, RETURNING, ON CONFLICT),
// UPDATE (FROM), DELETE (USING) and DDL (CREATE and DROP TABLE and INDEX,
// TRUNCATE).
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
// and a per-query memory budget (53200) are still to do. Reads take
// LockShared (LockExclusive for UPDATE, DELETE and FOR UPDATE), so results
// are strictly serializable under the KV layer's 2PL.
package exec
