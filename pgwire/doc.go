// Package pgwire speaks the PostgreSQL frontend/backend protocol (version
// 3.0) so that psql, pgbench, pgx, lib/pq, psycopg2 and other clients work
// unmodified. Message encoding uses github.com/jackc/pgx/v5/pgproto3; the
// framing (lengths, limits) is done here so that limits apply before any
// allocation.
//
// # Structure
//
// A Server owns its listeners and one goroutine per connection (Close waits
// for all of them). A connection goes through:
//
//  1. Negotiation: SSLRequest ('S' and TLS when Config.TLS is set, else 'N'),
//     GSSENCRequest ('N'), CancelRequest (dispatched through the Canceller,
//     then the connection closes silently), StartupMessage.
//  2. Checks in PostgreSQL's order: NegotiateProtocolVersion for a newer
//     minor version or "_pq_." options, user name (28000), connection limit
//     (53300).
//  3. Authentication chosen by the host-based rules (HBA): trust, cleartext
//     password or SCRAM-SHA-256 against the Authenticator's verifiers, or a
//     verified TLS client certificate naming the user (cert); an
//     unknown user goes through a mock SCRAM exchange and fails like a wrong
//     password (28P01). The mock salt derives from the user name and the
//     Authenticator's cluster-wide secret (pgwirebase.MockSecreter), so it
//     is as stable across nodes and restarts as a real user's. All of this
//     runs under Config.AuthTimeout.
//  4. Executor.NewSession, AuthenticationOk, the reported parameters
//     (ParameterStatus), BackendKeyData, ReadyForQuery.
//  5. The message loop: simple Query, the extended protocol (Parse, Bind,
//     Describe, Execute, Close, Sync, Flush) with named and unnamed
//     statements and portals, and COPY sub-protocols driven by the session
//     through its ResultWriter.
//
// The SQL layer is reached only through the interfaces of package
// pgwirebase (aliased here): pgwire never imports sql.
//
// Server.Sessions is the node's session registry (pg_stat_activity): each
// connection past startup records, under its mutex, its application_name
// and its state as it serves messages: 'active' with the query text from
// a Query or Execute until the next ReadyForQuery, then idle, idle in
// transaction or idle in transaction (aborted) by the reported status.
//
// # Invariants
//
//   - After an error in an extended-protocol message, every message up to the
//     next Sync is skipped; Sync answers ReadyForQuery with the session's
//     transaction status. Each Query or Sync ends with exactly one
//     ReadyForQuery.
//   - Portals live as long as their transaction: they are dropped after a
//     Query or Sync that leaves the session idle.
//   - A message longer than Config.MaxMessageSize is refused from its header
//     (FATAL 08P01) before its body is read; bodies are read in chunks as
//     they arrive, never allocated from the declared length.
//   - A message with bytes beyond what its fields take is malformed (08P01,
//     PostgreSQL's pq_getmsgend); pgproto3's decoders alone accept them.
//   - No panic reaches a client as a crash: it is logged, answered with
//     FATAL XX000 and the connection is closed.
//   - CopyData/CopyDone/CopyFail outside COPY are ignored, as PostgreSQL
//     does (a client may still be sending after a COPY failed).
//   - A CancelRequest cancels only the statement running at that moment; one
//     arriving between statements has no effect. It is handed to the
//     Config.Canceller, which may route it to another node (a cluster puts
//     the node id in the process ID through Config.NextProcessID and
//     forwards the request as a CancelRequest to that node's SQL address).
//     A statement cancelled while its outcome became unknown keeps its
//     40003: a definite 57014 is never reported for what may have applied.
//   - While a session is in a transaction block, the wait for its next
//     message is bounded by its idle_in_transaction_session_timeout (when
//     the Session implements pgwirebase.IdleInTransactionTimeouter): the
//     session is closed first, which rolls back and releases its locks, then
//     FATAL 25P03 is sent and the connection closes.
package pgwire
