package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Transport sends Raft messages to other nodes. Send must not block; it may
// drop a message (Raft retransmits).
type Transport interface {
	Send(m *rpcpb.RaftMessage) bool
	// SendSnapshot opens a snapshot stream to node to, runs stream with a
	// function that sends one chunk, and returns the receiver's answer.
	SendSnapshot(ctx context.Context, to uint64, stream func(send func(*rpcpb.SnapshotChunk) error) error) (*rpcpb.SnapshotResponse, error)
}

// Config configures a store. Zero values are defaults.
type Config struct {
	NodeID    uint64
	Engine    *storage.Engine
	Transport Transport
	Logger    *slog.Logger
	// TickInterval is one Raft tick (100ms).
	TickInterval time.Duration
	// ElectionTicks: election timeout in ticks (10).
	ElectionTicks int
	// Workers in the Raft scheduler (8).
	Workers int
	// OnFatal is called when a storage failure or a broken Raft invariant
	// must stop the node.
	OnFatal func(error)
	// LogKeep: Raft log entries kept behind the applied index.
	LogKeep uint64
	// Metrics are shared by the store's replicas (nil: unregistered).
	Metrics *replica.Metrics
	// SnapshotChunkBytes is the size of the chunks snapshots are sent in
	// (1 MiB); SnapshotRate the bytes per second they are sent at (0: no
	// limit). Both are read for each snapshot.
	SnapshotChunkBytes, SnapshotRate func() int64
	// SpillBytes is the size of a transaction's pending writes at a range
	// beyond which they spill (replica.Config.SpillBytes; nil: default).
	SpillBytes func() int64
	// TxnRangeBytes bounds a transaction's locks and pending writes at one
	// range (replica.Config.TxnRangeBytes; nil: the lock table's default).
	TxnRangeBytes func() int64
	// FilterCompiler compiles the row filters scans carry (Op.Filter),
	// evaluated at this node's leaseholders; the server injects the SQL
	// layer's. nil: scans with a filter are refused (BAD_REQUEST).
	FilterCompiler replica.FilterCompiler
	// TestingKnobs inject pauses in tests; zero in production.
	TestingKnobs TestingKnobs
}

// TestingKnobs are hooks for tests.
type TestingKnobs struct {
	// BeforeSplitInstall is called once a split's batch is committed and
	// its right-hand replica loaded, before the store installs it.
	BeforeSplitInstall func(right *rpcpb.RangeDescriptor)
}

