package nemesis

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/tests/checker/history"
)

// failpointNemesis arms one of ordo's commit-protocol failpoints
// (kv/failpoint) on one node to crash it once, the moment a transaction
// passes that point; healing disarms it and, if it fired, restarts the
// node. It needs an ordo binary built with -tags failpoints.
type failpointNemesis struct{}

func (failpointNemesis) Name() string { return FailpointName }

// Outcomes a failpoint fault ends with, in its nemesis-end event.
const (
	failpointFired    = "(fired: crashed there, restarted)"
	failpointNotFired = "(not reached)"
)

func (failpointNemesis) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	var up []int
	for i := range c.Nodes {
		if c.Running(i) {
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		return nil, fmt.Errorf("nemesis: failpoint: no node runs")
	}
	i := up[rng.IntN(len(up))]
	name := failpoint.Names[rng.IntN(len(failpoint.Names))]
	if err := c.failpoint(ctx, i, http.MethodPut, name, "1*crash"); err != nil {
		return nil, err
	}
	f := &Fault{Name: FailpointName, Desc: fmt.Sprintf("n%d %s", i+1, name)}
	f.heal = func(ctx context.Context) error {
		if !c.reapExited(i) {
			f.Outcome = failpointNotFired
			return c.failpoint(ctx, i, http.MethodDelete, name, "")
		}
		f.Outcome = failpointFired
		if err := c.Start(i); err != nil {
			return err
		}
		return c.WaitHealthy(ctx, i)
	}
	return f, nil
}

// failpoint arms (PUT) or disarms (DELETE) a failpoint on node i.
func (c *Cluster) failpoint(ctx context.Context, i int, method, name, action string) error {
	url := "http://" + c.Nodes[i].HTTPAddr + "/debug/failpoints/" + name
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(action))
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("nemesis: failpoint %s on n%d: %w", name, i+1, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("nemesis: failpoint: n%d has no /debug/failpoints: its ordo binary was built without -tags failpoints (make build-failpoints)", i+1)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("nemesis: failpoint %s on n%d: %s: %s", name, i+1, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// reapExited reports whether node i's process has exited on its own (and
// forgets it, so Start can start it again).
func (c *Cluster) reapExited(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.mu.procs[i]
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		c.mu.procs[i] = nil
		return true
	default:
		return false
	}
}

// FailpointsFired counts, in a history, the failpoint faults and those of
// them that fired.
func FailpointsFired(ops []history.Op) (armed, fired int) {
	for _, op := range ops {
		if op.Process != history.NemesisProcess || op.F != EventEnd || !strings.HasPrefix(op.Value, FailpointName+" ") {
			continue
		}
		armed++
		if strings.HasSuffix(op.Value, failpointFired) {
			fired++
		}
	}
	return armed, fired
}
