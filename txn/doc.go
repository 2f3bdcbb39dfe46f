// Package txn is the gateway side of ordo's transactions: the coordinator.
//
// A transaction sends its reads and writes to the leaseholders of the ranges
// that hold the keys (routing through kv.DistSender). Each leaseholder locks
// (two-phase locking: shared for reads, exclusive for writes and FOR
// UPDATE, a span for a scan) and buffers the writes in its lock table; it
// answers with the lease term and range generation under which the locks
// were granted, and the coordinator remembers them per range.
//
// Commit:
//   - one range: COMMIT_ONE_PHASE, one Raft command with the writes,
//     rejected at apply unless appended in the lock term;
//   - several ranges: the range of the first write is the anchor. Every
//     other range the transaction wrote replicates a prepared record
//     (PREPARE); every range it only read confirms its lease with a
//     ReadIndex round and releases its read locks (CONFIRM). Then the
//     anchor applies its writes and the COMMITTED record in one Raft
//     command: that is the commit point, and the client is answered there.
//     Participants are resolved (RESOLVE) and the record forgotten
//     (FORGET) in the background.
//
// Deadlocks cannot form: wound-wait at each lock table (an older
// transaction aborts a younger, unprepared holder; a younger one waits),
// with a lock wait timeout as the backstop. A transaction keeps its priority
// across retries, so it ages and eventually wins.
//
// Errors: *kverr.TxnRetryError means abort and retry (SQLSTATE 40001);
// *kverr.LockTimeoutError is 55P03; *kverr.AmbiguousError from Commit means
// the outcome is unknown (40003) — never reported as a failure, since the
// transaction may have committed.
//
// Recovery of a coordinator that dies is the participants' job (see the
// server's recovery loop): a prepared participant asks the anchor (QUERY),
// which answers from its record or, with none and the transaction not live
// there, writes an ABORTED tombstone; leaseholders ask idle transactions'
// coordinators whether they are alive (TxnAlive) and abort them if not.
package txn
