package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// nodeService implements rpcpb.NodeServer.
type nodeService struct {
	rpcpb.UnimplementedNodeServer
	s *Server
}

// recoverUnary turns a panic in a handler into an Internal error: a bad
// request must never take the node down.
func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic in rpc handler", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				err = status.Errorf(codes.Internal, "internal error in %s", info.FullMethod)
			}
		}()
		return h(ctx, req)
	}
}

func (n *nodeService) RaftStream(stream grpc.ClientStreamingServer[rpcpb.RaftMessageBatch, rpcpb.RaftStreamResponse]) error {
	for {
		batch, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&rpcpb.RaftStreamResponse{})
		}
		if err != nil {
			return err
		}
		st := n.s.Store()
		if st == nil {
			return status.Error(codes.Unavailable, "node not initialized")
		}
		if drop := n.s.cfg.Knobs.RaftDrop; drop != nil && drop(batch.FromNode, st.NodeID()) {
			continue
		}
		for _, m := range batch.Messages {
			if err := st.HandleRaftMessage(m); err != nil {
				n.s.cfg.Logger.Debug("raft message rejected", "range", m.RangeId, "err", err)
			}
		}
	}
}

// snapshotService receives streamed range snapshots.
type snapshotService struct {
	rpcpb.UnimplementedSnapshotsServer
	s *Server
}

func (x snapshotService) RaftSnapshot(stream rpcpb.Snapshots_RaftSnapshotServer) error {
	st := x.s.Store()
	if st == nil {
		return status.Error(codes.Unavailable, "node not initialized")
	}
	resp, err := st.ReceiveSnapshot(stream.Recv)
	if err != nil {
		x.s.cfg.Logger.Info("snapshot not received", "err", err)
		return status.Error(codes.Aborted, err.Error())
	}
	return stream.SendAndClose(resp)
}

func (n *nodeService) Batch(ctx context.Context, req *rpcpb.BatchRequest) (*rpcpb.BatchResponse, error) {
	if err := validateOps(req.Ops); err != nil {
		return &rpcpb.BatchResponse{Error: kverr.ToProto(err)}, nil
	}
	var (
		res []*rpcpb.OpResult
		err error
	)
	if req.RangeId == 0 {
		res, err = n.s.ds.Send(ctx, req.Ops)
	} else if st := n.s.Store(); st == nil {
		err = kverr.ErrNotInitialized
	} else {
		res, err = st.Send(ctx, req.RangeId, req.Ops)
	}
	if err != nil {
		return &rpcpb.BatchResponse{Error: kverr.ToProto(err)}, nil
	}
	return &rpcpb.BatchResponse{Results: res}, nil
}

// validateOps rejects requests no range could serve.
func validateOps(ops []*rpcpb.Op) error {
	if len(ops) == 0 {
		return kverr.BadRequestf("empty batch")
	}
	for i, op := range ops {
		if op == nil {
			return kverr.BadRequestf("op %d is nil", i)
		}
		if len(op.Key) == 0 {
			return kverr.BadRequestf("op %d has no key", i)
		}
		if (op.Kind == rpcpb.Op_SCAN || op.Kind == rpcpb.Op_DELETE_RANGE) && string(op.EndKey) <= string(op.Key) {
			return kverr.BadRequestf("op %d: end key must be greater than key", i)
		}
	}
	return nil
}

func (n *nodeService) Bootstrap(ctx context.Context, _ *rpcpb.BootstrapRequest) (*rpcpb.BootstrapResponse, error) {
	if n.s.NodeID() != 0 {
		return nil, status.Error(codes.AlreadyExists, errAlreadyInitialized.Error())
	}
	peers, err := n.s.initMembers(ctx)
	if err != nil {
		return nil, grpcError(err)
	}
	id, err := n.s.bootstrap(ctx, peers)
	if err != nil {
		return nil, grpcError(err)
	}
	return &rpcpb.BootstrapResponse{ClusterId: id, Nodes: n.s.dir.list()}, nil
}

