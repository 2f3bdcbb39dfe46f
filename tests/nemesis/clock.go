package nemesis

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// clockSkews are the clock faults (testing.md §4.4): steps forward and
// back of 100 ms to an hour, and Jepsen's strobe.
var clockSkews = []string{"offset=100ms", "offset=-100ms", "offset=1s", "offset=-10s", "offset=1h", "offset=-1h", "strobe=10s/10ms"}

// clockNemesis skews one node's wall clock (kv/failpoint.Now: transaction
// priorities, SQL's now()) through its /debug/clock; healing sets it
// right. ordo reads no clock in a safety decision, so no skew may cause an
// anomaly. Needs an ordo built with -tags failpoints.
type clockNemesis struct{}

func (clockNemesis) Name() string { return ClockName }

func (clockNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	var up []int
	for i := range c.Nodes {
		if c.Running(i) {
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		return nil, fmt.Errorf("nemesis: clock: no node runs")
	}
	i := up[rng.IntN(len(up))]
	spec := clockSkews[rng.IntN(len(clockSkews))]
	if err := c.setClock(ctx, i, spec); err != nil {
		return nil, err
	}
	return &Fault{Name: ClockName, Desc: fmt.Sprintf("n%d %s", i+1, spec), heal: func(ctx context.Context) error {
		if !c.Running(i) {
			return nil // a restarted process starts with its clock right
		}
		return c.setClock(ctx, i, "off")
	}}, nil
}

// setClock sets node i's clock skew and reads it back.
func (c *Cluster) setClock(ctx context.Context, i int, spec string) error {
	url := "http://" + c.Nodes[i].HTTPAddr + "/debug/clock"
	for _, method := range []string{http.MethodPut, http.MethodGet} {
		var body io.Reader
		if method == http.MethodPut {
			body = strings.NewReader(spec)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, body)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("nemesis: clock on n%d: %w", i+1, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return fmt.Errorf("nemesis: clock: n%d has no /debug/clock: its ordo binary was built without -tags failpoints (make build-failpoints)", i+1)
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("nemesis: clock %s on n%d: %s: %s", spec, i+1, resp.Status, strings.TrimSpace(string(b)))
		case method == http.MethodGet && !sameSkew(strings.TrimSpace(string(b)), spec):
			return fmt.Errorf("nemesis: clock on n%d reads %q after setting %q", i+1, strings.TrimSpace(string(b)), spec)
		}
	}
	return nil
}

// sameSkew compares a skew as set ("offset=1h") with as read back
// ("offset=1h0m0s").
func sameSkew(got, want string) bool {
	if got == want {
		return true
	}
	gk, gv, _ := strings.Cut(got, "=")
	wk, wv, _ := strings.Cut(want, "=")
	if gk != wk {
		return false
	}
	norm := func(v string) string {
		var parts []string
		for _, p := range strings.Split(v, "/") {
			if d, err := parseDuration(p); err == nil {
				p = d
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "/")
	}
	return norm(gv) == norm(wv)
}

func parseDuration(s string) (string, error) {
	d, err := time.ParseDuration(s)
	return d.String(), err
}
