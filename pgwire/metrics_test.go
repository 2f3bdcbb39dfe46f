package pgwire

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestConnectionMetrics: the open-connections gauge follows connections as
// they open and close; the total only grows.
func TestConnectionMetrics(t *testing.T) {
	m := NewMetrics()
	ts := startTestServer(t, func(c *Config) { c.Metrics = m })
	a, b := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	for _, rc := range []*rawConn{a, b} {
		if e := rc.startup(t, "root"); e != nil {
			t.Fatal(e)
		}
	}
	wantConns := func(open, total float64) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%v open of %v connections", open, total), 5*time.Second, func() bool {
			return testutil.ToFloat64(m.OpenConnections) == open && testutil.ToFloat64(m.Connections) == total
		})
	}
	wantConns(2, 2)
	a.Close()
	wantConns(1, 2)
	if n := ts.NumConns(); n != 1 {
		t.Errorf("NumConns = %d, want 1", n)
	}
	b.Close()
	wantConns(0, 2)
}
