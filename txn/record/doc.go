// Package record is the transaction record state machine: the pure rules
// by which an anchor range decides a transaction's fate, and by which a
// participant holding a prepared record recovers it when the coordinator is
// gone. It does no I/O; range/replica applies its decisions through Raft.
//
// States of the record at the anchor:
//
//	none ──COMMIT (lock term held)──▶ COMMITTED ──FORGET──▶ none (resolved)
//	none ──ABORT_RECORD──────────────▶ ABORTED   (tombstone)
//
// Rules:
//   - COMMIT is refused unless the command was appended in the term (and
//     range generation) under which the anchor granted the transaction's
//     locks, and refused if an ABORTED tombstone exists.
//   - ABORT_RECORD writes a tombstone only where no record exists; it
//     reports an existing record's status instead, so a commit that reached
//     the log first wins.
//   - QUERY (not replicated) answers from the record; with none, PENDING if
//     the anchor still holds the transaction as live in its lock table,
//     otherwise the anchor must write ABORT_RECORD and answer from it.
//   - A participant with a prepared record resolves it as the anchor
//     answers: COMMITTED → apply, ABORTED → discard, PENDING → wait.
//
// Invariant (checked by the scripts in testdata): a transaction is applied
// at either all of its participants or none.
package record
