// Package catalog stores the SQL schema in the KV store under
// keys.CatalogPrefix(): a namespace (parent ID, name) → ID, descriptors
// ID → JSON (databases, schemas, tables with their columns, types,
// defaults, NOT NULL, primary key, indexes and checks; sequences), an ID
// counter, and sequence values.
//
// # Transactional DDL and staleness
//
// Every access goes through the statement's kvapi.Txn. DML reads the
// namespace entries and descriptors it uses with LockShared; DDL reads what
// it changes with LockExclusive and writes through the same Txn. Under
// strict 2PL, a DDL statement therefore waits for every open transaction
// that used the table to finish, and any transaction that uses the table
// after the DDL commits sees the new descriptor: no statement ever runs
// against a stale schema, on any node, without leases or version checks in
// the read path. Plans cached for prepared statements carry the versions of
// the descriptors they were built from; executing one re-reads those
// descriptors (with LockShared, in the executing transaction) and re-plans
// when a version moved. The price is that DDL blocks on, and is blocked by,
// long transactions on the same table.
//
// A Txn caches descriptors for the life of one KV transaction, which is safe
// because the locks that validate the cache are held until it ends.
//
// Sequences (CREATE SEQUENCE, SERIAL, identity columns) are counters
// incremented in their own short transaction, like PostgreSQL's
// non-transactional nextval; setval writes in its own transaction too. The
// stored value is the last one handed out and whether nextval returned it
// yet (is_called), so setval(s, v, false) makes the next nextval return v.
// Gaps are possible. Nodes take values in blocks (ReserveBlock, one short
// transaction per block) and hand them out locally; see docs/catalog.md,
// "Sequences", for how setval retires every node's block.
//
// Schemas are descriptors named under their database; tables and
// sequences are named under their schema. Statements resolve names through
// the schema's namespace entry (exec.Names: qualified, or along
// search_path) with LockShared, and DROP SCHEMA locks it exclusively, so a
// dropped or created schema is never seen stale either.
//
// Bootstrap creates the databases defaultdb and postgres, each with the
// schema public, and the superuser root (no password), the first time any
// session starts or any user is looked up.
//
// # Users
//
// Roles live under their own keys (user/<name> → JSON: OID, superuser,
// can-login, SCRAM-SHA-256 verifier). Only the verifier is stored, in
// PostgreSQL's text form, never a password; authentication (pgwire) checks
// passwords and SCRAM proofs against it. Role OIDs come from the descriptor
// ID counter; root has PostgreSQL's bootstrap superuser OID, 10.
package catalog
