package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
	"github.com/ordodb/ordo/txn"
)

// InProcess is a cluster of nodes in the test process.
type InProcess struct {
	t        testing.TB
	Addrs    []string
	SQLAddrs []string
	Dirs     []string
	mu       sync.Mutex
	nodes    []*server.Server
	cut      map[[2]uint64]bool
	dialer   *rpc.Dialer
	// TickInterval for every node (defaults to 50ms for quick elections).
	TickInterval time.Duration
	// TxnKnobs are given to every node's coordinator.
	TxnKnobs txn.TestingKnobs
	// Configure, if set, adjusts each node's configuration before it starts.
	Configure func(i int, cfg *server.Config)
}

// FreeAddr returns a loopback address with a currently free port.
//
// The port is picked below the kernel's ephemeral range (32768 and up on
// Linux), which outgoing connections draw from: a port from that range,
// free now, was sometimes taken by some client's connection before the
// node bound it ("address already in use" in CI). Below it only listeners
// compete, and a random pick among 12,000 ports rarely meets another
// test's.
func FreeAddr(t testing.TB) string {
	for range 200 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// StartInProcess starts n nodes that join each other and bootstraps them.
func StartInProcess(t testing.TB, n int) *InProcess {
	return StartInProcessWith(t, n, nil)
}

// StartInProcessWith is StartInProcess with a hook that adjusts the cluster
// (knobs, timing) before any node starts.
func StartInProcessWith(t testing.TB, n int, configure func(*InProcess)) *InProcess {
	c := &InProcess{t: t, cut: map[[2]uint64]bool{}, dialer: rpc.NewDialer(), TickInterval: 50 * time.Millisecond}
	if configure != nil {
		configure(c)
	}
	root := t.TempDir()
	for i := 0; i < n; i++ {
		c.Addrs = append(c.Addrs, FreeAddr(t))
		c.SQLAddrs = append(c.SQLAddrs, FreeAddr(t))
		c.Dirs = append(c.Dirs, filepath.Join(root, fmt.Sprintf("n%d", i+1)))
	}
	c.nodes = make([]*server.Server, n)
	for i := 0; i < n; i++ {
		c.Start(i)
	}
	t.Cleanup(c.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := c.dialer.Client(c.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Bootstrap(ctx, &rpcpb.BootstrapRequest{}); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	for i := 0; i < n; i++ {
		select {
		case <-c.Node(i).Started():
		case <-ctx.Done():
			t.Fatalf("node %d did not start", i+1)
		}
	}
	return c
}

// Start starts (or restarts) node i on its store.
func (c *InProcess) Start(i int) {
	cfg := server.Config{
		StoreDir:     c.Dirs[i],
		ListenAddr:   c.Addrs[i],
		SQLAddr:      c.SQLAddrs[i],
		Join:         c.Addrs,
		TickInterval: c.TickInterval,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})),
		OnFatal:      func(err error) { c.t.Errorf("node %d: fatal: %v", i+1, err) },
		Knobs:        server.TestingKnobs{RaftDrop: c.dropped, Txn: c.TxnKnobs},
	}
	if c.Configure != nil {
		c.Configure(i, &cfg)
	}
	var s *server.Server
	err := testutil.Retry(10*time.Second, func() error {
		var err error
		if s, err = server.New(cfg); err != nil {
			return err
		}
		if err = s.Start(); err != nil {
			s.Stop()
		}
		return err
	})
	if err != nil {
		c.t.Fatalf("start node %d: %v", i+1, err)
	}
	c.mu.Lock()
	c.nodes[i] = s
	c.mu.Unlock()
}

// AddNode starts a new node that joins the running cluster and returns its
// index.
func (c *InProcess) AddNode() int {
	c.mu.Lock()
	i := len(c.nodes)
	c.Addrs = append(c.Addrs, FreeAddr(c.t))
	c.SQLAddrs = append(c.SQLAddrs, FreeAddr(c.t))
	c.Dirs = append(c.Dirs, filepath.Join(filepath.Dir(c.Dirs[0]), fmt.Sprintf("n%d", i+1)))
	c.nodes = append(c.nodes, nil)
	c.mu.Unlock()
	c.Start(i)
	select {
	case <-c.Node(i).Started():
	case <-time.After(30 * time.Second):
		c.t.Fatalf("node %d did not join", i+1)
	}
	return i
}

// StopNode stops node i; Start(i) restarts it on the same store.
func (c *InProcess) StopNode(i int) {
	c.mu.Lock()
	s := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Stop()
	}
}

// Node returns node i (nil while stopped).
func (c *InProcess) Node(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Stop stops every node.
func (c *InProcess) Stop() {
	for i := range c.nodes {
		c.StopNode(i)
	}
	c.dialer.Close()
}

// Isolate cuts (or with on=false restores) Raft traffic between node id and
// every other node; clients can still reach it.
func (c *InProcess) Isolate(id uint64, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for j := range c.nodes {
		other := uint64(j + 1)
		if other != id {
			c.cut[[2]uint64{id, other}] = on
			c.cut[[2]uint64{other, id}] = on
		}
	}
}

func (c *InProcess) dropped(from, to uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut[[2]uint64{from, to}]
}

// Client returns a kv client that sends every request through node i's
// gRPC address (the node routes it), like an external client would.
func (c *InProcess) Client(i int) *RoutedClient {
	return &RoutedClient{dialer: c.dialer, addr: c.Addrs[i]}
}

// NodeClient returns a gRPC client for node i.
func (c *InProcess) NodeClient(i int) rpcpb.NodeClient {
	cl, err := c.dialer.Client(c.Addrs[i])
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// DB returns node i's own kv client.
func (c *InProcess) DB(i int) *kv.DB { return c.Node(i).DB() }

// logLevel is the nodes' log level: ORDO_TEST_LOG=debug|info|warn (warn).
func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("ORDO_TEST_LOG"))); err != nil {
		return slog.LevelWarn
	}
	return l
}
