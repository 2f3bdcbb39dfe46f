package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/range/store"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

// Range ids of the ranges every cluster starts with.
const (
	metaRangeID = 1
	userRangeID = 2
)

// member is a founding member found at init.
type member struct {
	addr string
	desc *rpcpb.NodeDescriptor
}

// bootstrap creates a new cluster with this node and the given peers as
// founding members. The first ReplicationFactor members hold the initial
// ranges: the meta range [MinAddressable, SystemMax) and the user range.
func (s *Server) bootstrap(ctx context.Context, peers []member) (string, error) {
	s.mu.Lock()
	if s.mu.ident != nil || s.mu.bootstrapping {
		s.mu.Unlock()
		return "", errAlreadyInitialized
	}
	s.mu.bootstrapping = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.mu.bootstrapping = false
		s.mu.Unlock()
	}()

	members := append([]member{{addr: s.cfg.AdvertiseAddr, desc: s.selfDesc()}}, peers...)
	var nodes []*rpcpb.NodeDescriptor
	for i, m := range members {
		m.desc.NodeId = uint64(i + 1)
		nodes = append(nodes, m.desc)
	}
	clusterID := newClusterID()
	descs := initialDescs(len(members), s.cfg.ReplicationFactor)
	data, err := initialData(clusterID, descs, nodes)
	if err != nil {
		return "", err
	}
	for _, m := range members[1:] {
		req := &rpcpb.JoinBootstrapRequest{ClusterId: clusterID, NodeId: m.desc.NodeId, Nodes: nodes, Ranges: descs}
		c, err := s.dialer.Client(m.addr)
		if err != nil {
			return "", err
		}
		if _, err := c.JoinBootstrap(ctx, req); err != nil {
			return "", fmt.Errorf("server: bootstrap member %s: %w", m.addr, err)
		}
	}
	ident := &rpcpb.StoreIdent{ClusterId: clusterID, NodeId: 1}
	if err := s.writeInitialState(ident, descs, data); err != nil {
		return "", err
	}
	return clusterID, s.startNode(ident, nodes, descs[0])
}

func newClusterID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func initialDescs(members, rf int) []*rpcpb.RangeDescriptor {
	n := min(members, rf)
	mk := func(id uint64, start, end []byte) *rpcpb.RangeDescriptor {
		d := &rpcpb.RangeDescriptor{RangeId: id, StartKey: start, EndKey: end, Generation: 1, NextReplicaId: uint64(n) + 1}
		for i := 1; i <= n; i++ {
			d.Replicas = append(d.Replicas, &rpcpb.ReplicaDescriptor{NodeId: uint64(i), ReplicaId: uint64(i)})
		}
		return d
	}
	return []*rpcpb.RangeDescriptor{
		mk(metaRangeID, keys.MinAddressable, keys.SystemMax),
		mk(userRangeID, keys.UserMin, keys.MaxKey),
	}
}

// initialData is the content of the meta range at bootstrap.
func initialData(clusterID string, descs []*rpcpb.RangeDescriptor, nodes []*rpcpb.NodeDescriptor) ([]*rpcpb.KeyValue, error) {
	var out []*rpcpb.KeyValue
	add := func(k []byte, m proto.Message) error {
		v, err := proto.Marshal(m)
		out = append(out, &rpcpb.KeyValue{Key: k, Value: v})
		return err
	}
	for _, d := range descs {
		if err := add(keys.MetaKey(d.EndKey), d); err != nil {
			return nil, err
		}
	}
	for _, n := range nodes {
		if err := add(keys.NodeDescKey(n.NodeId), n); err != nil {
			return nil, err
		}
	}
	out = append(out,
		&rpcpb.KeyValue{Key: keys.NodeIDGenKey(), Value: replica.EncodeCounter(int64(len(nodes)))},
		&rpcpb.KeyValue{Key: keys.RangeIDGenKey(), Value: replica.EncodeCounter(userRangeID)},
		&rpcpb.KeyValue{Key: keys.ClusterIDKey(), Value: []byte(clusterID)},
	)
	return out, nil
}

// writeInitialState writes the ident and the ranges this node holds (with
// the meta range's data if it holds it) in one synced batch.
func (s *Server) writeInitialState(ident *rpcpb.StoreIdent, descs []*rpcpb.RangeDescriptor, data []*rpcpb.KeyValue) error {
	var mine []*rpcpb.RangeDescriptor
	for _, d := range descs {
		if replica.ContainsNode(d, ident.NodeId) {
			mine = append(mine, d)
		}
	}
	v, err := proto.Marshal(ident)
	if err != nil {
		return err
	}
	kvs := []*rpcpb.KeyValue{{Key: keys.StoreIdentKey(), Value: v}}
	if len(mine) > 0 && mine[0].RangeId == metaRangeID {
		kvs = append(kvs, data...)
	}
	return store.WriteInitialRanges(s.eng, mine, kvs)
}

