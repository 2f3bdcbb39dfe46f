// Package cluster starts ordo clusters for tests: in-process nodes over real
// gRPC on loopback (InProcess), with a fault knob that cuts Raft traffic
// between chosen nodes, and stop/restart of a node on the same store.
package cluster
