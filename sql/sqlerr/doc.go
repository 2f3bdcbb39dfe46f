// Package sqlerr holds the SQLSTATE codes the SQL layer reports beyond those
// pgcode declares, constructors for PostgreSQL's standard messages, and the
// one place where errors of the KV layer get their SQLSTATE (style.md rule
// 12: SQLSTATE is attached once, in sql). It is pure.
package sqlerr