// joinBootstrap makes this uninitialised node a founding member.
func (s *Server) joinBootstrap(req *rpcpb.JoinBootstrapRequest) error {
	s.mu.Lock()
	if s.mu.ident != nil || s.mu.bootstrapping {
		s.mu.Unlock()
		return errAlreadyInitialized
	}
	s.mu.bootstrapping = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.mu.bootstrapping = false
		s.mu.Unlock()
	}()
	ident := &rpcpb.StoreIdent{ClusterId: req.ClusterId, NodeId: req.NodeId}
	for _, n := range req.Nodes {
		if n.NodeId == req.NodeId {
			s.dir.mu.Lock()
			s.dir.mu.self.NodeId = n.NodeId
			s.dir.mu.Unlock()
		}
	}
	if len(req.Ranges) == 0 || req.Ranges[0].RangeId != metaRangeID {
		return fmt.Errorf("server: bootstrap request without the meta range")
	}
	data, err := initialData(req.ClusterId, req.Ranges, req.Nodes)
	if err != nil {
		return err
	}
	if err := s.writeInitialState(ident, req.Ranges, data); err != nil {
		return err
	}
	return s.startNode(ident, req.Nodes, req.Ranges[0])
}

// initMembers finds the uninitialised nodes of the join list, waiting up to
// InitWait for all of them to answer.
func (s *Server) initMembers(ctx context.Context) ([]member, error) {
	deadline := time.Now().Add(s.cfg.InitWait)
	found := map[string]*rpcpb.ClusterInfoResponse{}
	for {
		for _, addr := range s.cfg.Join {
			if addr == s.cfg.AdvertiseAddr || found[addr] != nil {
				continue
			}
			info, err := s.clusterInfo(ctx, addr)
			if err != nil {
				continue
			}
			if info.Initialized {
				return nil, fmt.Errorf("%w: node %s belongs to cluster %s", errAlreadyInitialized, addr, info.ClusterId)
			}
			if info.Self != nil && info.Self.Address == s.cfg.AdvertiseAddr {
				continue // our own address under another name
			}
			found[addr] = info
		}
		if len(found) == len(s.otherJoinAddrs()) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	var out []member
	for _, addr := range s.cfg.Join {
		if info := found[addr]; info != nil {
			d := info.Self
			if d == nil {
				d = &rpcpb.NodeDescriptor{Address: addr}
			}
			out = append(out, member{addr: addr, desc: d})
		}
	}
	return out, nil
}

func (s *Server) otherJoinAddrs() []string {
	var out []string
	for _, a := range s.cfg.Join {
		if a != s.cfg.AdvertiseAddr {
			out = append(out, a)
		}
	}
	return out
}

func (s *Server) clusterInfo(ctx context.Context, addr string) (*rpcpb.ClusterInfoResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c, err := s.dialer.Client(addr)
	if err != nil {
		return nil, err
	}
	return c.ClusterInfo(ctx, &rpcpb.ClusterInfoRequest{})
}

// foundingGrace is how long a new node that an initialised cluster already
// lists (by its address) waits for the JoinBootstrap of a founding member
// before it asks for a new node id instead.
const foundingGrace = 30 * time.Second

// joinLoop asks the join list for a node id until one answers.
func (s *Server) joinLoop() {
	s.joinStarted = time.Now()
	for {
		if s.NodeID() != 0 {
			return
		}
		for _, addr := range s.otherJoinAddrs() {
			if s.tryJoin(addr) {
				return
			}
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *Server) tryJoin(addr string) bool {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	info, err := s.clusterInfo(ctx, addr)
	if err != nil || !info.Initialized {
		return false
	}
	if s.listedFounder(info) && time.Since(s.joinStarted) < foundingGrace {
		// The cluster is being bootstrapped with this node as a founding
		// member: its JoinBootstrap is on its way. Joining now would hold
		// this node busy (a Join waits for the meta range's quorum, which
		// needs the bootstrapping node) and make that JoinBootstrap fail,
		// and so ordo init (seen as AlreadyExists in TestClusterFaults).
		return false
	}
	s.mu.Lock()
	busy := s.mu.ident != nil || s.mu.bootstrapping
	if !busy {
		s.mu.bootstrapping = true
	}
	s.mu.Unlock()
	if busy {
		return s.NodeID() != 0
	}
	defer func() {
		s.mu.Lock()
		s.mu.bootstrapping = false
		s.mu.Unlock()
	}()
	c, err := s.dialer.Client(addr)
	if err != nil {
		return false
	}
	resp, err := c.Join(ctx, &rpcpb.JoinRequest{Node: s.selfDesc()})
	if err != nil {
		s.cfg.Logger.Warn("join failed", "addr", addr, "err", err)
		return false
	}
	ident := &rpcpb.StoreIdent{ClusterId: resp.ClusterId, NodeId: resp.NodeId}
	if err := s.writeInitialState(ident, nil, nil); err != nil {
		s.cfg.Logger.Error("write ident", "err", err)
		return false
	}
	if err := s.startNode(ident, resp.Nodes, resp.MetaRange); err != nil {
		s.cfg.Logger.Error("start after join", "err", err)
	}
	return true
}

// listedFounder reports whether an initialised cluster's node list has
// this node's address.
func (s *Server) listedFounder(info *rpcpb.ClusterInfoResponse) bool {
	for _, n := range info.Nodes {
		if n.Address == s.cfg.AdvertiseAddr {
			return true
		}
	}
	return false
}

// join serves a new node's request for a node id.
func (s *Server) join(ctx context.Context, req *rpcpb.JoinRequest) (*rpcpb.JoinResponse, error) {
	s.mu.Lock()
	ident := s.mu.ident
	s.mu.Unlock()
	if ident == nil {
		return nil, fmt.Errorf("server: this node has not joined a cluster yet")
	}
	id, err := s.db.Increment(ctx, keys.NodeIDGenKey(), 1)
	if err != nil {
		return nil, fmt.Errorf("server: allocate node id: %w", err)
	}
	nd := proto.Clone(req.Node).(*rpcpb.NodeDescriptor)
	nd.NodeId = uint64(id)
	if err := s.putNodeDesc(ctx, nd); err != nil {
		return nil, err
	}
	s.dir.update(nd)
	meta, _ := s.metaDesc(ctx)
	return &rpcpb.JoinResponse{ClusterId: ident.ClusterId, NodeId: nd.NodeId, Nodes: s.dir.list(), MetaRange: meta}, nil
}

func (s *Server) putNodeDesc(ctx context.Context, nd *rpcpb.NodeDescriptor) error {
	v, err := proto.Marshal(nd)
	if err != nil {
		return err
	}
	return s.db.Put(ctx, keys.NodeDescKey(nd.NodeId), v)
}

// registerLoop keeps this node's registry entry current (its address may
// have changed since the last start) and refreshes the directory.
func (s *Server) registerLoop() {
	registered := false
	s.every(2*time.Second, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if !registered {
			registered = s.putNodeDesc(ctx, s.dir.self()) == nil
		}
		prefix := keys.NodeDescPrefix()
		rows, err := s.db.Scan(ctx, prefix, keys.PrefixEnd(prefix), 0)
		if err != nil {
			s.learnNodesFromPeers(ctx)
			return
		}
		before := len(s.dir.list())
		for _, kv := range rows {
			nd := &rpcpb.NodeDescriptor{}
			if proto.Unmarshal(kv.Value, nd) == nil {
				s.dir.update(nd)
			}
		}
		if len(s.dir.list()) != before {
			s.saveNodes()
		}
	})
}

// metaRepairLoop makes sure the meta range holds the current descriptor of
// every range this node leads.
func (s *Server) metaRepairLoop() {
	s.every(3*time.Second, func(ctx context.Context) {
		st := s.Store()
		for _, r := range st.Replicas() {
			d := r.Desc()
			if d == nil || !r.IsLeaseholder() {
				continue
			}
			if err := s.ensureMeta(ctx, d); err != nil {
				s.cfg.Logger.Debug("meta repair", "range", d.RangeId, "err", err)
			}
		}
	})
}

func (s *Server) ensureMeta(ctx context.Context, d *rpcpb.RangeDescriptor) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, found, err := s.db.Get(ctx, keys.MetaKey(d.EndKey))
	if err != nil {
		return err
	}
	if found {
		cur := &rpcpb.RangeDescriptor{}
		if proto.Unmarshal(v, cur) == nil && !replica.DescNewer(d, cur) && bytes.Equal(cur.StartKey, d.StartKey) {
			return nil
		}
	}
	return s.updateMeta(ctx, d)
}

// updateMeta writes descriptors into meta, each only over an older one.
func (s *Server) updateMeta(ctx context.Context, descs ...*rpcpb.RangeDescriptor) error {
	var ops []*rpcpb.Op
	for _, d := range descs {
		v, err := proto.Marshal(d)
		if err != nil {
			return err
		}
		ops = append(ops, &rpcpb.Op{Kind: rpcpb.Op_META_PUT, Key: keys.MetaKey(d.EndKey), Value: v})
	}
	_, err := s.ds.Send(ctx, ops)
	return err
}

// learnNodesFromPeers asks other nodes for their directories, for when the
// registry cannot be read (after a restart, before Raft has caught up).
func (s *Server) learnNodesFromPeers(ctx context.Context) {
	for _, addr := range s.peerAddrs() {
		info, err := s.clusterInfo(ctx, addr)
		if err != nil || !info.Initialized {
			continue
		}
		s.dir.update(info.Nodes...)
		if info.MetaRange != nil {
			s.dir.setMeta(info.MetaRange)
		}
	}
}
