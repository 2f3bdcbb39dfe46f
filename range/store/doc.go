// Package store runs all the replicas of one node over its one engine.
//
// The loop. One ticker goroutine ticks every replica's Raft clock; a
// scheduler with a fixed pool of workers runs HandleReady for replicas that
// have work, one worker per replica at a time, so a node with thousands of
// ranges still runs a handful of goroutines. Raft messages arrive through
// HandleRaftMessage; a message for a range the node does not know creates an
// uninitialised replica that waits for a snapshot or for the split that
// creates it. While that split is being applied here (Store.BeginSplit until
// the replica loaded from its state is installed) the range's messages are
// dropped: one replica object per range, and none loaded from a half-way
// state.
//
// Invariant: the spans of the node's initialised replicas never overlap. A
// snapshot that would overlap another replica is dropped (the leader sends it
// again later, by when the split that separates them has applied).
package store
