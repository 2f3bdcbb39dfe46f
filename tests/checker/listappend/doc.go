// Package listappend checks list-append histories for serializability and
// strict serializability, after Elle (Kingsbury and Alvaro, VLDB 2020), as
// specified in docs testing.md §3.2.
//
// Each transaction is a history.Op with F == "txn" whose Mops append unique
// values to lists or read whole lists. Because a read returns the full list,
// it reveals the order of every version it contains, which lets the checker
// infer write-write, write-read and read-write dependencies directly.
//
// # Pipeline
//
//  1. Parse: intern keys, index every append as writer[(k, v)] (a repeated
//     (k, v) is a harness bug and an error), mark each txn's final append
//     per key.
//  2. Version order: per key, the longest ok read L; every other ok read must
//     be a prefix of L (incompatible-order otherwise).
//  3. Per-element and per-read checks: garbage reads, G1a (aborted read),
//     G1b (intermediate read), duplicate appends, internal consistency.
//  4. Committed set: ok txns, plus info txns with an observed append. These
//     are the graph's nodes.
//  5. Edges: ww, wr, rw from L; optional process order; realtime order
//     through barrier nodes (O(n) edges: txn -> barrier at its completion,
//     barriers chained in time order, barrier -> txns invoked after it).
//  6. Cycles: iterative Tarjan SCC per layer (ww|wr|rw, then + process, then
//     + realtime). Each non-trivial SCC is classified as G0, G1c, G-single or
//     G2-item by searching restricted subgraphs, and one shortest cycle found
//     is explained edge by edge. In later layers only SCCs the earlier layer
//     did not already contain are reported, with a -process or -realtime
//     suffix, and the reported cycle uses at least one edge of that layer.
//  7. Lost appends: every ok append that completed before the invocation of
//     the last ok read of its key must appear in that read.
//
// # Invariants and limits
//
// The checker is pure: no clock, no I/O, deterministic output for a given
// history. It is roughly linear in the size of the history when there are
// no anomalies; cycle classification in anomalous SCCs does bounded extra
// searches (a G-single cycle that is not found within the budget is reported
// as G2-item). Within a transaction, a second read of a key must equal the
// first plus the transaction's own appends in between (Elle's internal
// check, slightly stronger than prefix consistency).
package listappend
