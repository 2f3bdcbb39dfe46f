// Package sem is the semantic layer of expressions: it turns pg_query
// expression nodes into typed expression trees (Expr) against a Scope of
// input columns, resolving names, inferring the types of untyped literals
// and of $n parameters from their context, and checks grouping; and it
// evaluates them over a row with PostgreSQL's NULL semantics (three-valued
// logic: NULL AND false = false, NULL OR true = true, comparisons with NULL
// are NULL, WHERE keeps only true).
//
// Build once per plan (a prepared statement builds once), evaluate per row:
// evaluation does no name resolution, no reflection and no type inference.
// Aggregates are collected by the Builder into Aggs; after grouping the
// executor evaluates post-aggregation expressions over a row that is
// [group keys..., aggregate results...]. The package is pure except for the
// Env it is given (clock, session, sequences).
package sem
