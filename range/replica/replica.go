package replica

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Host is what a replica needs from its store.
type Host interface {
	// SendRaft hands a message to the transport; it must not block. It
	// reports false if the message was dropped (queue full, node unknown).
	SendRaft(m *rpcpb.RaftMessage) bool
	// Schedule asks for HandleReady to run for the range soon.
	Schedule(rangeID uint64)
	// BeginSplit is called before a split's batch is written; it returns a
	// function the replica calls after the batch is committed.
	BeginSplit(left, right *rpcpb.RangeDescriptor) (finish func())
	// SendSnapshot streams the snapshot Raft asked for in msg (see
	// StreamSnapshot) to the replica to, without blocking, and reports
	// the outcome with ReportSnapshot.
	SendSnapshot(r *Replica, msg *pb.Message, from, to *rpcpb.ReplicaDescriptor)
	// TakeStagedSnapshot hands over the data the store received for the
	// snapshot of rangeID at index (nil if it has none).
	TakeStagedSnapshot(rangeID, index uint64) *StagedSnapshot
	// SnapshotApplied reports that the replica now holds desc.
	SnapshotApplied(desc *rpcpb.RangeDescriptor)
	// ReplicaRemoved reports that the replica applied a descriptor without
	// itself: the store destroys it (not from within HandleReady).
	ReplicaRemoved(rangeID, replicaID uint64)
}

// Config configures a replica. Zero values are defaults.
type Config struct {
	NodeID uint64
	Engine *storage.Engine
	Host   Host
	Logger *slog.Logger
	// ElectionTicks and HeartbeatTicks: Raft timing in ticks (10 and 1).
	ElectionTicks, HeartbeatTicks int
	// LogKeep: entries kept behind the applied index when truncating (1000).
	LogKeep uint64
	// Metrics, shared by the store's replicas; nil records into a private,
	// unregistered set.
	Metrics *Metrics
	// SpillBytes is read at each write: a transaction's pending writes
	// here beyond it are replicated as provisional writes (nil or <= 0:
	// DefaultSpillBytes).
	SpillBytes func() int64
	// TxnRangeBytes is read at each lock and write: the bytes of locks
	// and pending writes one transaction may hold here (nil or 0: the lock
	// table's default, 64 MiB); the cluster setting
	// kv.transaction.max_range_bytes.
	TxnRangeBytes func() int64
	// OnFatal is called when Raft finds a broken invariant, just before it
	// panics (nil: it only panics); it must stop the node.
	OnFatal func(error)
	// Filters compiles the filters scans carry (Op.Filter), shared by the
	// store's replicas; nil: a scan with a filter is a BAD_REQUEST.
	Filters *FilterCache
}

