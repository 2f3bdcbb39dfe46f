// Package kvapi declares the transactional key-value interface the SQL layer
// consumes (style.md rule 5: consumer-side, small). The transaction layer
// (2PL + 2PC, strict serializable) implements it; sql/kvmem is an in-memory
// implementation for tests.
//
// Contract:
//   - Every read in a transaction takes the lock it names and holds it until
//     Commit or Rollback (strict 2PL). A Scan with a lock locks the whole
//     span [start, end), so no other transaction can insert into it (no
//     phantoms). LockNone reads are best effort and only for internal use.
//   - Writes take an exclusive lock on their key (DeleteRange on its span)
//     and are visible to the same transaction's later reads, invisible to
//     others until Commit.
//   - Insert is insert-if-absent: it takes the exclusive lock first and
//     then fails with ErrKeyExists if the key holds a value. That is how a
//     unique index serializes two registrations of one name: the loser
//     waits for the winner and then sees the key (23505, never 40001).
//   - Errors: an error with Retryable() true means the transaction was
//     aborted (deadlock victim, wounded, lease moved) and may be retried from
//     the start; Ambiguous() true means the outcome of Commit is unknown;
//     ErrLockTimeout (or LockTimeout() true) means a lock wait passed the
//     lock timeout. After any error except ErrKeyExists and ErrLockTimeout
//     the transaction is unusable and only Rollback may be called.
//   - A Txn is used by one goroutine at a time.
package kvapi
