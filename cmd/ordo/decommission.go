package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/grpc"
)

// runDecommission marks a node as being decommissioned (or clears the
// mark) and, for decommission with --wait, reports progress until the node
// holds no replica: then it can be stopped with no loss of data or of
// availability.
func runDecommission(cmd string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("node "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	wait := fs.Bool("wait", true, "decommission: wait until the node holds no replica")
	timeout := fs.Duration("wait-timeout", 30*time.Minute, "decommission: give up waiting after this long")
	// The node id comes first (ordo node decommission 4 --host ...).
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "usage: ordo node %s NODE_ID --host ADDR [flags]\n", cmd)
		fs.PrintDefaults()
		return 2
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil || id == 0 {
		fmt.Fprintf(stderr, "ordo node %s: bad node id %q\n", cmd, args[0])
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	c, closeConn, err := cf.dial()
	if err != nil {
		return fail(stderr, "node "+cmd, err)
	}
	defer closeConn()
	ctx, cancel := cf.ctx()
	_, err = c.Decommission(ctx, &rpcpb.DecommissionRequest{NodeId: id, Recommission: cmd == "recommission"}, grpc.WaitForReady(true))
	cancel()
	if err != nil {
		return fail(stderr, "node "+cmd, err)
	}
	if cmd == "recommission" {
		fmt.Fprintf(stdout, "node %d: recommissioned\n", id)
		return 0
	}
	fmt.Fprintf(stdout, "node %d: decommissioning\n", id)
	if !*wait {
		return 0
	}
	deadline := time.Now().Add(*timeout)
	last := int64(-2)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := c.NodeStatus(ctx, &rpcpb.NodeStatusRequest{}, grpc.WaitForReady(true))
		cancel()
		if err == nil {
			for _, n := range resp.Nodes {
				if n.Node.NodeId != id {
					continue
				}
				if n.Ranges < 0 {
					// The node does not answer (it is stopped): count its
					// replicas in the range descriptors instead.
					n.Ranges, n.Leases = replicasInDescriptors(c, id), 0
				}
				if n.Ranges != last {
					fmt.Fprintf(stdout, "node %d: %s replicas, %s leases left\n", id, count(n.Ranges), count(n.Leases))
					last = n.Ranges
				}
				if n.Ranges == 0 {
					fmt.Fprintf(stdout, "node %d: decommissioned; it holds no data and can be stopped\n", id)
					return 0
				}
			}
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(stderr, "ordo node decommission: node %d still holds replicas after %v\n", id, *timeout)
			return 1
		}
		time.Sleep(time.Second)
	}
}

// replicasInDescriptors counts the ranges whose descriptor lists a replica
// on node id (-1 if the range list cannot be read).
func replicasInDescriptors(c rpcpb.NodeClient, id uint64) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rl, err := c.RangeList(ctx, &rpcpb.RangeListRequest{})
	if err != nil {
		return -1
	}
	var n int64
	for _, r := range rl.Ranges {
		for _, rep := range r.Desc.Replicas {
			if rep.NodeId == id {
				n++
			}
		}
	}
	return n
}
