package nemesis

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The clock nemesis's skew reaches SQL's now() on the node it hits and on
// no other, and its heal sets the clock right.
func TestClockNemesis(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, Config{Binary: failpointBinary(t), Dir: t.TempDir(), Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	skewOf := func(i int) time.Duration {
		t.Helper()
		conn, err := pgx.Connect(ctx, "postgres://root@"+c.Nodes[i].SQLAddr+"/defaultdb?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(ctx) }()
		var now time.Time
		if err := conn.QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
			t.Fatal(err)
		}
		return time.Until(now).Round(time.Minute)
	}
	if err := c.setClock(ctx, 1, "offset=1h"); err != nil {
		t.Fatal(err)
	}
	if d := skewOf(1); d != time.Hour {
		t.Errorf("n2 with offset=1h: now() is %s off", d)
	}
	if d := skewOf(0); d != 0 {
		t.Errorf("n1, not skewed: now() is %s off", d)
	}
	if err := c.setClock(ctx, 1, "off"); err != nil {
		t.Fatal(err)
	}
	if d := skewOf(1); d != 0 {
		t.Errorf("n2 after the heal: now() is %s off", d)
	}
}
