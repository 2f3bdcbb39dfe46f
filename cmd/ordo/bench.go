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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ordo bench drives a SQL workload through real Postgres connections (pgx),
// so the same run measures ordo and PostgreSQL alike:
//
//	ordo bench tpcb --init --scale 1 --url postgres://root@127.0.0.1:26258/defaultdb
//	ordo bench tpcb --clients 8 -M prepared --url URL1,URL2,URL3
//	ordo bench report results.jsonl
//
// Each client owns one connection (client i uses URL i mod len(URLs)) and
// runs transactions back to back. A transaction that fails is not retried:
// it is counted by class (40001, 23505, other) and the client moves on.

// benchConfig is the parsed command line of ordo bench.
type benchConfig struct {
	workload    string
	urls        []string
	clients     int
	duration    time.Duration
	warmup      time.Duration
	progress    time.Duration
	timeout     time.Duration
	mode        pgx.QueryExecMode
	modeName    string
	json        bool
	init        bool
	scale       int
	names       int
	keys        int
	readPercent int
	zipf        float64
	valueSize   int
	seed        uint64
	ranges      int    // kv: split bench_kv into this many ranges (ordo; needs admin)
	admin       string // a node's --listen-addr, for --ranges
	target      string // a label copied into the JSON (for scripts)
	label       string // ditto: the name of this run in a report
}

// benchWorkloads are the workload names ordo bench accepts.
var benchWorkloads = []string{"tpcb", "select-only", "registration", "kv", "hot-row"}

// queryModes maps -M to pgx's modes, as pgbench means them: simple is the
// simple query protocol; extended is one unnamed Parse/Bind/Execute round
// trip per statement; prepared is a named statement prepared once per
// connection.
var queryModes = map[string]pgx.QueryExecMode{
	"simple":   pgx.QueryExecModeSimpleProtocol,
	"extended": pgx.QueryExecModeExec,
	"prepared": pgx.QueryExecModeCacheStatement,
}

func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "report" {
		return runBenchReport(args[1:], stdout, stderr)
	}
	cfg, err := parseBenchArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "ordo bench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := benchMain(ctx, cfg, stderr)
	if err != nil {
		return fail(stderr, "bench", err)
	}
	if res == nil { // --init only
		return 0
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(res); err != nil {
			return fail(stderr, "bench", err)
		}
		return 0
	}
	printBenchResult(stdout, res)
	return 0
}

