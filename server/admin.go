package server

import (
	"bytes"
	"context"
	"syscall"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/range/store"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

func localRangeInfos(st *store.Store) []*rpcpb.RangeInfo {
	var out []*rpcpb.RangeInfo
	now := time.Now()
	for _, r := range st.Replicas() {
		info := r.Info()
		info.KeyCount, info.SizeBytes = r.Stats()
		info.Requests = r.Requests()
		r.TxnStatus(info, now)
		out = append(out, info)
	}
	return out
}

// localRanges asks node for its replicas' state (locally without RPC).
func (s *Server) localRanges(ctx context.Context, node uint64) ([]*rpcpb.RangeInfo, error) {
	resp, err := s.localRangesResponse(ctx, node)
	return resp.GetRanges(), err
}

// storeFullness is the fraction of the store's file system in use (0 if
// it cannot be read, as for an in-memory store).
func (s *Server) storeFullness() float64 {
	var st syscall.Statfs_t
	if s.cfg.FS != nil || syscall.Statfs(s.cfg.StoreDir, &st) != nil || st.Blocks == 0 {
		return 0
	}
	return 1 - float64(st.Bavail)/float64(st.Blocks)
}

// localRangesResponse asks node for its replicas' state and its store's
// fullness (locally without RPC).
func (s *Server) localRangesResponse(ctx context.Context, node uint64) (*rpcpb.LocalRangesResponse, error) {
	if node == s.NodeID() {
		return &rpcpb.LocalRangesResponse{Ranges: localRangeInfos(s.Store()), StoreFullness: s.storeFullness()}, nil
	}
	addr, ok := s.dir.NodeAddr(node)
	if !ok {
		return nil, kverr.ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.dialer.Ready(ctx, addr, time.Second); err != nil {
		return nil, err
	}
	c, err := s.dialer.Client(addr)
	if err != nil {
		return nil, err
	}
	return c.LocalRanges(ctx, &rpcpb.LocalRangesRequest{})
}

// rangeInfoCache asks each node for its replicas' state at most once (one
// answer serves the node list, the range list and /status alike).
type rangeInfoCache struct {
	s     *Server
	ctx   context.Context
	infos map[uint64][]*rpcpb.RangeInfo
	errs  map[uint64]error
}

func (s *Server) newRangeInfoCache(ctx context.Context) *rangeInfoCache {
	return &rangeInfoCache{s: s, ctx: ctx, infos: map[uint64][]*rpcpb.RangeInfo{}, errs: map[uint64]error{}}
}

// of returns node's replicas, asking it the first time.
func (c *rangeInfoCache) of(node uint64) ([]*rpcpb.RangeInfo, error) {
	if infos, ok := c.infos[node]; ok {
		return infos, c.errs[node]
	}
	infos, err := c.s.localRanges(c.ctx, node)
	c.infos[node], c.errs[node] = infos, err
	return infos, err
}

// nodeStatus lists every registered node with its liveness as this node
// sees it, and its replica and lease counts as it reports them (-1 when it
// cannot be reached).
func (s *Server) nodeStatus(ctx context.Context) *rpcpb.NodeStatusResponse {
	return s.nodeStatusWith(ctx, s.newRangeInfoCache(ctx))
}

func (s *Server) nodeStatusWith(ctx context.Context, cache *rangeInfoCache) *rpcpb.NodeStatusResponse {
	nodes := s.dir.list()
	resp := &rpcpb.NodeStatusResponse{}
	now := time.Now()
	decom, _ := s.decommissioning(ctx)
	for _, n := range nodes {
		ns := &rpcpb.NodeStatus{Node: n, Ranges: -1, Leases: -1, Decommissioning: decom[n.NodeId]}
		ns.Liveness, _ = s.live.status(n.NodeId, now)
		if c, ok := s.live.counter(n.NodeId); ok {
			ns.Heartbeat = uint64(c)
		}
		if infos, err := cache.of(n.NodeId); err == nil {
			ns.Ranges, ns.Leases = 0, 0
			for _, i := range infos {
				ns.Ranges++
				if i.IsLeaseholder {
					ns.Leases++
				}
			}
		}
		resp.Nodes = append(resp.Nodes, ns)
	}
	return resp
}

// rangeList reads every descriptor from meta and describes each range as its
// leaseholder reports it.
func (s *Server) rangeList(ctx context.Context) ([]*rpcpb.RangeInfo, error) {
	return s.rangeListWith(ctx, s.newRangeInfoCache(ctx))
}

func (s *Server) rangeListWith(ctx context.Context, cache *rangeInfoCache) ([]*rpcpb.RangeInfo, error) {
	rows, err := s.db.Scan(ctx, keys.MetaPrefix, keys.MetaSpanEnd(), 0)
	if err != nil {
		return nil, err
	}
	perNode := map[uint64]map[uint64]*rpcpb.RangeInfo{}
	infosOf := func(node uint64) map[uint64]*rpcpb.RangeInfo {
		if m, ok := perNode[node]; ok {
			return m
		}
		m := map[uint64]*rpcpb.RangeInfo{}
		if infos, err := cache.of(node); err == nil {
			for _, i := range infos {
				m[i.Desc.GetRangeId()] = i
			}
		}
		perNode[node] = m
		return m
	}
	var out []*rpcpb.RangeInfo
	for _, kv := range rows {
		d := &rpcpb.RangeDescriptor{}
		if err := proto.Unmarshal(kv.Value, d); err != nil {
			return nil, err
		}
		info := describeRange(d, infosOf)
		info.UnderReplicated, info.Unavailable = s.rangeHealth(d, time.Now())
		out = append(out, info)
	}
	return out, nil
}

func describeRange(d *rpcpb.RangeDescriptor, infosOf func(uint64) map[uint64]*rpcpb.RangeInfo) *rpcpb.RangeInfo {
	best := &rpcpb.RangeInfo{Desc: d}
	for _, rd := range d.Replicas {
		i, ok := infosOf(rd.NodeId)[d.RangeId]
		if !ok {
			continue
		}
		if i.IsLeaseholder {
			out := proto.Clone(i).(*rpcpb.RangeInfo)
			if out.Desc.GetGeneration() < d.Generation {
				out.Desc = d
			}
			return out
		}
		if best.NodeId == 0 {
			best = proto.Clone(i).(*rpcpb.RangeInfo)
			best.IsLeaseholder = false
		}
	}
	if best.Desc.GetGeneration() < d.Generation {
		best.Desc = d
	}
	return best
}

// adminSplit splits the range holding req.SplitKey at its leaseholder and
// then records both halves in meta. A crash between the two steps is
// repaired by the meta repair loop.
func (s *Server) adminSplit(ctx context.Context, req *rpcpb.AdminSplitRequest) (left, right *rpcpb.RangeDescriptor, err error) {
	key := req.SplitKey
	if len(key) == 0 && req.RangeId != 0 {
		return s.splitLocal(ctx, req.RangeId, nil) // at the middle of its data
	}
	if !keys.Addressable(key) || bytes.Compare(key, keys.UserMin) <= 0 {
		return nil, nil, kverr.BadRequestf("cannot split at %s: split keys lie in the user key space", keys.Pretty(key))
	}
	if req.RangeId != 0 {
		return s.splitLocal(ctx, req.RangeId, key)
	}
	_, err = s.ds.Route(ctx, key, func(ctx context.Context, desc *rpcpb.RangeDescriptor, node uint64) error {
		if bytes.Equal(desc.StartKey, key) {
			left, right = nil, desc
			return nil // already split here
		}
		if node == s.NodeID() {
			left, right, err = s.splitLocal(ctx, desc.RangeId, key)
			return err
		}
		resp, err := callNode(s, ctx, node, func(ctx context.Context, c rpcpb.NodeClient) (*rpcpb.AdminSplitResponse, error) {
			return c.AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: key, RangeId: desc.RangeId})
		})
		if err != nil {
			return kv.Retryable(err)
		}
		left, right = resp.Left, resp.Right
		return kverr.FromProto(resp.Error)
	})
	return left, right, err
}

