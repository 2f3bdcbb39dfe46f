package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// On real processes with a table of 200 rows: the lease nemesis moves
// leases (the range list shows each moved range's lease on another node),
// and the split nemesis splits a range holding rows at the middle of its
// data (one more user range, both halves holding rows, the rows all still
// readable).
func TestLeaseAndSplitNemeses(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, "postgres://root@"+c.Nodes[0].SQLAddr+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	var vals []string
	for i := range 200 {
		vals = append(vals, fmt.Sprintf("(%d, 'v%d')", i, i))
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES "+strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))

	before, err := c.UserRanges(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, err := split{}.Inject(ctx, c, rng)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("split: %s", f)
	after, err := c.UserRanges(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 {
		t.Fatalf("%d user ranges before the split, %d after", len(before), len(after))
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 200 {
		t.Fatalf("after the split: count %d, %v", n, err)
	}

	leases := map[uint64]int{}
	for _, r := range after {
		leases[r.Desc.RangeId] = r.Leaseholder
	}
	f, err = lease{}.Inject(ctx, c, rng)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lease: %s", f)
	now, err := c.UserRanges(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, r := range now {
		if was, ok := leases[r.Desc.RangeId]; ok && r.Leaseholder >= 0 && r.Leaseholder != was {
			moved++
		}
	}
	if moved == 0 || !strings.Contains(f.Desc, "→") {
		t.Fatalf("lease %q: no lease moved (before %v)", f.Desc, leases)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 200 {
		t.Fatalf("after the lease moves: count %d, %v", n, err)
	}

	// Settled sees a lock held open, and its release.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT v FROM t WHERE id = 7 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Settled(ctx, time.Second); err == nil || !strings.Contains(err.Error(), "locks") {
		t.Fatalf("Settled with a lock held: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if took, err := c.Settled(ctx, 30*time.Second); err != nil {
		t.Fatalf("Settled after the rollback: %v (%s)", err, took)
	}
}
