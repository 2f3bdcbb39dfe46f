package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// SQLProcesses is a cluster of real ordo processes that also serve the
// Postgres protocol, each on its own loopback SQL address, for clients
// such as pgbench that must keep running while a process is killed.
type SQLProcesses struct {
	*Processes
	SQLAddrs []string
}

// StartSQLProcesses starts n ordo processes with SQL ports that join each
// other and runs init against the first.
func StartSQLProcesses(t testing.TB, n int) *SQLProcesses {
	p := &SQLProcesses{Processes: &Processes{t: t, bin: Binary(t), dialer: rpc.NewDialer()}}
	root := t.TempDir()
	for i := 0; i < n; i++ {
		p.Addrs = append(p.Addrs, FreeAddr(t))
		p.SQLAddrs = append(p.SQLAddrs, FreeAddr(t))
		p.Dirs = append(p.Dirs, filepath.Join(root, fmt.Sprintf("n%d", i+1)))
	}
	p.cmds = make([]*exec.Cmd, n)
	t.Cleanup(p.Stop)
	for i := 0; i < n; i++ {
		p.Start(i)
	}
	out, err := exec.Command(p.bin, "init", "--host", p.Addrs[0], "--timeout", "60s").CombinedOutput()
	if err != nil {
		t.Fatalf("ordo init: %v\n%s", err, out)
	}
	for i := 0; i < n; i++ {
		p.WaitHealthy(i)
	}
	return p
}

// Start starts (or restarts) process i on its store, serving SQL on
// SQLAddrs[i].
func (p *SQLProcesses) Start(i int) {
	if err := os.MkdirAll(p.Dirs[i], 0o755); err != nil {
		p.t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(p.Dirs[i], "stderr.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, "start", "--store", p.Dirs[i], "--listen-addr", p.Addrs[i],
		"--sql-addr", p.SQLAddrs[i], "--join", strings.Join(p.Addrs, ","), "--log-level", nodeLogLevel())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); _ = logf.Close() }()
	p.mu.Lock()
	p.cmds[i] = cmd
	p.mu.Unlock()
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
