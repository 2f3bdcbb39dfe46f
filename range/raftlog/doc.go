// Package raftlog implements raft.Storage for one replica on the node's
// Pebble engine: log entries, HardState and the truncated state live under
// the range's unreplicated local keys; the ConfState and applied index live
// in the replicated applied state, written with the data it covers.
//
// The driver loop (package replica) persists a Ready with Append and
// SetHardState into one synced batch, then calls Persisted so the in-memory
// view of the log moves only once the data is durable. Raft reads log
// entries through Entries/Term, which serve the most recently persisted
// entries from a byte-bounded cache (filled by Persisted, cut by overwrites,
// truncation and snapshots) and go to Pebble for older ones. The applied
// state is kept in memory too (Applied/SetApplied), so the apply loop does
// not read it back per Ready.
//
// Invariants: FirstIndex = truncated index + 1; LastIndex >= truncated
// index; Term(truncated index) is always answerable.
package raftlog
