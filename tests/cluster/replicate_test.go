package cluster

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/register"
	"github.com/ordodb/ordo/tests/testutil"
)

// fastLiveness makes nodes suspect after 1 s of silence and dead after 3 s,
// so replica replacement is tested in seconds.
func fastLiveness(_ int, cfg *server.Config) {
	cfg.HeartbeatInterval = 250 * time.Millisecond
	cfg.SuspectAfter = time.Second
	cfg.TimeUntilDead = 3 * time.Second
	cfg.ReplicateInterval = 200 * time.Millisecond
	cfg.ReplicaGCInterval = time.Second
}

// rangeCheck describes, from node i's meta, the ranges not at 3 voters on
// the live nodes, and returns per-node replica counts.
func (c *InProcess) rangesOn(t *testing.T, i int) ([]*rpcpb.RangeInfo, map[uint64]int, map[uint64]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rl, err := c.NodeClient(i).RangeList(ctx, &rpcpb.RangeListRequest{})
	if err != nil {
		return nil, nil, nil
	}
	replicas, leases := map[uint64]int{}, map[uint64]int{}
	for _, r := range rl.Ranges {
		for _, rep := range r.Desc.Replicas {
			replicas[rep.NodeId]++
		}
		if r.IsLeaseholder {
			leases[r.NodeId]++
		}
	}
	return rl.Ranges, replicas, leases
}

// writeKeys writes n keys through node i and returns them.
func (c *InProcess) writeKeys(t *testing.T, i int, prefix string, n int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k := 0; k < n; k++ {
		key, val := fmt.Sprintf("%s/%04d", prefix, k), fmt.Sprintf("v%d", k)
		testutil.SucceedsSoon(t, func() error { return c.DB(i).Put(context.Background(), []byte(key), []byte(val)) })
		out[key] = val
	}
	return out
}

func (c *InProcess) checkKeys(t *testing.T, i int, want map[string]string) {
	t.Helper()
	for k, v := range want {
		testutil.SucceedsSoon(t, func() error {
			got, found, err := c.DB(i).Get(context.Background(), []byte(k))
			if err != nil || !found || string(got) != v {
				return fmt.Errorf("%s = %q %v %v; want %q", k, got, found, err, v)
			}
			return nil
		})
	}
}

// Five nodes, replication factor 3: a node dies, and once it has been
// silent for server.time_until_dead every range is back at three replicas
// on live nodes, with its data, and the replicas agree.
func TestReplaceDeadNode(t *testing.T) {
	c := StartInProcessWith(t, 5, func(c *InProcess) { c.Configure = fastLiveness })
	c.splitAt(t, "rd/2", "rd/4", "rd/6", "rd/8")
	want := c.writeKeys(t, 0, "rd", 100)
	// The node to kill: one holding replicas (the initial ranges are on
	// the first three nodes).
	const victim = 1
	c.StopNode(victim)
	start := time.Now()
	// Until it is replaced, the dead node's ranges are reported.
	testutil.SucceedsWithin(t, 30*time.Second, func() error {
		ranges, _, _ := c.rangesOn(t, 0)
		for _, r := range ranges {
			if r.UnderReplicated {
				return nil
			}
		}
		return fmt.Errorf("no range reported under-replicated after a node stopped")
	})
	testutil.SucceedsWithin(t, 60*time.Second, func() error {
		ranges, replicas, _ := c.rangesOn(t, 0)
		if ranges == nil {
			return fmt.Errorf("no range list")
		}
		if n := replicas[victim+1]; n > 0 {
			return fmt.Errorf("dead node n%d still holds %d replicas", victim+1, n)
		}
		for _, r := range ranges {
			if len(r.Desc.Replicas) != 3 {
				return fmt.Errorf("range %d has %d replicas", r.Desc.RangeId, len(r.Desc.Replicas))
			}
			if r.UnderReplicated || r.Unavailable {
				return fmt.Errorf("range %d is reported under-replicated or unavailable", r.Desc.RangeId)
			}
		}
		return nil
	})
	t.Logf("re-replicated after %v (time_until_dead 3s)", time.Since(start))
	c.checkKeys(t, 4, want)
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(context.Background(), c.dialer, c.Addrs[0]) })
}

