// Package raftlog implements raft.Storage for one replica on the node's
// Pebble engine: log entries, HardState and the truncated state live under
// the range's unreplicated local keys; the ConfState and applied index live
// in the replicated applied state, written with the data it covers.
//
// The driver loop (package replica) persists a Ready with Append and
// SetHardState into one synced batch, then calls Persisted so the in-memory
// view of the log moves only once the data is durable. Raft reads log
// entries through Entries/Term, which go to Pebble with a small cache of the
// last term.
//
// Invariants: FirstIndex = truncated index + 1; LastIndex >= truncated
// index; Term(truncated index) is always answerable.
package raftlog
