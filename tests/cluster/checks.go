package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// ReplicasAgree checks, through the node at addr, that every replica of
// every range reports the same checksum at the same applied index. It
// returns an error to retry while replicas are still catching up.
func ReplicasAgree(ctx context.Context, dialer *rpc.Dialer, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := dialer.Client(addr)
	if err != nil {
		return err
	}
	ns, err := c.NodeStatus(ctx, &rpcpb.NodeStatusRequest{})
	if err != nil {
		return err
	}
	addrs := map[uint64]string{}
	for _, n := range ns.Nodes {
		addrs[n.Node.NodeId] = n.Node.Address
	}
	rl, err := c.RangeList(ctx, &rpcpb.RangeListRequest{})
	if err != nil {
		return err
	}
	for _, r := range rl.Ranges {
		if err := rangeAgrees(ctx, dialer, addrs, r.Desc); err != nil {
			return err
		}
	}
	return nil
}

func rangeAgrees(ctx context.Context, dialer *rpc.Dialer, addrs map[uint64]string, d *rpcpb.RangeDescriptor) error {
	var first *rpcpb.ChecksumResponse
	for _, rep := range d.Replicas {
		c, err := dialer.Client(addrs[rep.NodeId])
		if err != nil {
			return err
		}
		resp, err := c.Checksum(ctx, &rpcpb.ChecksumRequest{RangeId: d.RangeId})
		if err != nil || resp.Error != nil {
			return fmt.Errorf("range %d on node %d: %v %v", d.RangeId, rep.NodeId, err, resp.GetError())
		}
		if first == nil {
			first = resp
			continue
		}
		if resp.AppliedIndex != first.AppliedIndex {
			return fmt.Errorf("range %d: replicas at applied index %d and %d", d.RangeId, first.AppliedIndex, resp.AppliedIndex)
		}
		if string(resp.Checksum) != string(first.Checksum) {
			return fmt.Errorf("range %d: replicas DIVERGE at applied index %d (%d vs %d keys)", d.RangeId, resp.AppliedIndex, first.KeyCount, resp.KeyCount)
		}
	}
	return nil
}