// parseBenchArgs parses "WORKLOAD [flags]" (or "[flags] WORKLOAD").
func parseBenchArgs(args []string, stderr io.Writer) (*benchConfig, error) {
	cfg := &benchConfig{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: ordo bench {%s} --url URL[,URL...] [flags]\n       ordo bench report [--json FILE] RESULTS.jsonl\n\nflags:\n",
			strings.Join(benchWorkloads, "|"))
		fs.PrintDefaults()
	}
	urls := fs.String("url", "", "comma-separated postgres:// URLs; clients are spread over them")
	hosts := fs.String("hosts", "", "comma-separated SQL addresses (host:port), each meaning postgres://root@ADDR/defaultdb?sslmode=disable")
	fs.IntVar(&cfg.clients, "clients", 8, "concurrent clients, one connection each")
	fs.IntVar(&cfg.clients, "c", 8, "shorthand for --clients")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "unmeasured time before it")
	fs.DurationVar(&cfg.progress, "progress", time.Second, "progress line interval on stderr (0: none)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "per-transaction timeout")
	fs.StringVar(&cfg.modeName, "M", "simple", "query protocol: simple, extended or prepared")
	fs.BoolVar(&cfg.json, "json", false, "print the final figures as one JSON object")
	fs.BoolVar(&cfg.init, "init", false, "create and load the workload's tables, then exit")
	fs.IntVar(&cfg.scale, "scale", 1, "tpcb --init: scale factor (100,000 accounts each)")
	fs.IntVar(&cfg.names, "names", 1000000, "registration: size of the username pool")
	fs.IntVar(&cfg.keys, "keys", 10000, "kv: number of keys (loaded before each run)")
	fs.IntVar(&cfg.readPercent, "read-percent", 50, "kv: share of point reads, 0-100 (the rest are point writes)")
	fs.Float64Var(&cfg.zipf, "zipf", 0, "kv: key skew, Zipf exponent s > 1 (0: uniform)")
	fs.IntVar(&cfg.valueSize, "value-size", 100, "kv: bytes per value")
	fs.IntVar(&cfg.ranges, "ranges", 0, "kv, ordo only: split bench_kv into this many ranges of its own and spread their leases over the nodes (needs --admin)")
	fs.StringVar(&cfg.admin, "admin", "", "with --ranges: a node's --listen-addr (gRPC) to split and move leases through")
	fs.Uint64Var(&cfg.seed, "seed", 1, "random seed (client i uses seed+i)")
	fs.StringVar(&cfg.target, "target", "", "name of the system under test, copied into --json")
	fs.StringVar(&cfg.label, "label", "", "name of this run, copied into --json (default: the workload)")
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cfg.workload, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.workload == "" && fs.NArg() > 0 {
		cfg.workload = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return nil, err
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.urls = splitList(*urls)
	for _, h := range splitList(*hosts) {
		cfg.urls = append(cfg.urls, "postgres://root@"+h+"/defaultdb?sslmode=disable")
	}
	if cfg.label == "" {
		cfg.label = cfg.workload
	}
	return cfg, cfg.validate()
}

// validate checks the options and fills in derived fields.
func (cfg *benchConfig) validate() error {
	known := false
	for _, w := range benchWorkloads {
		known = known || w == cfg.workload
	}
	mode, modeOK := queryModes[cfg.modeName]
	switch {
	case cfg.workload == "":
		return fmt.Errorf("name a workload: %s", strings.Join(benchWorkloads, ", "))
	case !known:
		return fmt.Errorf("unknown workload %q (want one of %s)", cfg.workload, strings.Join(benchWorkloads, ", "))
	case len(cfg.urls) == 0:
		return errors.New("--url or --hosts is required (postgres://user@host:port/db, comma-separated for several nodes)")
	case !modeOK:
		return fmt.Errorf("-M %q: want simple, extended or prepared", cfg.modeName)
	case cfg.clients < 1:
		return errors.New("--clients must be at least 1")
	case cfg.duration <= 0 || cfg.warmup < 0 || cfg.progress < 0 || cfg.timeout <= 0:
		return errors.New("--duration and --timeout must be positive, --warmup and --progress not negative")
	case cfg.scale < 1 || cfg.names < 1 || cfg.keys < 1 || cfg.valueSize < 0:
		return errors.New("--scale, --names and --keys must be positive, --value-size not negative")
	case cfg.readPercent < 0 || cfg.readPercent > 100:
		return errors.New("--read-percent must be between 0 and 100")
	case cfg.zipf != 0 && cfg.zipf <= 1:
		return errors.New("--zipf must be 0 (uniform) or greater than 1")
	case cfg.ranges < 0 || cfg.ranges > cfg.keys:
		return errors.New("--ranges must be between 0 and --keys")
	case cfg.ranges > 0 && (cfg.workload != "kv" || cfg.admin == ""):
		return errors.New("--ranges is for the kv workload and needs --admin (a node's --listen-addr)")
	}
	cfg.mode = mode
	return nil
}

// benchMain sets the workload up and, unless --init, runs it. It returns
// nil figures after --init.
func benchMain(ctx context.Context, cfg *benchConfig, stderr io.Writer) (*benchResult, error) {
	w := newWorkload(cfg)
	if err := setupWorkload(ctx, cfg, w, stderr); err != nil {
		return nil, err
	}
	if cfg.init {
		return nil, nil
	}
	var layout *benchTableRanges
	if cfg.ranges > 0 {
		conn, err := benchConnect(ctx, cfg, cfg.urls[0])
		if err != nil {
			return nil, err
		}
		layout, err = splitBenchTable(ctx, cfg, conn, "bench_kv", stderr)
		_ = conn.Close(context.Background())
		if err != nil {
			return nil, err
		}
	}
	clients, err := connectClients(ctx, cfg, w)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	res := runClients(ctx, cfg, clients, stderr)
	if layout != nil {
		res.Ranges = len(layout.rangeIDs)
		res.Leaseholders = benchLeaseholders(cfg, layout)
	}
	return res, nil
}

func setupWorkload(ctx context.Context, cfg *benchConfig, w workload, stderr io.Writer) error {
	conn, err := benchConnect(ctx, cfg, cfg.urls[0])
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := w.setup(ctx, conn, cfg.init, stderr); err != nil {
		return fmt.Errorf("%s setup: %w", cfg.workload, err)
	}
	return nil
}

func benchConnect(ctx context.Context, cfg *benchConfig, url string) (*pgx.Conn, error) {
	pc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", url, err)
	}
	pc.DefaultQueryExecMode = cfg.mode
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// A session's startup may be aborted with 40001 when many connect at
	// once; it is safe to retry, a few times.
	for try := 1; ; try++ {
		conn, err := pgx.ConnectConfig(ctx, pc)
		if err == nil {
			return conn, nil
		}
		if classify(err) != classSerialization || try == 10 || ctx.Err() != nil {
			return nil, fmt.Errorf("connect %s:%d: %w", pc.Host, pc.Port, err)
		}
		time.Sleep(time.Duration(try) * 20 * time.Millisecond)
	}
}