func (c *Config) setDefaults() {
	if c.TickInterval == 0 {
		c.TickInterval = 100 * time.Millisecond
	}
	if c.ElectionTicks == 0 {
		c.ElectionTicks = 10
	}
	if c.Workers == 0 {
		c.Workers = 8
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.OnFatal == nil {
		c.OnFatal = func(err error) { panic(err) }
	}
	if c.SnapshotChunkBytes == nil {
		c.SnapshotChunkBytes = func() int64 { return 1 << 20 }
	}
	if c.SnapshotRate == nil {
		c.SnapshotRate = func() int64 { return 0 }
	}
}

// Store holds the replicas of one node.
type Store struct {
	cfg   Config
	sched *scheduler
	stop  chan struct{}
	wg    sync.WaitGroup

	mu struct {
		sync.RWMutex
		replicas map[uint64]*replica.Replica
		// splitting holds the ranges a split is creating here, from the
		// moment it begins until it installs their replica: no replica of
		// them may be created meanwhile (see BeginSplit).
		splitting map[uint64]bool
	}
	// snapSem bounds the snapshots sent at once.
	snapSem chan struct{}
	// staged holds received snapshots until their replica applies them.
	stagedMu sync.Mutex
	staged   map[uint64]*stagedRange
	// appliedCh is closed when a snapshot of the range is next applied.
	appliedCh map[uint64]chan struct{}
	// filters caches the scan filters compiled with cfg.FilterCompiler
	// (nil without one).
	filters *replica.FilterCache
}

// New returns a store; Start loads its replicas and starts its loops.
func New(cfg Config) *Store {
	cfg.setDefaults()
	s := &Store{cfg: cfg, sched: newScheduler(), stop: make(chan struct{}),
		snapSem: make(chan struct{}, maxOutgoingSnapshots), staged: map[uint64]*stagedRange{}, appliedCh: map[uint64]chan struct{}{}}
	s.mu.replicas = map[uint64]*replica.Replica{}
	s.mu.splitting = map[uint64]bool{}
	s.filters = replica.NewFilterCache(cfg.FilterCompiler)
	return s
}

// NodeID returns the store's node id.
func (s *Store) NodeID() uint64 { return s.cfg.NodeID }

func (s *Store) replicaConfig() replica.Config {
	return replica.Config{
		NodeID:        s.cfg.NodeID,
		Engine:        s.cfg.Engine,
		Host:          s,
		Logger:        s.cfg.Logger,
		ElectionTicks: s.cfg.ElectionTicks,
		LogKeep:       s.cfg.LogKeep,
		Metrics:       s.cfg.Metrics,
		SpillBytes:    s.cfg.SpillBytes,
		TxnRangeBytes: s.cfg.TxnRangeBytes,
		OnFatal:       s.cfg.OnFatal,
		Filters:       s.filters,
	}
}

// Start loads every replica found on the engine and starts the loops.
func (s *Store) Start() error {
	ids, err := storedRangeIDs(s.cfg.Engine)
	if err != nil {
		return err
	}
	if err := s.recoverSnapshots(ids); err != nil {
		return err
	}
	for _, id := range ids {
		r, err := replica.Load(s.replicaConfig(), id, 0)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if _, ok := s.mu.replicas[id]; !ok {
			s.mu.replicas[id] = r
		}
		s.mu.Unlock()
	}
	s.sched.start(s.cfg.Workers, s.process)
	s.wg.Add(1)
	go s.tickLoop()
	for _, id := range ids {
		s.maybeCampaign(s.Replica(id))
	}
	return nil
}

// maybeCampaign starts an election at once on a freshly created range's
// first replica instead of waiting out an election timeout.
func (s *Store) maybeCampaign(r *replica.Replica) {
	desc := r.Desc()
	if desc == nil || len(desc.Replicas) == 0 || desc.Replicas[0].NodeId != s.cfg.NodeID {
		return
	}
	hs, err := raftlog.LoadHardState(s.cfg.Engine, r.RangeID())
	if err != nil || hs.GetVote() != 0 || hs.GetCommit() > 10 {
		return
	}
	_ = r.Campaign()
	s.Schedule(r.RangeID())
}

func storedRangeIDs(eng *storage.Engine) ([]uint64, error) {
	start, end := keys.AllRangeDescsSpan()
	var ids []uint64
	err := eng.Scan(start, end, false, func(k, v []byte) bool {
		if id, _, ok := keys.DecodeRangeLocalKey(k); ok && keys.IsRangeDescKey(k) {
			ids = append(ids, id)
		}
		return true
	})
	return ids, err
}

// Stop stops the loops. Pending requests fail.
func (s *Store) Stop() {
	close(s.stop)
	s.wg.Wait()
	s.sched.stop()
	for _, r := range s.Replicas() {
		r.Destroy()
	}
}

func (s *Store) tickLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.TickInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			for _, r := range s.Replicas() {
				r.Tick()
				s.Schedule(r.RangeID())
			}
		}
	}
}

func (s *Store) process(id uint64) {
	r := s.Replica(id)
	if r == nil {
		return
	}
	if err := r.HandleReady(); err != nil {
		s.cfg.Logger.Error("raft ready failed; stopping", "range", id, "err", err)
		s.cfg.OnFatal(err)
	}
}

// Schedule implements replica.Host.
func (s *Store) Schedule(rangeID uint64) { s.sched.enqueue(rangeID) }

// SendRaft implements replica.Host.
func (s *Store) SendRaft(m *rpcpb.RaftMessage) bool {
	if m.To.NodeId == s.cfg.NodeID {
		return s.HandleRaftMessage(m) == nil
	}
	return s.cfg.Transport.Send(m)
}

// Replica returns the replica of rangeID, or nil.
func (s *Store) Replica(rangeID uint64) *replica.Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.replicas[rangeID]
}

// Replicas returns all replicas, ordered by range id.
func (s *Store) Replicas() []*replica.Replica {
	s.mu.RLock()
	out := make([]*replica.Replica, 0, len(s.mu.replicas))
	for _, r := range s.mu.replicas {
		out = append(out, r)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].RangeID() < out[j].RangeID() })
	return out
}

