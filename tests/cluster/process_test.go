package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
)

// ackedWriter writes unique keys through random nodes and remembers which
// writes were acknowledged.
type ackedWriter struct {
	mu    sync.Mutex
	acked map[string]string
	tries int
}

func (w *ackedWriter) run(ctx context.Context, id int, clients func(int) *RoutedClient, nodes int) {
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	for seq := 0; ctx.Err() == nil; seq++ {
		k, v := fmt.Sprintf("w/%d/%06d", id, seq), fmt.Sprintf("v%d", seq)
		opCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := clients(rng.IntN(nodes)).Do(opCtx, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: []byte(k), Value: []byte(v)})
		cancel()
		w.mu.Lock()
		w.tries++
		if err == nil {
			w.acked[k] = v
		}
		w.mu.Unlock()
	}
}

// verify reads every acknowledged key back through node i.
func (w *ackedWriter) verify(t *testing.T, c *RoutedClient) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lost := 0
	for k, v := range w.acked {
		res, err := c.Do(ctx, &rpcpb.Op{Kind: rpcpb.Op_GET, Key: []byte(k)})
		if err != nil {
			t.Fatalf("read back %s: %v", k, err)
		}
		if !res.Found || string(res.Value) != v {
			lost++
			t.Errorf("acknowledged write %s=%s lost (found=%v value=%q)", k, v, res.Found, res.Value)
		}
	}
	t.Logf("%d writes tried, %d acknowledged, %d lost", w.tries, len(w.acked), lost)
	if len(w.acked) < 100 {
		t.Fatalf("only %d writes acknowledged: the cluster was not serving", len(w.acked))
	}
}

// leaseholderNode returns the node id holding the lease of the range with key.
func leaseholderNode(ctx context.Context, c rpcpb.NodeClient, key []byte) (uint64, error) {
	rl, err := c.RangeList(ctx, &rpcpb.RangeListRequest{})
	if err != nil {
		return 0, err
	}
	for _, r := range rl.Ranges {
		if string(r.Desc.StartKey) <= string(key) && string(key) < string(r.Desc.EndKey) && r.IsLeaseholder {
			return r.NodeId, nil
		}
	}
	return 0, fmt.Errorf("no leaseholder known for %q", key)
}

func TestProcessesSurviveLeaseholderKill(t *testing.T) {
	p := StartProcesses(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	w := &ackedWriter{acked: map[string]string{}}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx, i, p.Client, 3) }()
	}
	waitFor(ctx, 3*time.Second)
	var victim uint64
	testutil.SucceedsSoon(t, func() error {
		var err error
		victim, err = leaseholderNode(ctx, p.NodeClient(0), []byte("w/"))
		return err
	})
	idx := p.indexOf(t, victim)
	t.Logf("SIGKILL node %d (the leaseholder)", victim)
	p.Kill(idx)
	waitFor(ctx, 2*time.Second)
	p.Start(idx)
	wg.Wait()
	p.WaitHealthy(idx)
	w.verify(t, p.Client((idx+1)%3))
	w.verify(t, p.Client(idx))
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(context.Background(), p.dialer, p.Addrs[0]) })
	checkNodeLogs(t, p)
}

// checkNodeLogs: every node logs, structured, to ordo.log in its store
// directory, and says at each start-up who and where it is; the
// restarted node has said so twice.
func checkNodeLogs(t *testing.T, p *Processes) {
	t.Helper()
	for i, dir := range p.Dirs {
		data, err := os.ReadFile(server.StoreDirLog(dir))
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		starts := 0
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, `msg="node started"`) {
				continue
			}
			starts++
			for _, field := range []string{"level=INFO", "version=", "node=", "cluster=", "addr=" + p.Addrs[i], "store=" + dir} {
				if !strings.Contains(line, field) {
					t.Errorf("node %d's start-up line lacks %q: %s", i+1, field, line)
				}
			}
		}
		if starts == 0 {
			t.Errorf("node %d's log has no start-up line", i+1)
		}
	}
}

// indexOf maps a node id to the process index by address.
func (p *Processes) indexOf(t *testing.T, nodeID uint64) int {
	ns, err := p.NodeClient(0).NodeStatus(context.Background(), &rpcpb.NodeStatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Nodes {
		if n.Node.NodeId == nodeID {
			for i, a := range p.Addrs {
				if a == n.Node.Address {
					return i
				}
			}
		}
	}
	t.Fatalf("node %d not found", nodeID)
	return -1
}
