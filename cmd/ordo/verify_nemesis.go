package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/nemesis"
	"github.com/ordodb/ordo/tests/verify"
)

// Without --hosts or --url, ordo verify starts its own cluster: --nodes
// processes of this very binary on loopback, each behind a fault-injection
// proxy (tests/nemesis), and runs the --nemesis schedule during every
// workload: quiet for --nemesis-quiet, a fault for --nemesis-hold, heal,
// again (both jittered ±50%), none in the last --nemesis-quiet.

// localFlags are ordo verify's flags for the cluster it starts itself.
type localFlags struct {
	nodes       int
	nemesis     []string
	quiet, hold time.Duration
	split       bool
}

func addLocalFlags(fs *flag.FlagSet, lf *localFlags) {
	fs.IntVar(&lf.nodes, "nodes", 3, "without --hosts: the number of local processes to start")
	fs.Func("nemesis", "without --hosts: comma-separated faults to inject during each workload: "+
		strings.Join(nemesis.Names, ",")+" (default none)", func(s string) error {
		lf.nemesis = splitList(s)
		_, err := nemesis.Parse(lf.nemesis)
		return err
	})
	fs.DurationVar(&lf.quiet, "nemesis-quiet", 5*time.Second, "time between a heal and the next fault (±50%)")
	fs.DurationVar(&lf.hold, "nemesis-hold", 5*time.Second, "how long each fault lasts (±50%)")
	fs.BoolVar(&lf.split, "split", false, "without --hosts: split each workload's tables into several ranges as it starts, so transactions commit with two phases")
}