// LookupReplica returns the initialised replica whose span holds key.
func (s *Store) LookupReplica(key []byte) *replica.Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.mu.replicas {
		if d := r.Desc(); d != nil && replica.ContainsKey(d, key) {
			return r
		}
	}
	return nil
}

// HandleRaftMessage steps a message from a peer into its replica.
func (s *Store) HandleRaftMessage(m *rpcpb.RaftMessage) error {
	if m.To == nil || m.To.NodeId != s.cfg.NodeID {
		return kverr.BadRequestf("raft message for node %v reached node %d", m.To, s.cfg.NodeID)
	}
	// Decoded once, here: acceptSnapshot and the replica share it.
	msg := &pb.Message{}
	if err := proto.Unmarshal(m.Message, msg); err != nil {
		return kverr.BadRequestf("range %d: corrupt raft message: %v", m.RangeId, err)
	}
	r, err := s.replicaFor(m)
	if err != nil || r == nil {
		return err // nil, nil: to a replica removed here; dropped
	}
	if ok, err := s.acceptSnapshot(m, msg); !ok || err != nil {
		return err
	}
	if err := r.StepMessage(m.From, msg); err != nil {
		return err
	}
	s.Schedule(m.RangeId)
	return nil
}

// replicaFor returns the replica m is for, creating it if needed; nil if
// the replica was removed here (m is then dropped), errSplitPending while a
// split is creating it here.
func (s *Store) replicaFor(m *rpcpb.RaftMessage) (*replica.Replica, error) {
	if s.isSplitting(m.RangeId) {
		return nil, errSplitPending
	}
	if old := s.Replica(m.RangeId); old != nil && old.ReplicaID() < m.To.ReplicaId {
		// The range removed this node's replica and added it again under a
		// new id: the old one is stale (it would take the new replica's
		// messages as its own and never catch up). It goes, with a
		// tombstone, and a new one starts empty.
		if err := s.DestroyReplica(m.RangeId, old.ReplicaID()); err != nil {
			return nil, err
		}
	}
	return s.getOrCreate(m.RangeId, m.To.ReplicaId)
}

// acceptSnapshot refuses a snapshot that overlaps another initialised replica.
func (s *Store) acceptSnapshot(m *rpcpb.RaftMessage, msg *pb.Message) (bool, error) {
	if msg.GetType() != pb.MsgSnap {
		return true, nil
	}
	desc, err := replica.DecodeSnapshotDesc(msg)
	if err != nil {
		return false, err
	}
	for _, r := range s.Replicas() {
		d := r.Desc()
		if d == nil || r.RangeID() == m.RangeId {
			continue
		}
		if bytes.Compare(d.StartKey, desc.EndKey) < 0 && bytes.Compare(desc.StartKey, d.EndKey) < 0 {
			s.cfg.Logger.Info("dropping overlapping snapshot", "range", m.RangeId, "overlaps", d.RangeId)
			return false, nil
		}
	}
	return true, nil
}

