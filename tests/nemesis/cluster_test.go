package nemesis

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/tests/cluster"
)

// startCluster starts 3 real processes behind their proxies.
func startCluster(t *testing.T) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, Config{Binary: cluster.Binary(t), Dir: t.TempDir(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// On real processes: every node reaches its peers through their proxies
// and from its own IP; each partition shape cuts (probes across it get no
// answer) and heals; a paused process is in state T and runs again after
// the heal; a killed process is gone and comes back healthy.
func TestClusterFaults(t *testing.T) {
	c := startCluster(t)
	for i, p := range c.proxies {
		if p.Foreign.Load() != 0 || p.Peer.Load() == 0 {
			t.Fatalf("proxy of n%d: %d foreign, %d peer connections: nodes do not dial from their IPs through the proxies",
				i+1, p.Foreign.Load(), p.Peer.Load())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, shape := range Shapes(3) {
		desc, grudge := ShapeOf(shape, rng.Perm(3))
		c.Net.Cut(grudge)
		if err := checkCut(ctx, c, grudge); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		c.Net.Heal()
		if err := checkAllLinks(ctx, c); err != nil {
			t.Fatalf("after %s: %v", desc, err)
		}
	}
	if c.Proxy(0).Dropped.Load()+c.Proxy(1).Dropped.Load()+c.Proxy(2).Dropped.Load() == 0 {
		t.Error("the partitions dropped no byte")
	}

	f, err := pause{}.Inject(ctx, c, rng)
	if err != nil {
		t.Fatal(err)
	}
	i := pausedNode(t, c)
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := ProcState(c.Pid(i)); err != nil || st == 'T' {
		t.Fatalf("n%d after resume: state %q, %v", i+1, st, err)
	}

	f, err = kill{}.Inject(ctx, c, rng)
	if err != nil {
		t.Fatal(err)
	}
	down := -1
	for i := range c.Nodes {
		if !c.Running(i) {
			down = i
		}
	}
	if down < 0 {
		t.Fatalf("%s: every process still runs", f)
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatalf("%s: %v\n%s", f, err, c.Log(down))
	}
	if err := checkAllLinks(ctx, c); err != nil {
		t.Fatalf("after restarting n%d: %v", down+1, err)
	}
}

// pausedNode returns the node whose process is stopped (state T).
func pausedNode(t *testing.T, c *Cluster) int {
	t.Helper()
	paused := -1
	for i := range c.Nodes {
		st, err := ProcState(c.Pid(i))
		if err != nil {
			t.Fatal(err)
		}
		if st == 'T' {
			if paused >= 0 {
				t.Fatalf("n%d and n%d both paused", paused+1, i+1)
			}
			paused = i
		}
	}
	if paused < 0 {
		t.Fatal("no process in state T after pause")
	}
	return paused
}

// A partition of all ports cuts a node off from its peers and from the SQL
// clients (through its SQL proxy), which still reach the others; after the
// heal every SQL port answers through its proxy and a query runs.
func TestPartitionAllPorts(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, err := partitionAll{}.Inject(ctx, c, rand.New(rand.NewPCG(8, 8)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("partition-all: %s", f)
	var cut []int
	for i := range c.Nodes {
		if ProbeSQL(ctx, c.Nodes[i].SQLProxy, time.Second) != nil {
			cut = append(cut, i)
		}
		if err := ProbeSQL(ctx, c.Nodes[i].SQLAddr, time.Second); err != nil {
			t.Errorf("n%d's own SQL port, not proxied: %v", i+1, err)
		}
	}
	if len(cut) != 1 {
		t.Fatalf("SQL proxies not answering: %v, want exactly one node cut off", cut)
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range c.Nodes {
		conn, err := pgx.Connect(ctx, "postgres://root@"+c.Nodes[i].SQLProxy+"/defaultdb?sslmode=disable")
		if err != nil {
			t.Fatalf("n%d through its SQL proxy after the heal: %v", i+1, err)
		}
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close(ctx)
	}
}
