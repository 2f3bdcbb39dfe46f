// Package replica runs one replica of one range: a raft.RawNode over a
// raftlog.Storage, driven by the store's scheduler.
//
// The loop. The store calls HandleReady on one worker at a time per replica.
// HandleReady takes a Ready and, in order: installs a snapshot if there is
// one; appends entries and the HardState in one synced batch; sends the
// messages; applies committed entries in one unsynced batch that also holds
// the applied index; serves ReadIndex results; and calls Advance.
//
// Leaseholder = Raft leader. Writes are proposed at the leader and evaluated
// when applied, identically on every replica (a CAS or increment reads the
// state it is applied to). Reads wait for a ReadIndex round (batched: one
// round serves every read pending when it starts) and for the replica to
// apply up to that index; no clock is involved. A proposal whose leader loses
// leadership or term before it applies is reported as ambiguous.
//
// Locks: raftMu < mu. raftMu serialises Ready handling and is held across the
// Ready's disk and network I/O (nothing else waits on it on a hot path); mu
// guards the RawNode and the in-memory state and is never held across I/O.
package replica
