package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/testutil"
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
	testutil.SucceedsWithin(t, 2*time.Minute, func() error {
		ranges, err := c.UserRanges(ctx, (gone+1)%len(c.Nodes))
		if err != nil || len(ranges) == 0 {
			return fmt.Errorf("range list: %d ranges, %v", len(ranges), err)
		}
		for _, r := range ranges {
			if slices.Contains(r.Replicas, gone) {
				return fmt.Errorf("n%d still holds a replica of r%d after its decommission", gone+1, r.Desc.RangeId)
			}
		}
		return nil
	})
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
	testutil.SucceedsWithin(t, time.Minute, func() error {
		conn, err := pgx.Connect(ctx, url(2))
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close(ctx) }()
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
			return err
		}
		if n != 100 {
			return fmt.Errorf("after the whole-cluster restart: count %d, want 100", n)
		}
		return nil
	})
}
