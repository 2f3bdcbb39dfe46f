// Package kvmem is an in-memory implementation of kvapi.DB for tests of the
// SQL layer: a sorted map (a B-tree) and a strict two-phase lock manager with
// shared and exclusive locks on keys and on key spans, so it is serializable
// (and, being one process with one clock-free order of commits, strictly
// serializable), if slow.
//
// Writes are applied to the map in place, under the writer's exclusive lock,
// with an undo log; Rollback (or an abort) replays the undo log backwards.
// Since every read except LockNone takes a lock that conflicts with the
// writer's, no other transaction observes an uncommitted write.
//
// Deadlocks are prevented by wound-wait: each transaction's priority is its
// start order; an older transaction that meets a younger holder aborts it
// (its locks are released and its writes undone at once, and its next call
// returns a retryable error); a younger requester waits. LockTimeout bounds
// every wait (ErrLockTimeout). All state is guarded by DB.mu; waiting
// requesters block on a channel that is closed whenever locks are released.
package kvmem
