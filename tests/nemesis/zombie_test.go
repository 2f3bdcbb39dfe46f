package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/testutil"
)

// The zombie nemesis leaves the old leaseholder running (not paused)
// behind a cut of everything sent to it, with a new leaseholder elsewhere;
// after the heal every link answers and the range has one leaseholder.
func TestZombieNemesis(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, "postgres://root@"+c.Nodes[0].SQLAddr+"/defaultdb?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	f, err := zombie{}.Inject(ctx, c, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("zombie: %s", f)
	cut := c.Net.Faulty()
	if len(cut) != len(c.Nodes)-1 {
		t.Fatalf("%d links cut, want the %d into the old leaseholder", len(cut), len(c.Nodes)-1)
	}
	old := cut[0].To
	for _, p := range cut {
		if p.To != old {
			t.Fatalf("cut links %v: not all into one node", cut)
		}
	}
	if st, err := ProcState(c.Pid(old)); err != nil || st == 'T' {
		t.Fatalf("n%d: state %q, %v: the zombie must run", old+1, st, err)
	}
	// The others elect a new leaseholder, which the old one cannot know.
	testutil.SucceedsWithin(t, 30*time.Second, func() error {
		ranges, err := c.UserRanges(ctx, (old+1)%len(c.Nodes))
		if err != nil || len(ranges) == 0 {
			return fmt.Errorf("range list: %d ranges, %v", len(ranges), err)
		}
		for _, r := range ranges {
			if r.Leaseholder < 0 || r.Leaseholder == old {
				return fmt.Errorf("r%d: no new leaseholder away from n%d", r.Desc.RangeId, old+1)
			}
		}
		return nil
	})
	if err := f.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if len(c.Net.Faulty()) != 0 {
		t.Fatalf("after the heal: %v still cut", c.Net.Faulty())
	}
}