func (s *Server) splitLocal(ctx context.Context, rangeID uint64, key []byte) (left, right *rpcpb.RangeDescriptor, err error) {
	st := s.Store()
	r := st.Replica(rangeID)
	if r == nil {
		return nil, nil, &kverr.RangeNotFoundError{RangeID: rangeID}
	}
	if !r.IsLeaseholder() {
		_, err := r.Send(ctx, []*rpcpb.Op{{Kind: rpcpb.Op_GET, Key: key}})
		if err == nil {
			err = kverr.ErrUnavailable
		}
		return nil, nil, err
	}
	if key == nil {
		mid, ok := r.MidKey()
		if !ok {
			return nil, nil, kverr.BadRequestf("range %d holds fewer than two user keys: nowhere to split it", rangeID)
		}
		key = mid
	}
	newID, err := s.db.Increment(ctx, keys.RangeIDGenKey(), 1)
	if err != nil {
		return nil, nil, err
	}
	left, right, err = r.Split(ctx, key, uint64(newID))
	if err != nil {
		return nil, nil, err
	}
	if err := s.updateMeta(ctx, left, right); err != nil {
		s.cfg.Logger.Warn("split applied, meta update failed; meta repair will finish it", "range", rangeID, "err", err)
	}
	s.cfg.Logger.Info("split range", "range", rangeID, "key", keys.Pretty(key), "new_range", newID)
	return left, right, nil
}