// connectClients opens one connection per client, spread over the URLs.
func connectClients(ctx context.Context, cfg *benchConfig, w workload) ([]*benchClient, error) {
	clients := make([]*benchClient, cfg.clients)
	errs := make([]error, cfg.clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newBenchClient(i, cfg, w)
			errs[i] = c.connect(ctx)
			clients[i] = c
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, c := range clients {
			c.close()
		}
		return nil, err
	}
	return clients, nil
}

// runClients runs the clients through the warm-up and the measured window,
// printing a progress line per interval, and returns the measured figures.
func runClients(ctx context.Context, cfg *benchConfig, clients []*benchClient, stderr io.Writer) *benchResult {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.loop(&stop) }()
	}
	start := time.Now()
	warm := time.NewTimer(cfg.warmup)
	defer warm.Stop()
	var tick <-chan time.Time
	var ticker *time.Ticker
	if cfg.progress > 0 {
		ticker = time.NewTicker(cfg.progress)
		defer ticker.Stop()
		tick = ticker.C
	}
	var end <-chan time.Time
	measuring, measureStart, last := cfg.warmup == 0, start, start
	if measuring {
		end = time.After(cfg.duration)
	}
	total := &benchStats{}
	for done := false; !done; {
		select {
		case now := <-tick:
			iv := harvest(clients)
			fmt.Fprintln(stderr, progressLine(now.Sub(start), now.Sub(last), iv, !measuring))
			last = now
			if measuring {
				total.merge(iv)
			}
		case <-warm.C:
			if measuring {
				break
			}
			// Drop the warm-up; report its last partial interval and count
			// progress intervals from here.
			iv, now := harvest(clients), time.Now()
			if ticker != nil {
				if now.Sub(last) > cfg.progress/10 {
					fmt.Fprintln(stderr, progressLine(now.Sub(start), now.Sub(last), iv, true))
				}
				ticker.Reset(cfg.progress)
			}
			measuring, measureStart, last = true, now, now
			end = time.After(cfg.duration)
		case <-end:
			done = true
		case <-ctx.Done():
			done = true
		}
	}
	stop.Store(true)
	measureEnd := time.Now()
	wg.Wait()
	if measuring {
		total.merge(harvest(clients))
	} else {
		measureStart = measureEnd // interrupted during the warm-up
	}
	return newBenchResult(cfg, total, measureEnd.Sub(measureStart))
}

// harvest takes what every client recorded since the last harvest.
func harvest(clients []*benchClient) *benchStats {
	iv := &benchStats{}
	for _, c := range clients {
		c.mu.Lock()
		iv.merge(&c.mu.stats)
		c.mu.stats = benchStats{lat: c.mu.stats.lat[:0]}
		c.mu.Unlock()
	}
	return iv
}

// progressLine is one line of live figures for an interval.
func progressLine(elapsed, interval time.Duration, s *benchStats, warmup bool) string {
	s.sort()
	phase := ""
	if warmup {
		phase = " (warm-up)"
	}
	tps := 0.0
	if interval > 0 {
		tps = float64(s.ok()) / interval.Seconds()
	}
	return fmt.Sprintf("%6.1fs  tps %9.1f  p50 %7.2f ms  p99 %7.2f ms  40001 %d  23505 %d  errors %d%s",
		elapsed.Seconds(), tps, ms(s.percentile(50)), ms(s.percentile(99)),
		s.n[classSerialization], s.n[classUniqueViolation], s.n[classOther], phase)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
