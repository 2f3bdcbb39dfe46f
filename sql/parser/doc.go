// Package parser wraps github.com/pganalyze/pg_query_go/v6 (PostgreSQL's own
// grammar, through cgo) for the SQL layer: Parse turns a query string into
// the protobuf AST, one RawStmt per statement, and turns a syntax error into
// a pgcode.Error with SQLSTATE 42601 and the 1-based cursor position that
// PostgreSQL reports. The package is pure: no state, no I/O.
package parser
