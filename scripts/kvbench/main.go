// Command kvbench drives a KV load against ordo or etcd with one shared loop,
// so the two are compared with the same clients, keys and values.
//
//	kvbench --target ordo --endpoints 127.0.0.1:26257 --op put --clients 16
//	kvbench --target etcd --endpoints 127.0.0.1:2379 --op get --clients 16 --json
//
// Each of --clients workers runs put(key, value) or get(key) back to back on a
// uniformly random key out of --keys, which are pre-loaded before the warm-up.
// Gets are linearizable on both targets: ordo reads at the leaseholder after a
// ReadIndex round; etcd uses clientv3's default (linearizable, not serializable).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ordodb/ordo/kv"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// target is all the loop knows about a system under test.
type target interface {
	put(ctx context.Context, key, value []byte) error
	get(ctx context.Context, key []byte) error
	close()
}

type ordoTarget struct {
	db      *kv.DB
	closeFn func()
}

func (o *ordoTarget) put(ctx context.Context, key, value []byte) error {
	return o.db.Put(ctx, key, value)
}

func (o *ordoTarget) get(ctx context.Context, key []byte) error {
	_, found, err := o.db.Get(ctx, key)
	if err == nil && !found {
		return errNotFound
	}
	return err
}

func (o *ordoTarget) close() { o.closeFn() }

type etcdTarget struct{ c *clientv3.Client }

func (e *etcdTarget) put(ctx context.Context, key, value []byte) error {
	_, err := e.c.Put(ctx, string(key), string(value))
	return err
}

func (e *etcdTarget) get(ctx context.Context, key []byte) error {
	resp, err := e.c.Get(ctx, string(key)) // linearizable: the clientv3 default
	if err == nil && len(resp.Kvs) == 0 {
		return errNotFound
	}
	return err
}

func (e *etcdTarget) close() { _ = e.c.Close() }

var errNotFound = errors.New("key not found")

func dial(ctx context.Context, name string, endpoints []string, leaderOnly bool) (target, error) {
	switch name {
	case "ordo":
		// kv.Dial learns the layout and routes each request to the leaseholder.
		db, closeFn, err := kv.Dial(ctx, endpoints)
		if err != nil {
			return nil, err
		}
		return &ordoTarget{db: db, closeFn: closeFn}, nil
	case "etcd":
		cfg := clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
		c, err := clientv3.New(cfg)
		if err != nil {
			return nil, err
		}
		if !leaderOnly {
			return &etcdTarget{c: c}, nil
		}
		// Talk to the leader only, as ordo's client talks to the leaseholder:
		// no forwarding hop for puts, no extra round for reads.
		leader := ""
		for _, ep := range endpoints {
			st, err := c.Status(ctx, ep)
			if err == nil && st.Header.MemberId == st.Leader {
				leader = ep
				break
			}
		}
		_ = c.Close()
		if leader == "" {
			return nil, fmt.Errorf("etcd: no leader among %v", endpoints)
		}
		cfg.Endpoints = []string{leader}
		c, err = clientv3.New(cfg)
		if err != nil {
			return nil, err
		}
		return &etcdTarget{c: c}, nil
	}
	return nil, fmt.Errorf("unknown target %q (want ordo or etcd)", name)
}

