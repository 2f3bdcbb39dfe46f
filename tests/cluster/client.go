package cluster

import (
	"context"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// RoutedClient sends each operation to one node, which routes it to the
// leaseholder. A transport error on a write is ambiguous.
type RoutedClient struct {
	dialer *rpc.Dialer
	addr   string
}

// Do sends one op and returns its result.
func (c *RoutedClient) Do(ctx context.Context, op *rpcpb.Op) (*rpcpb.OpResult, error) {
	cl, err := c.dialer.Client(c.addr)
	if err != nil {
		return nil, err
	}
	resp, err := cl.Batch(ctx, &rpcpb.BatchRequest{Ops: []*rpcpb.Op{op}})
	if err != nil {
		if op.Kind != rpcpb.Op_GET && op.Kind != rpcpb.Op_SCAN {
			return nil, &kverr.AmbiguousError{Reason: err.Error()}
		}
		return nil, err
	}
	if resp.Error != nil {
		return nil, kverr.FromProto(resp.Error)
	}
	return resp.Results[0], nil
}