// Three nodes grow to five under a write load: replica and lease counts
// converge to within the allocator's tolerance of the mean, every key
// written before and during is readable, and the replicas agree.
func TestRebalanceOnJoin(t *testing.T) {
	c := StartInProcessWith(t, 3, func(c *InProcess) { c.Configure = fastLiveness })
	c.splitAt(t, "rb/1", "rb/2", "rb/3", "rb/4", "rb/5", "rb/6", "rb/7", "rb/8")
	want := c.writeKeys(t, 0, "rb", 50)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var writes atomic.Int64
	// The writer stops before the nodes do, however the test ends.
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ctx.Err() == nil; n++ {
			key, val := fmt.Sprintf("rb/%d/load%05d", n%9, n), fmt.Sprint(n)
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.DB(0).Put(wctx, []byte(key), []byte(val))
			wcancel()
			if err == nil {
				mu.Lock()
				want[key] = val
				mu.Unlock()
				writes.Add(1)
			}
		}
	}()
	c.AddNode()
	c.AddNode()
	start := time.Now()
	testutil.SucceedsWithin(t, 90*time.Second, func() error {
		ranges, replicas, leases := c.rangesOn(t, 0)
		if ranges == nil {
			return fmt.Errorf("no range list")
		}
		mean := float64(3*len(ranges)) / 5
		for n := uint64(1); n <= 5; n++ {
			if math.Abs(float64(replicas[n])-mean) > math.Max(1, 0.05*mean)+0.5 {
				return fmt.Errorf("n%d holds %d replicas; mean %.1f (%v); learners: %s", n, replicas[n], mean, replicas, c.learnersOf(ranges))
			}
		}
		leaseMean := float64(len(ranges)) / 5
		for n := uint64(1); n <= 5; n++ {
			if math.Abs(float64(leases[n])-leaseMean) > math.Max(2, 0.05*leaseMean)+0.5 {
				return fmt.Errorf("n%d holds %d leases; mean %.1f (%v)", n, leases[n], leaseMean, leases)
			}
		}
		return nil
	})
	ranges, replicas, leases := c.rangesOn(t, 0)
	t.Logf("balanced %v after the joins, %d writes meanwhile: %d ranges, replicas per node %v, leases %v", time.Since(start), writes.Load(), len(ranges), replicas, leases)
	cancel()
	wg.Wait()
	if writes.Load() == 0 {
		t.Fatal("no write succeeded during the rebalancing")
	}
	c.checkKeys(t, 4, want)
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(context.Background(), c.dialer, c.Addrs[0]) })
}

// Decommissioning a node under a SQL write load moves every replica and
// lease off it; clients see no error; then the node is stopped and every
// row is still there.
func TestDecommissionUnderLoad(t *testing.T) {
	c := StartInProcessWith(t, 4, func(c *InProcess) { c.Configure = fastLiveness })
	ctx := context.Background()
	setup := c.pgConn(t, 0)
	if _, err := setup.Exec(ctx, `CREATE TABLE events (id INT PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const victim = 1 // node 2 holds replicas of the initial ranges
	// The load stops between inserts, so every insert's outcome is known.
	var stopped atomic.Bool
	var wg sync.WaitGroup
	var inserted atomic.Int64
	var loadErr atomic.Value
	for cl := 0; cl < 2; cl++ {
		conn := c.pgConn(t, []int{0, 2}[cl])
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := cl; !stopped.Load(); n += 2 {
				if _, err := conn.Exec(ctx, `INSERT INTO events VALUES ($1, 'x')`, n); err != nil {
					loadErr.Store(fmt.Errorf("insert %d: %w", n, err))
					return
				}
				inserted.Add(1)
			}
		}()
	}
	if _, err := c.NodeClient(0).Decommission(ctx, &rpcpb.DecommissionRequest{NodeId: victim + 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	testutil.SucceedsWithin(t, 60*time.Second, func() error {
		ranges, replicas, leases := c.rangesOn(t, 0)
		if ranges == nil {
			return fmt.Errorf("no range list")
		}
		if replicas[victim+1] > 0 || leases[victim+1] > 0 {
			return fmt.Errorf("n%d still holds %d replicas, %d leases", victim+1, replicas[victim+1], leases[victim+1])
		}
		for _, r := range ranges {
			if len(r.Desc.Replicas) != 3 {
				return fmt.Errorf("range %d has %d replicas", r.Desc.RangeId, len(r.Desc.Replicas))
			}
		}
		return nil
	})
	t.Logf("decommissioned in %v", time.Since(start))
	stopped.Store(true)
	wg.Wait()
	if err, _ := loadErr.Load().(error); err != nil {
		t.Fatalf("a client saw an error during the decommission: %v", err)
	}
	c.StopNode(victim)
	var n int64
	if err := c.pgConn(t, 3).QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n != inserted.Load() {
		t.Fatalf("after stopping the decommissioned node: %d rows, %v; want %d", n, err, inserted.Load())
	}
	t.Logf("%d rows inserted during the decommission", n)
}

// A table that grows past the range size limit is split by the split queue
// into ranges of about half that size, and every row stays readable (the
// choice of key, and small tables sharing a range: TestSizeSplitKey).
func TestSplitBySize(t *testing.T) {
	const maxBytes = 32 << 10
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.Configure = func(i int, cfg *server.Config) {
			fastLiveness(i, cfg)
			cfg.RangeMaxBytes = maxBytes
			cfg.SplitInterval = 200 * time.Millisecond
		}
	})
	ctx := context.Background()
	conn := c.pgConn(t, 0)
	for _, q := range []string{
		`CREATE TABLE small_a (id INT PRIMARY KEY, v TEXT)`,
		`CREATE TABLE small_b (id INT PRIMARY KEY, v TEXT)`,
		`INSERT INTO small_a VALUES (1, 'a'), (2, 'b')`,
		`INSERT INTO small_b VALUES (1, 'a'), (2, 'b')`,
		`CREATE TABLE big (id INT PRIMARY KEY, body TEXT NOT NULL)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	before, _, _ := c.rangesOn(t, 0)
	const rows = 3000
	for i := 0; i < rows; i += 100 {
		if _, err := conn.Exec(ctx, `INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series($1::INT, $2::INT) AS g`, i, i+99); err != nil {
			t.Fatal(err)
		}
	}
	var after []*rpcpb.RangeInfo
	testutil.SucceedsWithin(t, 60*time.Second, func() error {
		after, _, _ = c.rangesOn(t, 0)
		// ~330 KB of rows: at least 8 more ranges of at most maxBytes.
		if len(after) < len(before)+8 {
			return fmt.Errorf("%d ranges (was %d)", len(after), len(before))
		}
		return nil
	})
	t.Logf("%d ranges before the load, %d after", len(before), len(after))
	var n int
	if err := c.pgConn(t, 2).QueryRow(ctx, `SELECT count(*) FROM big`).Scan(&n); err != nil || n != rows {
		t.Fatalf("count(*) = %d, %v; want %d", n, err, rows)
	}
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(ctx, c.dialer, c.Addrs[0]) })
}