func grpcError(err error) error {
	if errors.Is(err, errAlreadyInitialized) {
		return status.Error(codes.AlreadyExists, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

func (n *nodeService) JoinBootstrap(ctx context.Context, req *rpcpb.JoinBootstrapRequest) (*rpcpb.JoinBootstrapResponse, error) {
	if err := n.s.joinBootstrap(req); err != nil {
		return nil, grpcError(err)
	}
	return &rpcpb.JoinBootstrapResponse{}, nil
}

func (n *nodeService) Join(ctx context.Context, req *rpcpb.JoinRequest) (*rpcpb.JoinResponse, error) {
	if req.Node == nil || req.Node.Address == "" {
		return nil, status.Error(codes.InvalidArgument, "join: node address missing")
	}
	resp, err := n.s.join(ctx, req)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return resp, nil
}

func (n *nodeService) ClusterInfo(ctx context.Context, _ *rpcpb.ClusterInfoRequest) (*rpcpb.ClusterInfoResponse, error) {
	resp := &rpcpb.ClusterInfoResponse{Self: n.s.selfDesc()}
	n.s.mu.Lock()
	ident := n.s.mu.ident
	n.s.mu.Unlock()
	if ident == nil {
		return resp, nil
	}
	resp.Initialized, resp.ClusterId, resp.NodeId = true, ident.ClusterId, ident.NodeId
	resp.Self = n.s.dir.self()
	resp.Nodes = n.s.dir.list()
	if st := n.s.Store(); st != nil {
		resp.MetaRange, _ = n.s.metaDesc(ctx)
	}
	return resp, nil
}

func (n *nodeService) LocalRanges(ctx context.Context, _ *rpcpb.LocalRangesRequest) (*rpcpb.LocalRangesResponse, error) {
	st := n.s.Store()
	if st == nil {
		return nil, status.Error(codes.Unavailable, "node not initialized")
	}
	return &rpcpb.LocalRangesResponse{Ranges: localRangeInfos(st), StoreFullness: n.s.storeFullness()}, nil
}

func (n *nodeService) NodeStatus(ctx context.Context, _ *rpcpb.NodeStatusRequest) (*rpcpb.NodeStatusResponse, error) {
	if n.s.Store() == nil {
		return nil, status.Error(codes.Unavailable, "node not initialized")
	}
	return n.s.nodeStatus(ctx), nil
}

func (n *nodeService) Decommission(ctx context.Context, req *rpcpb.DecommissionRequest) (*rpcpb.DecommissionResponse, error) {
	if n.s.Store() == nil {
		return nil, status.Error(codes.Unavailable, "node not initialized")
	}
	known := false
	for _, nd := range n.s.dir.list() {
		known = known || nd.NodeId == req.NodeId
	}
	if !known {
		return nil, status.Errorf(codes.NotFound, "node %d is not a member of the cluster", req.NodeId)
	}
	if err := n.s.setDecommissioning(ctx, req.NodeId, !req.Recommission); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &rpcpb.DecommissionResponse{}, nil
}

func (n *nodeService) RangeList(ctx context.Context, _ *rpcpb.RangeListRequest) (*rpcpb.RangeListResponse, error) {
	if n.s.Store() == nil {
		return nil, status.Error(codes.Unavailable, "node not initialized")
	}
	ranges, err := n.s.rangeList(ctx)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return &rpcpb.RangeListResponse{Ranges: ranges}, nil
}

func (n *nodeService) AdminSplit(ctx context.Context, req *rpcpb.AdminSplitRequest) (*rpcpb.AdminSplitResponse, error) {
	left, right, err := n.s.adminSplit(ctx, req)
	return &rpcpb.AdminSplitResponse{Left: left, Right: right, Error: kverr.ToProto(err)}, nil
}

func (n *nodeService) TransferLease(ctx context.Context, req *rpcpb.TransferLeaseRequest) (*rpcpb.TransferLeaseResponse, error) {
	return &rpcpb.TransferLeaseResponse{Error: kverr.ToProto(n.s.transferLease(ctx, req))}, nil
}

func (n *nodeService) Checksum(ctx context.Context, req *rpcpb.ChecksumRequest) (*rpcpb.ChecksumResponse, error) {
	st := n.s.Store()
	if st == nil {
		return &rpcpb.ChecksumResponse{Error: kverr.ToProto(kverr.ErrNotInitialized)}, nil
	}
	r := st.Replica(req.RangeId)
	if r == nil {
		return &rpcpb.ChecksumResponse{Error: kverr.ToProto(&kverr.RangeNotFoundError{RangeID: req.RangeId})}, nil
	}
	applied, sum, count, err := r.Checksum()
	if err != nil {
		return &rpcpb.ChecksumResponse{Error: kverr.ToProto(fmt.Errorf("checksum: %w", err))}, nil
	}
	return &rpcpb.ChecksumResponse{AppliedIndex: applied, Checksum: sum, KeyCount: count}, nil
}

func (n *nodeService) Txn(ctx context.Context, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	st := n.s.Store()
	if st == nil {
		return &rpcpb.TxnResponse{Error: kverr.ToProto(kverr.ErrNotInitialized)}, nil
	}
	if err := validateOps(req.Ops); err != nil && len(req.Ops) > 0 {
		return &rpcpb.TxnResponse{Error: kverr.ToProto(err)}, nil
	}
	resp, err := st.Txn(ctx, req)
	if err != nil {
		return &rpcpb.TxnResponse{Error: kverr.ToProto(err)}, nil
	}
	return resp, nil
}

func (n *nodeService) TxnAlive(ctx context.Context, req *rpcpb.TxnAliveRequest) (*rpcpb.TxnAliveResponse, error) {
	if n.s.coord == nil {
		return &rpcpb.TxnAliveResponse{}, nil
	}
	return &rpcpb.TxnAliveResponse{Alive: n.s.coord.Alive(req.TxnIds, req.Instance)}, nil
}
