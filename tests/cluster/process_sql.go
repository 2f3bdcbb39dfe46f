package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

// SQLProcesses is a cluster of real ordo processes that also serve the
// Postgres protocol, each on its own loopback SQL address (SQLAddrs), for
// clients such as pgbench that must keep running while a process is killed.
type SQLProcesses struct {
	*Processes
}

// StartSQLProcesses starts n ordo processes with SQL ports that join each
// other and runs init against the first.
func StartSQLProcesses(t testing.TB, n int) *SQLProcesses {
	return &SQLProcesses{startProcesses(t, n, true)}
}

// LeaseCounts returns, as node 0 sees it, how many ranges each process
// (by index) holds the lease of.
func (p *SQLProcesses) LeaseCounts() ([]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := p.NodeClient(0)
	ns, err := c.NodeStatus(ctx, &rpcpb.NodeStatusRequest{})
	if err != nil {
		return nil, err
	}
	index := map[uint64]int{}
	for _, n := range ns.Nodes {
		for i, a := range p.Addrs {
			if a == n.Node.Address {
				index[n.Node.NodeId] = i
			}
		}
	}
	rl, err := c.RangeList(ctx, &rpcpb.RangeListRequest{})
	if err != nil {
		return nil, err
	}
	counts := make([]int, len(p.Addrs))
	for _, r := range rl.Ranges {
		if i, ok := index[r.NodeId]; ok && r.IsLeaseholder {
			counts[i]++
		}
	}
	return counts, nil
}
