// Package exec plans and executes statements over a catalog.Txn: SELECT
// (scans with point lookups and primary key range scans chosen from WHERE
// predicates, equality lookups on secondary indexes, hash and nested-loop
// joins, grouping and aggregates, DISTINCT, ORDER BY, LIMIT/OFFSET), INSERT
// (with DEFAULT, RETURNING, ON CONFLICT), UPDATE, DELETE and DDL (CREATE and
// DROP TABLE and INDEX, TRUNCATE).
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