// transferLease moves the lease of a range to another of its replicas.
func (s *Server) transferLease(ctx context.Context, req *rpcpb.TransferLeaseRequest) error {
	st := s.Store()
	if r := st.Replica(req.RangeId); r != nil && r.IsLeaseholder() {
		return r.TransferLease(req.TargetNodeId)
	}
	desc := s.rangeDesc(ctx, req.RangeId)
	if desc == nil {
		return &kverr.RangeNotFoundError{RangeID: req.RangeId}
	}
	_, err := s.ds.Route(ctx, desc.StartKey, func(ctx context.Context, d *rpcpb.RangeDescriptor, node uint64) error {
		if node == s.NodeID() {
			r := st.Replica(d.RangeId)
			if r == nil {
				return &kverr.RangeNotFoundError{RangeID: d.RangeId}
			}
			return r.TransferLease(req.TargetNodeId)
		}
		resp, err := callNode(s, ctx, node, func(ctx context.Context, c rpcpb.NodeClient) (*rpcpb.TransferLeaseResponse, error) {
			return c.TransferLease(ctx, req)
		})
		if err != nil {
			return kv.Retryable(err)
		}
		return kverr.FromProto(resp.Error)
	})
	return err
}

// rangeDesc finds the descriptor of a range: locally, else in meta.
func (s *Server) rangeDesc(ctx context.Context, rangeID uint64) *rpcpb.RangeDescriptor {
	if r := s.Store().Replica(rangeID); r != nil && r.Desc() != nil {
		return r.Desc()
	}
	rows, err := s.db.Scan(ctx, keys.MetaPrefix, keys.MetaSpanEnd(), 0)
	if err != nil {
		return nil
	}
	for _, kv := range rows {
		d := &rpcpb.RangeDescriptor{}
		if proto.Unmarshal(kv.Value, d) == nil && d.RangeId == rangeID {
			return d
		}
	}
	return nil
}

// callNode runs one RPC against node once its connection is up.
func callNode[T any](s *Server, ctx context.Context, node uint64, fn func(context.Context, rpcpb.NodeClient) (T, error)) (T, error) {
	var zero T
	addr, ok := s.dir.NodeAddr(node)
	if !ok {
		return zero, kverr.ErrUnavailable
	}
	if err := s.dialer.Ready(ctx, addr, time.Second); err != nil {
		return zero, err
	}
	c, err := s.dialer.Client(addr)
	if err != nil {
		return zero, err
	}
	return fn(ctx, c)
}