func (c *Config) setDefaults() {
	if c.ElectionTicks == 0 {
		c.ElectionTicks = 10
	}
	if c.HeartbeatTicks == 0 {
		c.HeartbeatTicks = 1
	}
	if c.LogKeep == 0 {
		c.LogKeep = 1000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
}

// Replica is one replica of a range.
type Replica struct {
	cfg     Config
	rangeID uint64
	log     *raftlog.Storage

	raftMu sync.Mutex
	// load samples the requests served, for load-based splits.
	load loadSampler
	// changeMu serialises replication changes proposed here (Raft drops a
	// configuration change proposed while another is pending).
	changeMu sync.Mutex
	// txn is the leaseholder's lock table; lock order raftMu < txn.mu < mu.
	txn txnState
	// stats caches Stats: status and allocator queries ask every second.
	stats struct {
		sync.Mutex
		count, size int64
		applied     uint64
		at          time.Time
	}
	mu struct {
		sync.Mutex
		raw         *raft.RawNode
		replicaID   uint64
		desc        *rpcpb.RangeDescriptor // nil while uninitialised
		peers       map[uint64]uint64      // replica id → node id
		leader      uint64                 // replica id
		state       raft.StateType
		term        uint64
		applied     uint64
		appliedTerm uint64
		proposals   map[uint64]*proposal
		reads       readQueue
		destroyed   bool
		initialized bool
	}
}

type proposal struct {
	term uint64
	// index is the log index the proposal was appended at, once a Ready
	// showed it (0 before). A proposal whose index is known survives a
	// change of leadership: when that index is applied it either holds
	// the proposal (its result is delivered) or another entry (the
	// proposal can never apply: a definite failure).
	index uint64
	// orphanTicks counts ticks since this replica lost the leadership
	// under which the proposal was made (0 while it leads). A replica cut
	// off from its peers never learns whether the entry committed, so
	// after orphanLimit ticks the outcome is reported as ambiguous.
	orphanTicks int
	// proposed is when the proposal was handed to Raft (commit latency).
	proposed time.Time
	done     chan result
}

// orphanLimit is how long, in election timeouts, a proposal waits for its
// fate to become known after its replica lost the leadership.
const orphanLimit = 5

type result struct {
	results []*rpcpb.OpResult
	err     error
	split   *rpcpb.RangeDescriptor
}

// Load opens the replica of rangeID stored on the engine. replicaID is used
// only for a replica that holds no descriptor yet (uninitialised).
func Load(cfg Config, rangeID, replicaID uint64) (*Replica, error) {
	cfg.setDefaults()
	r := &Replica{cfg: cfg, rangeID: rangeID}
	log, err := raftlog.Load(cfg.Engine, rangeID, r.snapshot)
	if err != nil {
		return nil, err
	}
	r.log = log
	desc, err := LoadDescriptor(cfg.Engine, rangeID)
	if err != nil {
		return nil, err
	}
	applied, err := raftlog.LoadAppliedState(cfg.Engine, rangeID)
	if err != nil {
		return nil, err
	}
	r.mu.peers = map[uint64]uint64{}
	r.mu.proposals = map[uint64]*proposal{}
	r.mu.applied, r.mu.appliedTerm = applied.Index, applied.Term
	if desc != nil {
		r.setDescLocked(desc)
		if rd := replicaOnNode(desc, cfg.NodeID); rd != nil {
			replicaID = rd.ReplicaId
		}
	}
	r.mu.replicaID = replicaID
	raw, err := raft.NewRawNode(&raft.Config{
		ID:                        replicaID,
		ElectionTick:              cfg.ElectionTicks,
		HeartbeatTick:             cfg.HeartbeatTicks,
		Storage:                   log,
		Applied:                   applied.Index,
		MaxSizePerMsg:             1 << 20,
		MaxCommittedSizePerReady:  16 << 20,
		MaxUncommittedEntriesSize: 64 << 20,
		MaxInflightMsgs:           256,
		CheckQuorum:               true,
		PreVote:                   true,
		ReadOnlyOption:            raft.ReadOnlySafe,
		Logger:                    raftLogger{l: cfg.Logger.With("range", rangeID), fatal: cfg.OnFatal},
	})
	if err != nil {
		return nil, fmt.Errorf("replica: range %d: %w", rangeID, err)
	}
	r.mu.raw = raw
	return r, nil
}

// RangeID returns the replica's range id.
func (r *Replica) RangeID() uint64 { return r.rangeID }

// Desc returns the current descriptor, nil while uninitialised.
func (r *Replica) Desc() *rpcpb.RangeDescriptor {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.desc
}

// ReplicaID returns this replica's id within its range.
func (r *Replica) ReplicaID() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.replicaID
}

func (r *Replica) setDescLocked(desc *rpcpb.RangeDescriptor) {
	r.mu.desc = desc
	r.mu.initialized = true
	for _, rd := range desc.Replicas {
		r.mu.peers[rd.ReplicaId] = rd.NodeId
	}
}

// ReplicaOf returns the replica desc has on nodeID, or nil.
func ReplicaOf(desc *rpcpb.RangeDescriptor, nodeID uint64) *rpcpb.ReplicaDescriptor {
	return replicaOnNode(desc, nodeID)
}

func replicaOnNode(desc *rpcpb.RangeDescriptor, nodeID uint64) *rpcpb.ReplicaDescriptor {
	for _, rd := range desc.Replicas {
		if rd.NodeId == nodeID {
			return rd
		}
	}
	return nil
}

// ContainsKey reports whether the replica's descriptor holds key.
func ContainsKey(desc *rpcpb.RangeDescriptor, key []byte) bool {
	return bytes.Compare(key, desc.StartKey) >= 0 && bytes.Compare(key, desc.EndKey) < 0
}

// Tick advances Raft's logical clock by one tick.
func (r *Replica) Tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.destroyed {
		return
	}
	r.mu.raw.Tick()
	if r.mu.state != raft.StateLeader && len(r.mu.proposals) > 0 {
		limit := orphanLimit * r.cfg.ElectionTicks
		for id, p := range r.mu.proposals {
			if p.orphanTicks++; p.orphanTicks > limit {
				p.done <- result{err: &kverr.AmbiguousError{Reason: fmt.Sprintf("range %d: leadership lost and the write's outcome unknown after %d ticks", r.rangeID, limit)}}
				delete(r.mu.proposals, id)
			}
		}
	}
}

// Campaign makes the replica start an election (used at bootstrap).
func (r *Replica) Campaign() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.raw.Campaign()
}

// Step feeds a message from a peer into Raft.
func (r *Replica) Step(m *rpcpb.RaftMessage) error {
	msg := &pb.Message{}
	if err := proto.Unmarshal(m.Message, msg); err != nil {
		return kverr.BadRequestf("range %d: corrupt raft message: %v", r.rangeID, err)
	}
	return r.StepMessage(m.From, msg)
}

