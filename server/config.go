package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/txn"
)

// Config configures a node. Zero values are defaults.
type Config struct {
	// StoreDir is the node's data directory.
	StoreDir string
	// FS, if set, replaces the real filesystem (tests).
	FS vfs.FS
	// ListenAddr is the node-to-node and kv gRPC address.
	ListenAddr string
	// AdvertiseAddr is the address other nodes use; defaults to the
	// listener's address.
	AdvertiseAddr string
	// SQLAddr and HTTPAddr: the Postgres and HTTP status ports.
	SQLAddr, HTTPAddr string
	// AdvertiseSQL and AdvertiseHTTP are the addresses published in the
	// node registry; they default to SQLAddr and HTTPAddr.
	AdvertiseSQL, AdvertiseHTTP string
	// PeerSourceIP, if set, is the local IP outgoing node-to-node
	// connections are bound to, so that a fault-injection proxy in front of
	// each node can tell its peers apart by source address (tests/nemesis).
	PeerSourceIP string
	// CertsDir, when set, holds ca.crt, node.crt and node.key (as `ordo
	// cert` writes them): the SQL listener then answers SSLRequest with 'S'
	// and verifies client certificates that are presented against ca.crt.
	CertsDir string
	// HBAConfFile is a host-based authentication rule file (pg_hba.conf's
	// host, hostssl and hostnossl lines; see pgwire.ParseHBA). Empty means
	// DefaultHBA: trust for everyone.
	HBAConfFile string
	// Join lists addresses of nodes to join.
	Join []string
	// SingleNode bootstraps a one-node cluster if the store is empty.
	SingleNode bool
	// ReplicationFactor of every range (3): the initial ranges get up to
	// this many replicas, and the replicate queue keeps every range there.
	ReplicationFactor int
	// TickInterval is one Raft tick (100ms); the election timeout is 10 ticks.
	TickInterval time.Duration
	// HeartbeatInterval of liveness (1s); a node is suspect after
	// SuspectAfter (4s) without a heartbeat, dead after TimeUntilDead (5m).
	HeartbeatInterval, SuspectAfter, TimeUntilDead time.Duration
	// ReplicateInterval is how often the replicate queue runs (1s);
	// ReplicaGCInterval how often removed replicas are looked for (10s).
	ReplicateInterval, ReplicaGCInterval time.Duration
	// RangeMaxBytes is the size above which a range splits (64 MiB), and
	// SplitInterval how often ranges are checked (5s).
	RangeMaxBytes int64
	SplitInterval time.Duration
	// InitWait bounds how long init waits for the join list to answer (15s).
	InitWait time.Duration
	// CacheBytes sizes the storage engine's block cache (64 MiB).
	CacheBytes int64
	// Version is the binary's version, logged at start-up and shown by
	// the status endpoints.
	Version string
	Logger  *slog.Logger
	// OnFatal is called when a storage failure or a broken Raft invariant
	// must stop the node; the default logs and exits the process.
	OnFatal func(error)
	Knobs   TestingKnobs
}

// TestingKnobs inject faults in tests.
type TestingKnobs struct {
	// RaftDrop drops Raft traffic from node from to node to when it returns
	// true, in both the sending and the receiving node.
	RaftDrop func(from, to uint64) bool
	// Txn are the knobs of the node's transaction coordinator.
	Txn txn.TestingKnobs
	// AfterReplicationChange is called by the replicate queue after a
	// replication change committed and before meta records it; ctx ends
	// when the node stops (a test may stop the node here to interrupt the
	// change).
	AfterReplicationChange func(ctx context.Context, desc *rpcpb.RangeDescriptor, change string, target uint64)
}

func (c *Config) setDefaults() {
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 3
	}
	if c.TickInterval == 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.SuspectAfter == 0 {
		c.SuspectAfter = 4 * c.HeartbeatInterval
	}
	if c.ReplicateInterval == 0 {
		c.ReplicateInterval = time.Second
	}
	if c.RangeMaxBytes == 0 {
		c.RangeMaxBytes = 64 << 20
	}
	if c.SplitInterval == 0 {
		c.SplitInterval = 5 * time.Second
	}
	if c.ReplicaGCInterval == 0 {
		c.ReplicaGCInterval = 10 * time.Second
	}
	if c.TimeUntilDead == 0 {
		c.TimeUntilDead = 5 * time.Minute
	}
	if c.InitWait == 0 {
		c.InitWait = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
