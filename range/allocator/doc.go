// Package allocator decides what a range's leaseholder should do next to keep
// its range healthy and the cluster balanced. It is a pure core: Decide is a
// function of a snapshot (the range's replicas and leaseholder, each node's
// liveness and replica and lease counts, and a Config); it starts no
// goroutine, reads no clock and does no I/O.
//
// The loop. A leaseholder (driven by the store's replicate queue) takes a
// snapshot, calls Decide, and carries out the one Action it gets back with a
// replication change (ConfChangeV2) or a Raft leadership transfer; then it
// updates its view of the counts and asks again. Liveness timeouts are the
// caller's: a node is Dead in the snapshot only once it has been silent for
// server.time_until_dead.
//
// Decide returns at most one action, the first that applies in this order:
//
//  1. Invalid descriptor (no voter, two replicas on one node): Noop.
//  2. Fewer live voters than a quorum: Noop (the range is unavailable; it
//     cannot commit a configuration change, and recovery is not the
//     allocator's job).
//  3. Learners, which are either the first half of an add or left behind by
//     a crash: RemoveLearner if its node is not live or is decommissioning,
//     or if the range already has more voters than the replication factor
//     (RF); otherwise PromoteLearner (lowest node id first).
//  4. Fewer voters than RF: AddLearner on the best target.
//  5. A voter on a dead or decommissioning node (dead first, then lowest
//     node id): with at most RF voters, AddLearner a replacement first; with
//     more than RF (the replacement is a voter), remove it.
//  6. More voters than RF: remove one, preferring a non-live node, then not
//     the newest replica (highest replica id: the target of the move that
//     made the range over-replicated), then the node with most replicas,
//     then a non-leaseholder, then lowest id.
//  7. The lease is on a decommissioning node: TransferLease (drain).
//  8. Replica rebalance: AddLearner on the target, to be followed by steps 3
//     and 6 (which remove the fuller replica).
//  9. Lease rebalance: TransferLease.
//  10. Noop, with the reason: balanced, or why steps 4–6 are blocked (no
//     target, or removal would break the quorum rule).
//
// Invariants of every action:
//   - Replicas stay on distinct nodes: AddLearner targets a node with no
//     replica of the range.
//   - AddLearner and TransferLease target only nodes that are Live, not
//     decommissioning and (for AddLearner) below Config.MaxFullness; a lease
//     goes only to a voter, never to a learner.
//   - Quorum rule: a voter is removed only if, afterwards, the live voters
//     are still a quorum of the remaining voters (live ≥ n/2+1). Suspect and
//     unknown nodes do not count as live. So with 2 of 3 voters dead nothing
//     is removed, and a dead or decommissioning voter is replaced by adding
//     first (add-then-remove), never by removing first.
//   - The leaseholder's own replica is never removed: the lease moves to the
//     best other live voter first (ReasonLeaseBeforeRemove).
//   - At most one change is in flight per range: a rebalance starts only when
//     the range has exactly RF voters, all on healthy nodes, and no learner.
//
// Balance. Means are taken over healthy nodes (Live, not decommissioning).
// A replica moves from the range's fullest voter node S to the emptiest
// eligible node T when count(S) − count(T) ≥ 2 and S is above mean+tolerance
// or T is below mean−tolerance; leases move the same way between the
// leaseholder and the range's other healthy voters. Requiring a difference of
// at least two makes every move strictly reduce the sum of squared counts,
// so repeated decisions terminate instead of flapping. Tolerance is
// max(Min, Fraction×mean); ties break on the lowest node id, so decisions
// are deterministic. Replica counts reach the tolerance in every simulated
// cluster; lease counts can stop one short of it when few leases per node
// exist (a lease moves only among its range's voters, and the fix would be a
// chain of transfers each of which alone changes nothing).
//
// Driving it from many leaseholders. The termination argument holds for
// fresh counts. Leaseholders on different nodes acting on one stale
// snapshot all pick the same emptiest node and flap (tested in sim_test.go).
// A driver therefore (1) takes a fresh snapshot for each pass over its
// ranges, (2) applies each action to that snapshot with Action.ApplyTo
// before the next decision, and (3) before carrying out a balancing action
// (ReasonRebalanceReplicas, ReasonBalanceLeases) refreshes the counts of
// Source and Target (from those nodes, e.g. when reserving the snapshot) and
// calls Decide again, acting only if the decision is unchanged. With these,
// simulated clusters with one driver per node converge.
package allocator
