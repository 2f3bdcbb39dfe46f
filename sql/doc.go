// Package sql is ordo's SQL engine: it implements pgwirebase.Executor over
// a transactional KV store (kvapi.DB), using the sub-packages parser
// (pg_query), types, sem (typed expressions), catalog (schema in KV),
// rowenc (row and index encoding) and exec (planning and execution).
//
// # Sessions and transactions
//
// A Session follows PostgreSQL's transaction rules. Outside a transaction
// block every statement runs in its own KV transaction; a simple-protocol
// string of several statements runs in one implicit transaction (committed
// at the end of the string, rolled back on the first error); in the
// extended protocol the implicit transaction lasts until Sync. BEGIN opens an
// explicit block; after an error the block is failed (25P02 for every
// statement but COMMIT/ROLLBACK; COMMIT then answers ROLLBACK). A statement
// outside a block that fails with a retryable KV error (40001) is retried
// inside ordo in a new transaction, since results are only sent after the
// statement finished.
//
// An explicit block aborted by a retryable conflict (40001, e.g. wounded
// by an older transaction) is replayed in a new KV transaction: the block's
// statements are logged with a digest of the results the client saw, and
// if every one returns the same again the block carries on unnoticed;
// otherwise the client gets the 40001 (see txnLog). COPY FROM makes a block
// non-replayable.
//
// BEGIN READ ONLY, SET TRANSACTION READ ONLY, SET SESSION
// CHARACTERISTICS and default_transaction_read_only make a transaction
// read-only as in PostgreSQL: its access mode is fixed when it starts, may
// turn read-write only before its first query (25001), and every writing
// statement (DML, DDL, role statements, COPY FROM, SELECT ... FOR
// UPDATE/SHARE, nextval, setval) fails with 25006 naming the command. The
// check is the session's (readonly.go); the KV transaction is an ordinary
// one.
//
// # COPY
//
// COPY FROM STDIN decodes the stream one row at a time (sql/copyfmt) and
// inserts each row in the statement's transaction: memory on the SQL node
// is one row, but the KV layer holds every pending write of the
// transaction until commit (64 MiB per transaction per range in
// txn/locktable today). COPY TO STDOUT materializes the query's result
// first, like every other statement.
//
// # Schema staleness
//
// Every statement reads the namespace entries and descriptors it uses in
// its own KV transaction with LockShared; DDL takes LockExclusive on what it
// changes and writes through the same transaction. Under the KV layer's
// strict 2PL, DDL therefore serializes with every transaction that used the
// table, and no statement runs against a stale schema on any node. Plans
// cached for prepared statements record descriptor versions; execution
// re-validates them in the executing transaction and re-plans when one
// changed. See sql/catalog's doc for the details.
//
// # Schemas
//
// CREATE SCHEMA and DROP SCHEMA [CASCADE] manage schemas of the session's
// database; a relation name is resolved as in PostgreSQL (exec.Names):
// s.t in schema s, t in the first schema of search_path ("$user" is the
// session user) that has it, and CREATE of an unqualified name goes to the
// first schema of the path that exists. Schema OIDs are descriptor IDs,
// except public's 2200.
//
// # Activity and locks
//
// pg_stat_activity and pg_locks read two providers of Config: Sessions
// (pgwire's registry of the node's sessions) and Locks (the server's
// snapshot of the leaseholders' lock tables). Each Session publishes the
// id of its open KV transaction, which ties lock table entries to pids.
// See docs/catalog.md, "Activity and locks".
//
// # SQLSTATE
//
// Errors of the KV layer get their SQLSTATE in sqlerr.FromKV (40001
// retryable, 40003 ambiguous, 55P03 lock timeout); ErrKeyExists on a unique
// index becomes 23505 in exec with PostgreSQL's message and detail.
package sql