// result is what --json prints.
type result struct {
	Target    string  `json:"target"`
	Op        string  `json:"op"`
	Clients   int     `json:"clients"`
	ValueSize int     `json:"value_size"`
	Keys      int     `json:"keys"`
	Seconds   float64 `json:"seconds"`
	Ops       int64   `json:"ops"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	P999Ms    float64 `json:"p999_ms"`
	Errors    int64   `json:"errors"`
	FirstErr  string  `json:"first_error,omitempty"`
	// Block-device flush and write requests per second over the measured
	// window, machine-wide (/proc/diskstats): roughly the fsyncs the cluster
	// under test issues, since the other cluster idles meanwhile.
	DiskFlushesPerSec float64 `json:"disk_flushes_per_sec"`
	DiskWritesPerSec  float64 `json:"disk_writes_per_sec"`
	// CPU the load generator itself used over the window, in cores.
	ClientCPUCores float64 `json:"client_cpu_cores"`
	// With --label, the fields ordo bench report reads (scripts/bench.sh
	// puts these runs in its table): the label, the workload ("kv-put",
	// "kv-get"), ops as txns and tps, errors as other_errors.
	Label       string  `json:"label,omitempty"`
	Workload    string  `json:"workload,omitempty"`
	Txns        int64   `json:"txns,omitempty"`
	TPS         float64 `json:"tps,omitempty"`
	OtherErrors int64   `json:"other_errors,omitempty"`
}

func key(i int) []byte { return fmt.Appendf(nil, "kvbench/%08d", i) }

func main() {
	var (
		targetName = flag.String("target", "ordo", "ordo or etcd")
		endpoints  = flag.String("endpoints", "127.0.0.1:26257", "comma-separated: ordo --listen-addr values, or etcd client URLs/host:port")
		clients    = flag.Int("clients", 1, "concurrent workers")
		duration   = flag.Duration("duration", 10*time.Second, "measured time")
		warmup     = flag.Duration("warmup", 3*time.Second, "unmeasured time before it")
		op         = flag.String("op", "put", "put or get")
		valueSize  = flag.Int("value-size", 256, "bytes per value")
		nkeys      = flag.Int("keys", 10000, "key space size (pre-loaded)")
		preload    = flag.Bool("preload", true, "write every key once before the warm-up")
		leaderOnly = flag.Bool("etcd-leader-only", true, "etcd: send every request to the leader (as ordo's client does to the leaseholder)")
		timeout    = flag.Duration("op-timeout", 5*time.Second, "per-request timeout")
		jsonOut    = flag.Bool("json", false, "print one JSON object instead of text")
		label      = flag.String("label", "", "--json: also the fields of ordo bench report, under this label")
		name       = flag.String("name", "", "--json: the target's name in the output (default: --target)")
	)
	preloadOnly := flag.Bool("preload-only", false, "only pre-load the keys, then exit")
	if len(os.Args) > 1 && os.Args[1] == "report" {
		report(os.Args[2:])
		return
	}
	flag.Parse()
	if *op != "put" && *op != "get" {
		fatalf("--op must be put or get")
	}
	if *clients < 1 || *nkeys < 1 || *valueSize < 0 {
		fatalf("--clients and --keys must be positive, --value-size non-negative")
	}

	ctx := context.Background()
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	t, err := dial(dctx, *targetName, strings.Split(*endpoints, ","), *leaderOnly)
	cancel()
	if err != nil {
		fatalf("dial %s: %v", *targetName, err)
	}
	defer t.close()

	value := make([]byte, *valueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	if *preload {
		if err := load(ctx, t, *nkeys, value, max(*clients, 16), *timeout); err != nil {
			fatalf("preload: %v", err)
		}
	}
	if *preloadOnly {
		return
	}

	res := run(ctx, t, *op, *clients, *nkeys, value, *warmup, *duration, *timeout)
	res.Target, res.Op, res.Clients, res.ValueSize, res.Keys = *targetName, *op, *clients, *valueSize, *nkeys
	if *name != "" {
		res.Target = *name
	}
	if *label != "" {
		res.Label, res.Workload, res.Txns, res.TPS, res.OtherErrors = *label, "kv-"+*op, res.Ops, res.OpsPerSec, res.Errors
	}
	if *jsonOut {
		_ = json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	fmt.Printf("%s %s clients=%d value=%dB keys=%d: %.0f ops/s  p50 %.2fms  p99 %.2fms  p99.9 %.2fms  errors %d  disk flushes/s %.0f\n",
		res.Target, res.Op, res.Clients, res.ValueSize, res.Keys, res.OpsPerSec, res.P50Ms, res.P99Ms, res.P999Ms, res.Errors, res.DiskFlushesPerSec)
	if res.FirstErr != "" {
		fmt.Printf("first error: %s\n", res.FirstErr)
	}
}

// load writes every key once, with n workers.
func load(ctx context.Context, t target, nkeys int, value []byte, n int, timeout time.Duration) error {
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= nkeys {
					return
				}
				var err error
				for try := 0; try < 5; try++ { // a fresh cluster may still be settling
					c, cancel := context.WithTimeout(ctx, timeout)
					err = t.put(c, key(i), value)
					cancel()
					if err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("key %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// run is the one loop both targets go through.
func run(ctx context.Context, t target, op string, clients, nkeys int, value []byte,
	warmup, duration, timeout time.Duration) result {
	keys := make([][]byte, nkeys)
	for i := range keys {
		keys[i] = key(i)
	}
	var measuring atomic.Bool
	var stop atomic.Bool
	var errs atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	for w := range clients {
		lats[w] = make([]time.Duration, 0, 1<<16)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w)+1, 42))
			for !stop.Load() {
				k := keys[rng.IntN(nkeys)]
				c, cancel := context.WithTimeout(ctx, timeout)
				start := time.Now()
				var err error
				if op == "put" {
					err = t.put(c, k, value)
				} else {
					err = t.get(c, k)
				}
				d := time.Since(start)
				cancel()
				if !measuring.Load() {
					continue
				}
				if err != nil {
					if errs.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				lats[w] = append(lats[w], d)
			}
		})
	}
	time.Sleep(warmup)
	measuring.Store(true)
	begin := time.Now()
	disk0 := readDiskStats()
	cpu0 := cpuTime()
	time.Sleep(duration)
	measuring.Store(false)
	elapsed := time.Since(begin)
	disk1 := readDiskStats()
	cpu1 := cpuTime()
	stop.Store(true)
	wg.Wait()

	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return float64(all[i].Microseconds()) / 1000
	}
	r := result{
		Seconds:   elapsed.Seconds(),
		Ops:       int64(len(all)),
		OpsPerSec: float64(len(all)) / elapsed.Seconds(),
		P50Ms:     pct(0.50),
		P99Ms:     pct(0.99),
		P999Ms:    pct(0.999),
		Errors:    errs.Load(),
	}
	r.ClientCPUCores = (cpu1 - cpu0).Seconds() / elapsed.Seconds()
	if disk0.ok && disk1.ok {
		r.DiskFlushesPerSec = float64(disk1.flushes-disk0.flushes) / elapsed.Seconds()
		r.DiskWritesPerSec = float64(disk1.writes-disk0.writes) / elapsed.Seconds()
	}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstErr = s
	}
	return r
}

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kvbench: "+format+"\n", args...)
	os.Exit(1)
}
