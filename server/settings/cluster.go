package settings

import "time"

// Cluster is the registry of ordo's cluster settings.
var Cluster = NewRegistry()

// Byte sizes.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// Ranges: splits.
var (
	RangeMaxBytes = Cluster.RegisterBytes("kv.range_max_bytes",
		"size above which a range splits (at a key that roughly halves it, preferring a table boundary)",
		64*MiB, Min(4*KiB), Max(8*GiB))
	LoadSplitEnabled = Cluster.RegisterBool("kv.range_split.by_load_enabled",
		"split ranges whose load exceeds kv.range_split.load_qps_threshold",
		true)
	LoadSplitQPSThreshold = Cluster.RegisterInt("kv.range_split.load_qps_threshold",
		"requests per second above which a range splits by load",
		2500, Min(1))
)

// Replication and membership.
var (
	ReplicationFactor = Cluster.RegisterInt("kv.replication_factor",
		"number of voting replicas of each range",
		3, Min(1), Max(7))
	TimeUntilDead = Cluster.RegisterDuration("server.time_until_dead",
		"how long a node may miss liveness heartbeats before it is dead and its replicas are replaced",
		5*time.Minute, MinDuration(time.Second))
	ReplicaRebalancing = Cluster.RegisterBool("kv.allocator.replica_rebalancing.enabled",
		"move replicas between nodes to balance replica counts",
		true)
	LeaseRebalancing = Cluster.RegisterBool("kv.allocator.lease_rebalancing.enabled",
		"transfer leases (Raft leadership) between replicas to balance lease counts",
		true)
	RebalanceTolerancePercent = Cluster.RegisterInt("kv.allocator.rebalance_tolerance_percent",
		"how far, in percent of the mean, a node's replica or lease count may be from the mean before it is rebalanced (never less than one)",
		5, Min(0), Max(100))
	MaxStoreFullnessPercent = Cluster.RegisterInt("kv.allocator.max_store_fullness_percent",
		"disk use, in percent, above which a node gets no new replicas",
		95, Min(1), Max(100))
	SnapshotChunkBytes = Cluster.RegisterBytes("kv.snapshot.chunk_bytes",
		"size of the chunks a range snapshot is streamed in (bounds the memory a snapshot uses)",
		1*MiB, Min(4*KiB), Max(64*MiB))
	SnapshotMaxRate = Cluster.RegisterBytes("kv.snapshot.max_rate",
		"bytes per second a node sends snapshots at; 0 for no limit",
		0)
)

// Transactions and SQL.
var (
	LockTimeout = Cluster.RegisterDuration("kv.lock_timeout",
		"how long a request waits for a lock before it fails (the backstop behind wound-wait)",
		10*time.Second, MinDuration(time.Millisecond))
	SpillBytes = Cluster.RegisterBytes("kv.transaction.spill_bytes",
		"size of a transaction's pending writes at one range beyond which they are replicated early, in chunks, as provisional writes (a large transaction's writes then stay out of the leaseholder's memory)",
		4*MiB, Min(4*KiB), Max(1*GiB))
	TxnRangeBytes = Cluster.RegisterBytes("kv.transaction.max_range_bytes",
		"bytes of locks and unspilled pending writes one transaction may hold at one range's leaseholder; beyond it the transaction fails with 53200 (a bulk load of millions of rows into one range takes one lock per row)",
		64*MiB, Min(1*MiB), Max(64*GiB))
	StatementTimeout = Cluster.RegisterDuration("sql.defaults.statement_timeout",
		"default statement_timeout of new SQL sessions; 0 for none",
		0)
	QueryMemoryBudget = Cluster.RegisterBytes("sql.query.memory_budget",
		"bytes one SQL statement's materialising operators (scans, sort, hash join, hash aggregation, DISTINCT, set operations, generate_series, the result) may hold; beyond it the statement fails with 53200 out of memory",
		256*MiB, Min(1*MiB), Max(64*GiB))
	SequenceNodeCache = Cluster.RegisterInt("sql.sequence.node_cache",
		"number of values a node reserves at a time from a sequence whose CACHE is 1, and hands out to its sessions (values then interleave across nodes)",
		32, Min(1), Max(1000000))
	ClusterOrganization = Cluster.RegisterString("cluster.organization",
		"organization name shown by the status pages",
		"")
)
