package nemesis

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/tests/cluster"
)

// On four real processes: the membership nemesis decommissions a node,
// whose replicas then leave every user range, and recommissions it; the
// killall nemesis kills every process, and after its heal the cluster
// serves the rows written before.
func TestMembershipAndKillAllNemeses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, Config{Binary: cluster.Binary(t), Dir: t.TempDir(), Nodes: 4, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	url := func(i int) string { return "postgres://root@" + c.Nodes[i].SQLAddr + "/defaultdb?sslmode=disable" }
	conn, err := pgx.Connect(ctx, url(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t SELECT generate_series(1, 100)"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_ = conn.Close(ctx)

	f, err := membership{}.Inject(ctx, c, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("membership: %s", f)
	var gone int
	for i := range c.Nodes {
		if f.Desc == nodeList([]int{i})+" decommissioned" {
			gone = i
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ranges, err := c.UserRanges(ctx, (gone+1)%len(c.Nodes))
		left := err != nil || len(ranges) == 0
		for _, r := range ranges {
			left = left || slices.Contains(r.Replicas, gone)
		}
		if !left {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n%d still holds user replicas 2 minutes after its decommission (%v)", gone+1, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}

	f, err = killAll{}.Inject(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Nodes {
		if c.Running(i) {
			t.Fatalf("%s: n%d still runs", f, i+1)
		}
	}
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Minute)
	for {
		var n int
		conn, err := pgx.Connect(ctx, url(2))
		if err == nil {
			err = conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n)
			_ = conn.Close(ctx)
		}
		if err == nil && n == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the whole-cluster restart: count %d, %v", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
