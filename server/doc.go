// Package server assembles one ordo node: the Pebble engine, the store and
// its replicas, the Raft transport, the node-to-node gRPC service, the kv
// client the node uses for its own bookkeeping, cluster bootstrap and join,
// liveness heartbeats, and the HTTP status port.
//
// Start-up. A node whose store holds an ident (cluster id, node id) starts
// at once. A node with an empty store waits: `ordo init` bootstraps a
// cluster at one node, which makes every reachable node of its --join list
// a founding member (the first three hold the initial ranges); a node that
// finds an initialised cluster through --join asks it for a node id.
// --single-node bootstraps a one-node cluster in one step.
//
// Background loops (all owned by the server and stopped by Stop): liveness
// heartbeats (a counter incremented through Raft every second), the
// liveness tracker (a node whose counter stopped moving is suspect, then
// dead), node registry refresh, and meta repair (every leaseholder makes
// sure the meta range holds its current descriptor, which finishes a split
// interrupted between its two steps).
package server