// nemesisName is the report's name of the schedule: "partition,kill".
func (lf *localFlags) nemesisName() string {
	var names []string
	for _, n := range lf.nemesis {
		if n != "none" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

func (lf *localFlags) validate(local bool) error {
	switch {
	case !local && lf.nemesisName() != "none":
		return errors.New("--nemesis needs the cluster ordo verify starts itself: leave out --hosts and --url")
	case !local && lf.split:
		return errors.New("--split needs the cluster ordo verify starts itself: leave out --hosts and --url")
	case local && (lf.nodes < 1 || lf.nodes > 9):
		return errors.New("--nodes must be between 1 and 9")
	case (slices.Contains(lf.nemesis, nemesis.FailpointName) || slices.Contains(lf.nemesis, nemesis.ClockName)) && !failpoint.Enabled:
		return errors.New("--nemesis failpoint and clock need an ordo built with -tags failpoints (make build-failpoints: bin/ordo-failpoints)")
	case lf.quiet <= 0 || lf.hold <= 0:
		return errors.New("--nemesis-quiet and --nemesis-hold must be positive")
	}
	return nil
}

// startLocal starts the local cluster in DIR/cluster and points the run at
// its SQL ports.
func startLocal(ctx context.Context, cfg *verifyConfig, stderr io.Writer) (*nemesis.Cluster, error) {
	bin, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.out, "cluster")
	fmt.Fprintf(stderr, "ordo verify: starting %d local nodes (stores and logs in %s)\n", cfg.local.nodes, dir)
	c, err := nemesis.StartCluster(ctx, nemesis.Config{Binary: bin, Dir: dir, Nodes: cfg.local.nodes, Seed: cfg.run.Seed})
	if err != nil {
		return nil, err
	}
	cfg.hosts = c.SQLAddrs()
	cfg.run.URLs = nil
	for _, h := range cfg.hosts {
		cfg.run.URLs = append(cfg.run.URLs, "postgres://root@"+h+"/defaultdb?sslmode=disable")
	}
	return c, nil
}

// nemesisRun is the schedule of one workload on the local cluster.
type nemesisRun struct {
	sched  *nemesis.Schedule
	faults int
	err    error
}

// withNemesis sets run up to inject cfg's faults into c during workload
// number i.
func withNemesis(run *verify.Config, cfg *verifyConfig, c *nemesis.Cluster, i int, stderr io.Writer) *nemesisRun {
	ns, _ := nemesis.Parse(cfg.local.nemesis) // checked by the flag
	nr := &nemesisRun{sched: &nemesis.Schedule{Cluster: c, Nemeses: ns, Seed: cfg.run.Seed + uint64(i),
		Quiet: cfg.local.quiet, Hold: cfg.local.hold, Log: stderr}}
	run.Nemesis = cfg.local.nemesisName()
	run.During = func(ctx context.Context, event func(history.Op) history.Op) {
		if cfg.local.split {
			splitWorkloadTables(ctx, c, run.URLs[0], stderr)
		}
		nr.sched.Event = event
		nr.faults, nr.err = nr.sched.Run(ctx)
	}
	return nr
}

// settleBound is how long after a run its locks and prepared records may
// take to go (recovery asks dead coordinators every second, resolves
// prepared records after 2 s, and a restarted node's ranges need a lease).
const settleBound = 30 * time.Second

// finish fills r's nemesis figures from the history and checks that the
// cluster settled: every lock and prepared record gone within settleBound,
// and every user range's replicas equal at one applied index.
// The error is a fault that did not take effect or heal, a schedule that
// never fired, or a cluster that did not settle.
func (nr *nemesisRun) finish(ctx context.Context, c *nemesis.Cluster, r *verify.Report, ops []history.Op) error {
	took, serr := c.Settled(ctx, settleBound)
	r.SettledMs = msOrNone(took)
	if serr != nil {
		r.SettledMs = -1
	}
	agreed, aerr := c.ReplicasAgree(ctx, settleBound)
	r.RangesAgreed = agreed
	r.Faults = nr.faults
	r.NemesisSummary = nemesis.Summarize(ops)
	for _, rc := range nemesis.Recoveries(ops) {
		r.Recovery = append(r.Recovery, verify.Recovery{Fault: rc.Fault,
			HealS: time.Duration(rc.HealNs).Seconds(), RecoveryMs: msOrNone(rc.After), ThroughputMs: msOrNone(rc.Throughput)})
	}
	switch {
	case nr.err != nil:
		return nr.err
	case len(nr.sched.Nemeses) > 0 && nr.faults == 0:
		return fmt.Errorf("%s: the nemesis never fired: --duration is too short for --nemesis-quiet and --nemesis-hold", r.Workload)
	}
	if serr != nil {
		return fmt.Errorf("%s: locks or prepared records left: %w", r.Workload, serr)
	}
	if aerr != nil {
		return fmt.Errorf("%s: replica checksums: %w", r.Workload, aerr)
	}
	if armed, fired := nemesis.FailpointsFired(ops); armed >= 2 && fired == 0 {
		return fmt.Errorf("%s: failpoints were armed %d times and never reached: no transaction spanned ranges (try --split)", r.Workload, armed)
	}
	return nil
}

// msOrNone is d in milliseconds, -1 for a negative d (never).
func msOrNone(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return float64(d.Microseconds()) / 1000
}

// printNemesis prints r's fault summary and the recovery after each heal.
func printNemesis(w io.Writer, r *verify.Report) {
	if r.SettledMs > 0 {
		fmt.Fprintf(w, "  settled: no lock or prepared record left %.1f s after the run; replicas of %d user ranges agree (equal checksums at equal applied indexes)\n",
			r.SettledMs/1000, r.RangesAgreed)
	}
	if r.NemesisSummary == "" {
		return
	}
	fmt.Fprintf(w, "  nemesis: %s\n", r.NemesisSummary)
	for _, rc := range r.Recovery {
		after := "no ok operation after it"
		if rc.RecoveryMs >= 0 {
			after = fmt.Sprintf("ok again after %.2f s", rc.RecoveryMs/1000)
		}
		if rc.ThroughputMs >= 0 {
			after += fmt.Sprintf(", half the earlier ok rate after %.1f s", rc.ThroughputMs/1000)
		}
		fmt.Fprintf(w, "  healed %s at %.1f s: %s\n", rc.Fault, rc.HealS, after)
	}
}
