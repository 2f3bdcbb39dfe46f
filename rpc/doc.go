// Package rpc is the client side of ordo's node-to-node gRPC: a pool of
// connections (one per node address) and the Raft transport, which sends
// each peer's Raft messages in batches over one long-lived stream per node
// pair. The wire types live in rpc/rpcpb. The server side of the service is
// assembled in package server; this package imports nothing above the leaf
// packages, so the transport can be used by the store through an interface.
package rpc