// A porcupine-checked register workload while ranges split, replicas move
// (a node is decommissioned, recommissioned, another dies and is replaced)
// and a leaseholder is killed: the history is linearizable and every range's
// replicas agree.
func TestLinearizableUnderReplicaMoves(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	c := StartInProcessWith(t, 5, func(c *InProcess) { c.Configure = fastLiveness })
	c.splitAt(t, "reg/10")
	w := newRegisterWorkload(c)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w.client(ctx, i, rand.New(rand.NewPCG(uint64(seed), uint64(i))))
		}(i)
	}
	event := func(f string) { w.rec.Event(history.Op{F: f}) }
	decommission := func(node uint64, on bool) {
		event(fmt.Sprintf("decommission-n%d=%v", node, on))
		if _, err := c.NodeClient(0).Decommission(ctx, &rpcpb.DecommissionRequest{NodeId: node, Recommission: !on}); err != nil && ctx.Err() == nil {
			t.Errorf("decommission n%d: %v", node, err)
		}
	}
	// Splits while replicas move.
	waitFor(ctx, time.Second)
	decommission(2, true)
	for _, k := range []string{"reg/05", "reg/15"} {
		event("split-" + k)
		c.splitAt(t, k)
		waitFor(ctx, 500*time.Millisecond)
	}
	waitFor(ctx, 3*time.Second)
	decommission(2, false)
	// Kill a leaseholder of the workload's keys: its replicas are replaced
	// after time_until_dead; it comes back later and its stale replicas are
	// collected.
	waitFor(ctx, 2*time.Second)
	victim := 2
	if lh, _, ok := c.leaseholderOf([]byte("reg/12")); ok && lh != 0 {
		victim = lh
	}
	event(fmt.Sprintf("stop-n%d", victim+1))
	c.StopNode(victim)
	waitFor(ctx, 6*time.Second)
	c.Start(victim)
	event(fmt.Sprintf("restart-n%d", victim+1))
	wg.Wait()

	ops := w.rec.History()
	t.Logf("%d ops, %d ok", len(ops), w.written.Load())
	if w.written.Load() < 200 {
		t.Fatalf("only %d operations succeeded: the cluster was not serving", w.written.Load())
	}
	if _, err := register.CheckHistory(ops, 60*time.Second, ""); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	testutil.SucceedsWithin(t, 60*time.Second, func() error { return ReplicasAgree(context.Background(), c.dialer, c.Addrs[0]) })
}

// A range serving more requests per second than
// kv.range_split.load_qps_threshold is split at the median of its sampled
// request keys, with no size pressure at all.
func TestSplitByLoad(t *testing.T) {
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.Configure = func(i int, cfg *server.Config) {
			fastLiveness(i, cfg)
			cfg.SplitInterval = 500 * time.Millisecond
		}
	})
	ctx := context.Background()
	want := c.writeKeys(t, 0, "ld", 100)
	before, _, _ := c.rangesOn(t, 0)
	if _, err := c.pgConn(t, 0).Exec(ctx, `SET CLUSTER SETTING kv.range_split.load_qps_threshold = 20`); err != nil {
		t.Fatal(err)
	}
	loadCtx, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	go func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for loadCtx.Err() == nil {
			_, _, _ = c.DB(rng.IntN(3)).Get(loadCtx, []byte(fmt.Sprintf("ld/%04d", rng.IntN(100))))
		}
	}()
	testutil.SucceedsWithin(t, 20*time.Second, func() error {
		after, _, _ := c.rangesOn(t, 0)
		if len(after) < len(before)+2 {
			return fmt.Errorf("%d ranges (was %d)", len(after), len(before))
		}
		return nil
	})
	stop()
	c.checkKeys(t, 1, want)
}
