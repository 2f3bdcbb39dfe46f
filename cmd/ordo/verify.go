package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/nemesis"
	"github.com/ordodb/ordo/tests/verify"
)

// ordo verify runs client-side consistency workloads against a running
// cluster and checks their histories:
//
//	ordo verify --hosts a:26257,b:26257,c:26257 --workload list-append,bank --duration 60s
//
// It prints a progress line every second on stderr, then one summary line
// per workload on stdout (PASS or FAIL), and writes results.json and one
// history per workload (WORKLOAD.history.jsonl) to --out. On a failure it
// prints the seed and the checker's explanation of each anomaly, and exits
// with status 1.
//
// Without --hosts and --url it starts a local cluster of this binary and
// may inject faults meanwhile (--nemesis partition,kill,pause,delay,loss;
// verify_nemesis.go, tests/nemesis, docs/verify.md).

// verifyConfig is the parsed command line of ordo verify.
type verifyConfig struct {
	urls      []string
	hosts     []string
	workloads []string
	run       verify.Config
	out       string
	isolation string
	// Without --hosts and --url: the cluster verify starts itself.
	local   localFlags
	cluster *nemesis.Cluster
}

// isolationLevels maps --isolation to pgx levels (repeatable-read exists to
// show the checker catching PostgreSQL's snapshot isolation).
var isolationLevels = map[string]pgx.TxIsoLevel{
	"serializable":    pgx.Serializable,
	"repeatable-read": pgx.RepeatableRead,
	"read-committed":  pgx.ReadCommitted,
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseVerifyArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "ordo verify: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reports, err := verifyMain(ctx, cfg, stdout, stderr)
	if err != nil {
		return fail(stderr, "verify", err)
	}
	for _, r := range reports {
		if !r.Valid {
			return 1
		}
	}
	return 0
}

func parseVerifyArgs(args []string, stderr io.Writer) (*verifyConfig, error) {
	cfg := &verifyConfig{}
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ordo verify --hosts HOST:PORT[,...] [--workload %s] [flags]\n"+
			"       ordo verify [--nodes 3] [--nemesis %s] [flags]   (a local cluster of this binary)\n\nflags:\n",
			strings.Join(verify.Workloads, ","), strings.Join(nemesis.Names, ","))
		fs.PrintDefaults()
	}
	hosts := fs.String("hosts", "", "comma-separated SQL addresses (host:port) of the cluster's nodes")
	urls := fs.String("url", "", "comma-separated postgres:// URLs, instead of or besides --hosts")
	workloads := fs.String("workload", strings.Join(verify.Workloads, ","), "comma-separated workloads, run one after the other")
	fs.DurationVar(&cfg.run.Duration, "duration", 60*time.Second, "time per workload")
	fs.IntVar(&cfg.run.Clients, "clients", 8, "concurrent clients, one connection each")
	fs.Uint64Var(&cfg.run.Seed, "seed", 0, "random seed (0: from the clock; printed either way)")
	fs.DurationVar(&cfg.run.Timeout, "timeout", 5*time.Second, "per-transaction timeout")
	fs.StringVar(&cfg.out, "out", "", "directory for results.json and the histories (default: a new temporary directory)")
	fs.StringVar(&cfg.isolation, "isolation", "serializable", "isolation level: serializable, repeatable-read or read-committed")
	addLocalFlags(fs, &cfg.local)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.hosts = splitList(*hosts)
	cfg.urls = splitList(*urls)
	for _, h := range cfg.hosts {
		cfg.urls = append(cfg.urls, "postgres://root@"+h+"/defaultdb?sslmode=disable")
	}
	cfg.workloads = splitList(*workloads)
	return cfg, cfg.validate()
}

