package txn

import (
	"context"
	"fmt"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// SendRPC sends req to node over gRPC. A failure before delivery is
// retryable routing; after possible delivery, a commit-path request is
// ambiguous and an OPS request makes the transaction retry.
func SendRPC(ctx context.Context, d *rpc.Dialer, res kv.Resolver, node uint64, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	addr, ok := res.NodeAddr(node)
	if !ok {
		return nil, kv.Retryable(fmt.Errorf("address of node %d unknown", node))
	}
	if err := d.Ready(ctx, addr, time.Second); err != nil {
		return nil, kv.Retryable(err)
	}
	c, err := d.Client(addr)
	if err != nil {
		return nil, kv.Retryable(err)
	}
	resp, err := c.Txn(ctx, req)
	if err != nil {
		switch req.Kind {
		case rpcpb.TxnRequest_OPS, rpcpb.TxnRequest_CONFIRM, rpcpb.TxnRequest_QUERY, rpcpb.TxnRequest_ABORT:
			return nil, &kverr.TxnRetryError{Reason: fmt.Sprintf("node %d: %v", node, err)}
		}
		return nil, &kverr.AmbiguousError{Reason: fmt.Sprintf("node %d: %v", node, err)}
	}
	if resp.Error != nil {
		return nil, kverr.FromProto(resp.Error)
	}
	return resp, nil
}

// RemoteTransport sends every request over gRPC (for clients outside the
// cluster).
type RemoteTransport struct {
	Dialer   *rpc.Dialer
	Resolver kv.Resolver
}

// SendTxn implements Transport.
func (t RemoteTransport) SendTxn(ctx context.Context, node uint64, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	return SendRPC(ctx, t.Dialer, t.Resolver, node, req)
}

// Dial returns a coordinator for a program outside the cluster (tests,
// benchmarks), sending every request over gRPC.
func Dial(ctx context.Context, hosts []string) (*Coordinator, func(), error) {
	c, err := kv.DialCluster(ctx, hosts)
	if err != nil {
		return nil, nil, err
	}
	co := New(Config{Sender: c.Sender, Transport: RemoteTransport{Dialer: c.Dialer, Resolver: c.Resolver}})
	return co, func() { co.Close(); c.Close() }, nil
}