func (s *Store) getOrCreate(rangeID, replicaID uint64) (*replica.Replica, error) {
	if r := s.Replica(rangeID); r != nil {
		return r, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.mu.replicas[rangeID]; r != nil {
		return r, nil
	}
	if s.mu.splitting[rangeID] {
		return nil, errSplitPending
	}
	if min, err := tombstone(s.cfg.Engine, rangeID); err != nil || replicaID < min {
		return nil, err
	}
	r, err := replica.Load(s.replicaConfig(), rangeID, replicaID)
	if err != nil {
		return nil, err
	}
	s.mu.replicas[rangeID] = r
	return r, nil
}

// errSplitPending refuses a Raft message for a range that a split is
// creating on this node right now; Raft sends it again.
var errSplitPending = errors.New("store: the range's split is being applied here")

// BeginSplit implements replica.Host. It is the store's half of the split
// trigger race (a follower that has not applied a split yet can hear from
// the new range's leader first): from now until finishSplit has installed the
// right-hand replica loaded from the split's state, that range has exactly
// one replica object here and it handles nothing.
//
//   - An uninitialised replica created earlier by such messages is quiesced:
//     its Ready handling is over and it steps nothing more, so the HardState
//     the split merges (WriteInitialState: a vote it cast is kept) is final.
//   - No replica may be created meanwhile (the range is marked splitting and
//     its messages are dropped). One created after the batch committed would
//     load the split's state, accept entries past index 10 and ack them; the
//     replica installed next, loaded a moment earlier, would hold a log
//     ending at 10 while the leader counts the follower matched at 11, and
//     its next heartbeat (commit 11) panics etcd raft: tocommit(11) is out
//     of range [lastIndex(10)]. One created before the batch committed would
//     go on writing its HardState over the split's.
//
// Raft retransmits what was dropped; the leader then finds the follower's
// log at the split's index 10 and appends from there.
func (s *Store) BeginSplit(left, right *rpcpb.RangeDescriptor) func() {
	s.mu.Lock()
	s.mu.splitting[right.RangeId] = true
	old := s.mu.replicas[right.RangeId]
	s.mu.Unlock()
	release := func() {}
	if old != nil {
		release = old.Quiesce()
	}
	return func() { s.finishSplit(left, right, release) }
}

// finishSplit installs the right-hand replica once the split's batch is
// committed, loaded from the state the batch wrote.
func (s *Store) finishSplit(left, right *rpcpb.RangeDescriptor, release func()) {
	defer release()
	r, err := replica.Load(s.replicaConfig(), right.RangeId, 0)
	if err != nil {
		s.cfg.OnFatal(fmt.Errorf("store: load range %d created by split: %w", right.RangeId, err))
		return
	}
	if f := s.cfg.TestingKnobs.BeforeSplitInstall; f != nil {
		f(right)
	}
	s.mu.Lock()
	s.mu.replicas[right.RangeId] = r
	delete(s.mu.splitting, right.RangeId)
	s.mu.Unlock()
	s.maybeCampaignAfterSplit(left, r)
	s.Schedule(right.RangeId)
}

func (s *Store) isSplitting(rangeID uint64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.splitting[rangeID]
}

// maybeCampaignAfterSplit lets the left side's leader start the right side's
// election at once.
func (s *Store) maybeCampaignAfterSplit(left *rpcpb.RangeDescriptor, right *replica.Replica) {
	if l := s.Replica(left.RangeId); l != nil && l.IsLeaseholder() {
		_ = right.Campaign()
	}
}

// SnapshotApplied implements replica.Host.
func (s *Store) SnapshotApplied(desc *rpcpb.RangeDescriptor) {
	s.stagedMu.Lock()
	if ch, ok := s.appliedCh[desc.RangeId]; ok {
		close(ch)
		delete(s.appliedCh, desc.RangeId)
	}
	s.stagedMu.Unlock()
	s.Schedule(desc.RangeId)
}

// ReportUnreachable tells every replica that nodeID could not be reached.
func (s *Store) ReportUnreachable(nodeID uint64) {
	for _, r := range s.Replicas() {
		r.ReportUnreachable(nodeID)
	}
}

// Send serves a batch addressed to rangeID on this node.
func (s *Store) Send(ctx context.Context, rangeID uint64, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	r := s.Replica(rangeID)
	if r == nil {
		return nil, &kverr.RangeNotFoundError{RangeID: rangeID}
	}
	res, err := r.Send(ctx, ops)
	return res, s.addDescriptors(err, ops)
}

// addDescriptors adds to a RangeKeyMismatchError the descriptor this node
// holds for the key, so the client can route without another lookup.
func (s *Store) addDescriptors(err error, ops []*rpcpb.Op) error {
	km, ok := err.(*kverr.RangeKeyMismatchError)
	if !ok || len(ops) == 0 {
		return err
	}
	if r := s.LookupReplica(ops[0].Key); r != nil {
		km.Descriptors = append(km.Descriptors, r.Desc())
	}
	return km
}

// Txn serves a transactional request for rangeID on this node.
func (s *Store) Txn(ctx context.Context, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	r := s.Replica(req.RangeId)
	if r == nil {
		return nil, &kverr.RangeNotFoundError{RangeID: req.RangeId}
	}
	resp, err := r.Txn(ctx, req)
	return resp, s.addDescriptors(err, req.Ops)
}