func (cfg *verifyConfig) validate() error {
	level, ok := isolationLevels[cfg.isolation]
	switch {
	case len(cfg.workloads) == 0:
		return errors.New("--workload names no workload")
	case cfg.run.Duration <= 0 || cfg.run.Timeout <= 0:
		return errors.New("--duration and --timeout must be positive")
	case cfg.run.Clients < 1:
		return errors.New("--clients must be at least 1")
	case !ok:
		return fmt.Errorf("--isolation %q: want serializable, repeatable-read or read-committed", cfg.isolation)
	}
	for _, w := range cfg.workloads {
		if _, err := verify.New(w); err != nil {
			return err
		}
	}
	if err := cfg.local.validate(len(cfg.urls) == 0); err != nil {
		return err
	}
	cfg.run.URLs, cfg.run.Isolation = cfg.urls, level
	if cfg.run.Seed == 0 {
		cfg.run.Seed = uint64(time.Now().UnixNano())
	}
	return nil
}

// verifyMain runs every workload in turn, prints their summaries and writes
// the results. Anomalies are in the reports, not in the error.
func verifyMain(ctx context.Context, cfg *verifyConfig, stdout, stderr io.Writer) ([]*verify.Report, error) {
	if err := makeOutDir(cfg); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "ordo verify: seed %d, %d clients, %s per workload, results in %s\n",
		cfg.run.Seed, cfg.run.Clients, cfg.run.Duration, cfg.out)
	if len(cfg.urls) == 0 {
		c, err := startLocal(ctx, cfg, stderr)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		cfg.cluster = c
	}
	run := cfg.run
	run.Progress = stderr
	var reports []*verify.Report
	for i, name := range cfg.workloads {
		r, err := verifyOne(ctx, cfg, run, i, name)
		if r != nil {
			reports = append(reports, r)
			fmt.Fprintln(stdout, r.Summary())
			printNemesis(stdout, r)
			if !r.Valid {
				printAnomalies(stdout, r)
			}
			if werr := writeResults(cfg.out, reports); werr != nil && err == nil {
				err = werr
			}
		}
		if err != nil {
			return reports, err
		}
	}
	fmt.Fprintf(stdout, "results: %s\n", filepath.Join(cfg.out, "results.json"))
	return reports, nil
}

func verifyOne(ctx context.Context, cfg *verifyConfig, run verify.Config, i int, name string) (*verify.Report, error) {
	w, err := verify.New(name)
	if err != nil {
		return nil, err
	}
	var nr *nemesisRun
	if cfg.cluster != nil {
		run.URLs = cfg.run.URLs
		nr = withNemesis(&run, cfg, cfg.cluster, i, run.Progress)
	}
	r, ops, err := verify.Run(ctx, run, w)
	if ops != nil {
		path := filepath.Join(cfg.out, name+".history.jsonl")
		if werr := history.WriteFile(path, ops); werr != nil && err == nil {
			err = werr
		}
		if r != nil {
			r.History = path
		}
	}
	if err != nil {
		return nil, err
	}
	r.Version, r.Hosts = Version, cfg.hosts
	if len(r.Hosts) == 0 {
		r.Hosts = cfg.urls
	}
	if nr != nil {
		return r, nr.finish(ctx, cfg.cluster, r, ops)
	}
	return r, nil
}

func makeOutDir(cfg *verifyConfig) error {
	if cfg.out == "" {
		dir, err := os.MkdirTemp("", "ordo-verify-")
		cfg.out = dir
		return err
	}
	return os.MkdirAll(cfg.out, 0o755)
}

// shownAnomalies is how many anomalies printAnomalies explains; the rest are
// in results.json.
const shownAnomalies = 3

// printAnomalies says why r failed: the checker's summary and its first
// anomalies, each explained (the checker lists the shortest cycle it found
// per strongly connected component).
func printAnomalies(w io.Writer, r *verify.Report) {
	blocks := strings.Split(r.Explanation, "\n\n")
	fmt.Fprintf(w, "\n%s is %s (seed %d; replay the workload with --seed %d, history in %s).\n",
		r.Workload, r.Level, r.Seed, r.Seed, r.History)
	for i, b := range blocks {
		if i > shownAnomalies {
			fmt.Fprintf(w, "\n(%d more anomalies explained in results.json)\n", len(blocks)-1-shownAnomalies)
			break
		}
		fmt.Fprintf(w, "%s\n", strings.TrimSpace(b))
		if i < len(blocks)-1 {
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
}

func writeResults(dir string, reports []*verify.Report) error {
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644)
}
