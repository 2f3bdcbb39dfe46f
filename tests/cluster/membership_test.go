package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestInitTwiceIsAnError(t *testing.T) {
	c := StartInProcess(t, 3)
	for i := range c.Addrs {
		_, err := c.NodeClient(i).Bootstrap(context.Background(), &rpcpb.BootstrapRequest{})
		if status.Code(err) != codes.AlreadyExists {
			t.Fatalf("second init at node %d: %v, want AlreadyExists", i+1, err)
		}
	}
}

// A fourth node joins a running three-node cluster through any node, gets a
// fresh node id, is listed, and serves requests (routing them to the
// leaseholders; it holds no replicas until replica moves exist).
func TestFourthNodeJoins(t *testing.T) {
	c := StartInProcess(t, 3)
	addr := FreeAddr(t)
	s, err := server.New(server.Config{
		StoreDir:     filepath.Join(t.TempDir(), "n4"),
		ListenAddr:   addr,
		Join:         []string{c.Addrs[2]},
		TickInterval: 50 * time.Millisecond,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	select {
	case <-s.Started():
	case <-time.After(30 * time.Second):
		t.Fatal("node 4 did not join")
	}
	if s.NodeID() != 4 {
		t.Fatalf("node id %d, want 4", s.NodeID())
	}
	ctx := context.Background()
	if err := s.DB().Put(ctx, []byte("from/n4"), []byte("hi")); err != nil {
		t.Fatal(err)
	}
	testutil.SucceedsSoon(t, func() error {
		ns, err := c.NodeClient(0).NodeStatus(ctx, &rpcpb.NodeStatusRequest{})
		if err != nil {
			return err
		}
		for _, n := range ns.Nodes {
			if n.Node.NodeId == 4 && n.Node.Address == addr && n.Liveness == server.Live {
				return nil
			}
		}
		return fmt.Errorf("node 4 not listed as live: %v", ns.Nodes)
	})
}

// `ordo init` run twice is a clear error; with --if-needed it succeeds.
func TestInitTwiceCLI(t *testing.T) {
	c := StartInProcess(t, 3)
	bin := Binary(t)
	out, err := exec.Command(bin, "init", "--host", c.Addrs[1]).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already been initialized") {
		t.Fatalf("second init: %v: %s", err, out)
	}
	out, err = exec.Command(bin, "init", "--if-needed", "--host", c.Addrs[1]).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already initialized") {
		t.Fatalf("init --if-needed: %v: %s", err, out)
	}
}