// IsLeaseholder reports whether this replica leads its range.
func (r *Replica) IsLeaseholder() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.state == raft.StateLeader
}

// TransferLease asks Raft to hand leadership to the replica on nodeID.
func (r *Replica) TransferLease(nodeID uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.desc == nil {
		return &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	target := replicaOnNode(r.mu.desc, nodeID)
	if target == nil {
		return kverr.BadRequestf("range %d has no replica on node %d", r.rangeID, nodeID)
	}
	if r.mu.state != raft.StateLeader {
		return r.notLeaseholderLocked()
	}
	r.mu.raw.TransferLeader(target.ReplicaId)
	r.cfg.Host.Schedule(r.rangeID)
	return nil
}

func (r *Replica) notLeaseholderLocked() error {
	e := &kverr.NotLeaseholderError{RangeID: r.rangeID}
	if n, ok := r.mu.peers[r.mu.leader]; ok && r.mu.leader != 0 {
		e.Leaseholder = &rpcpb.ReplicaDescriptor{NodeId: n, ReplicaId: r.mu.leader}
	}
	return e
}

// Info describes the replica for status endpoints.
func (r *Replica) Info() *rpcpb.RangeInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.mu.raw.BasicStatus()
	return &rpcpb.RangeInfo{
		Desc:            r.mu.desc,
		NodeId:          r.cfg.NodeID,
		LeaderReplicaId: st.Lead,
		IsLeaseholder:   st.RaftState == raft.StateLeader,
		Term:            st.GetTerm(),
		AppliedIndex:    r.mu.applied,
		CommitIndex:     st.GetCommit(),
		RaftState:       st.RaftState.String(),
		Initialized:     r.mu.initialized,
	}
}

// Destroy stops the replica; pending requests fail.
func (r *Replica) Destroy() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mu.destroyed = true
	r.failProposalsLocked(func(*proposal) bool { return true }, "replica destroyed")
	r.mu.reads.failAll(&kverr.RangeNotFoundError{RangeID: r.rangeID})
}

// Send serves a batch of ops addressed to this range.
func (r *Replica) Send(ctx context.Context, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	if err := r.checkKeys(ops); err != nil {
		return nil, err
	}
	for _, op := range ops {
		r.load.record(op.Key)
	}
	if readOnly(ops) {
		return r.read(ctx, ops)
	}
	return r.propose(ctx, &rpcpb.RaftCommand{Ops: ops})
}

func (r *Replica) checkKeys(ops []*rpcpb.Op) error {
	r.mu.Lock()
	desc := r.mu.desc
	r.mu.Unlock()
	if desc == nil {
		return &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	return checkOpKeys(desc, ops)
}

func checkOpKeys(desc *rpcpb.RangeDescriptor, ops []*rpcpb.Op) error {
	for _, op := range ops {
		if !ContainsKey(desc, op.Key) {
			return &kverr.RangeKeyMismatchError{RangeID: desc.RangeId, Key: op.Key, Descriptors: []*rpcpb.RangeDescriptor{desc}}
		}
		if isSpanOp(op) && bytes.Compare(op.EndKey, desc.EndKey) > 0 {
			return &kverr.RangeKeyMismatchError{RangeID: desc.RangeId, Key: desc.EndKey, Descriptors: []*rpcpb.RangeDescriptor{desc}}
		}
	}
	return nil
}

func isSpanOp(op *rpcpb.Op) bool {
	return op.Kind == rpcpb.Op_SCAN || op.Kind == rpcpb.Op_DELETE_RANGE
}

func readOnly(ops []*rpcpb.Op) bool {
	for _, op := range ops {
		if op.Kind != rpcpb.Op_GET && op.Kind != rpcpb.Op_SCAN {
			return false
		}
	}
	return true
}

// Split proposes splitting the range at key into a new range newRangeID.
func (r *Replica) Split(ctx context.Context, key []byte, newRangeID uint64) (left, right *rpcpb.RangeDescriptor, err error) {
	r.mu.Lock()
	desc := r.mu.desc
	r.mu.Unlock()
	if desc == nil {
		return nil, nil, &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	if err := validateSplit(desc, key); err != nil {
		return nil, nil, err
	}
	cmd := &rpcpb.RaftCommand{Split: &rpcpb.SplitTrigger{SplitKey: key, NewRangeId: newRangeID, ExpectedGeneration: desc.Generation}}
	res, err := r.proposeResult(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	return r.Desc(), res.split, nil
}

func validateSplit(desc *rpcpb.RangeDescriptor, key []byte) error {
	if bytes.Compare(desc.StartKey, keys.SystemMax) < 0 {
		return kverr.BadRequestf("range %d: the meta range never splits", desc.RangeId)
	}
	if bytes.Compare(key, desc.StartKey) <= 0 || bytes.Compare(key, desc.EndKey) >= 0 {
		return &kverr.RangeKeyMismatchError{RangeID: desc.RangeId, Key: key, Descriptors: []*rpcpb.RangeDescriptor{desc}}
	}
	return nil
}

func (r *Replica) propose(ctx context.Context, cmd *rpcpb.RaftCommand) ([]*rpcpb.OpResult, error) {
	res, err := r.proposeResult(ctx, cmd)
	return res.results, err
}

func (r *Replica) proposeResult(ctx context.Context, cmd *rpcpb.RaftCommand) (result, error) {
	cmd.Id = rand.Uint64() | 1
	data, err := proto.Marshal(cmd)
	if err != nil {
		return result{}, err
	}
	p := &proposal{done: make(chan result, 1)}
	if err := r.submit(cmd.Id, p, data); err != nil {
		return result{}, err
	}
	select {
	case res := <-p.done:
		return res, res.err
	case <-ctx.Done():
		r.mu.Lock()
		delete(r.mu.proposals, cmd.Id)
		r.mu.Unlock()
		return result{}, &kverr.AmbiguousError{Reason: fmt.Sprintf("range %d: %v while the write was in flight", r.rangeID, ctx.Err())}
	}
}

func (r *Replica) submit(id uint64, p *proposal, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.destroyed {
		return &kverr.RangeNotFoundError{RangeID: r.rangeID}
	}
	if r.mu.state != raft.StateLeader {
		return r.notLeaseholderLocked()
	}
	p.term = r.mu.term
	if err := r.mu.raw.Propose(data); err != nil {
		return r.notLeaseholderLocked()
	}
	r.trackProposalLocked(id, p)
	r.cfg.Host.Schedule(r.rangeID)
	return nil
}

func (r *Replica) failProposalsLocked(match func(*proposal) bool, why string) {
	for id, p := range r.mu.proposals {
		if match(p) {
			p.done <- result{err: &kverr.AmbiguousError{Reason: fmt.Sprintf("range %d: %s", r.rangeID, why)}}
			delete(r.mu.proposals, id)
		}
	}
}

// noteProposalIndexesLocked records at which log index each of this
// replica's proposals in ents was appended. Commands are marshaled with
// their id (field 1) first, so only that field is read.
func (r *Replica) noteProposalIndexesLocked(ents []*pb.Entry) {
	if len(r.mu.proposals) == 0 {
		return
	}
	for _, e := range ents {
		if e.GetType() != pb.EntryNormal || len(e.GetData()) == 0 {
			continue
		}
		if id, ok := commandID(e.GetData()); ok {
			if p := r.mu.proposals[id]; p != nil {
				p.index = e.GetIndex()
			}
		}
	}
}

// commandID reads the id of a marshaled RaftCommand.
func commandID(data []byte) (uint64, bool) {
	num, typ, n := protowire.ConsumeTag(data)
	if n < 0 || num != 1 || typ != protowire.VarintType {
		return 0, false
	}
	v, m := protowire.ConsumeVarint(data[n:])
	return v, m >= 0
}

// settleOverwrittenLocked fails, as definitely not applied, every proposal
// whose log index has been applied without it (the entry there is another
// one, and a command is never proposed twice), or that an entry of a later
// term has been applied before (terms never decrease along a log, so no
// leader can ever commit the proposal after it). The caller retries it
// elsewhere (NotLeaseholder) as if it had never been sent.
func (r *Replica) settleOverwrittenLocked(applied, appliedTerm uint64) {
	for id, p := range r.mu.proposals {
		if p.index != 0 && (p.index <= applied || appliedTerm > p.term) {
			p.done <- result{err: r.notLeaseholderLocked()}
			delete(r.mu.proposals, id)
		}
	}
}

// Quiesce stops an uninitialised replica that a split is about to replace:
// it waits for its Ready handling to finish and stops it for good. The
// returned function releases it.
func (r *Replica) Quiesce() (release func()) {
	r.raftMu.Lock()
	r.mu.Lock()
	r.mu.destroyed = true
	r.failProposalsLocked(func(*proposal) bool { return true }, "replica destroyed")
	r.mu.Unlock()
	return r.raftMu.Unlock
}

// ContainsNode reports whether desc has a replica on nodeID.
func ContainsNode(desc *rpcpb.RangeDescriptor, nodeID uint64) bool {
	return replicaOnNode(desc, nodeID) != nil
}

// AppliedIndex is the index of the last entry applied here.
func (r *Replica) AppliedIndex() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mu.applied
}
