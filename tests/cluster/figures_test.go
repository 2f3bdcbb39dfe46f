package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
)

// BenchmarkRereplicate measures issue 3's figures on this machine: five
// processes, replication factor 3; load ORDO_FIGURES_MIB (1024) MiB of
// incompressible 1 KiB values; report the number of ranges and the
// per-node replica counts once balanced; SIGKILL one node and report how
// long, after server.time_until_dead (10 s), it takes until every range
// is back at three replicas on live nodes; and the snapshot throughput
// the senders logged. Run it with `make bench-rereplicate`.
func BenchmarkRereplicate(b *testing.B) {
	mib := 1024
	if v, err := strconv.Atoi(os.Getenv("ORDO_FIGURES_MIB")); err == nil && v > 0 {
		mib = v
	}
	b.Setenv("ORDO_NODE_LOG_LEVEL", "info")
	for n := 0; n < b.N; n++ {
		rereplicate(b, mib)
	}
}

func rereplicate(b *testing.B, mib int) {
	p := StartSQLProcesses(b, 5).Processes
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", p.SQLAddrs[0]))
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []string{
		`SET CLUSTER SETTING kv.range_split.by_load_enabled = false`,
		`SET CLUSTER SETTING server.time_until_dead = '10s'`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close(ctx)

	const valueBytes, batch, writers = 1024, 256, 4
	keys := mib << 10
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for i := w * batch; i < keys; i += writers * batch {
				req := &rpcpb.BatchRequest{}
				for j := i; j < min(i+batch, keys); j++ {
					v := make([]byte, valueBytes)
					for k := range v {
						v[k] = byte(rng.Uint32())
					}
					req.Ops = append(req.Ops, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: []byte(fmt.Sprintf("fig/%08d", j)), Value: v})
				}
				testutil.SucceedsWithin(b, 2*time.Minute, func() error {
					resp, err := p.NodeClient(w%4).Batch(ctx, req)
					if err == nil && resp.Error != nil {
						err = kverr.FromProto(resp.Error)
					}
					return err
				})
			}
		}()
	}
	wg.Wait()
	loaded := time.Since(start)
	b.Logf("loaded %d MiB (%d keys) in %v: %.1f MiB/s", mib, keys, loaded.Round(time.Second), float64(mib)/loaded.Seconds())

	// Balance: wait until the counts stop moving for 10 s.
	var last string
	stableSince := time.Now()
	testutil.SucceedsWithin(b, 10*time.Minute, func() error {
		ranges, replicas := rangeCounts(ctx, b, p)
		cur := fmt.Sprint(len(ranges), replicas)
		if cur != last {
			last, stableSince = cur, time.Now()
		}
		if time.Since(stableSince) < 10*time.Second {
			return fmt.Errorf("still moving: %s", cur)
		}
		return nil
	})
	ranges, replicas := rangeCounts(ctx, b, p)
	b.Logf("after the load: %d ranges; replicas per node %v (balanced %v after the load ended)", len(ranges), replicas, time.Since(start.Add(loaded)).Round(time.Second))
	b.ReportMetric(float64(len(ranges)), "ranges")

	victim := 4
	p.Kill(victim)
	killed := time.Now()
	testutil.SucceedsWithin(b, 15*time.Minute, func() error {
		ranges, replicas := rangeCounts(ctx, b, p)
		if replicas[uint64(victim+1)] > 0 {
			return fmt.Errorf("n%d still holds %d replicas", victim+1, replicas[uint64(victim+1)])
		}
		for _, r := range ranges {
			if len(r.Desc.Replicas) != 3 || r.UnderReplicated {
				return fmt.Errorf("range %d: %d replicas", r.Desc.RangeId, len(r.Desc.Replicas))
			}
		}
		return nil
	})
	took := time.Since(killed)
	lost := float64(mib) * 3 / 5 // the dead node's share of the replicas
	b.Logf("n%d killed: every range back at 3 live replicas after %v (%v after time_until_dead); about %.0f MiB re-replicated",
		victim+1, took.Round(time.Second), (took - 10*time.Second).Round(time.Second), lost)
	b.ReportMetric((took - 10*time.Second).Seconds(), "s-rereplicate")

	// Snapshot throughput, as the senders logged it.
	re := regexp.MustCompile(`msg="snapshot sent".* bytes=(\d+) took=(\S+)`)
	var rates []float64
	var total int64
	var busy time.Duration
	for i := range p.Dirs {
		data, _ := os.ReadFile(server.StoreDirLog(p.Dirs[i]))
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			d, err := time.ParseDuration(m[2])
			if err != nil || n < 1<<20 {
				continue
			}
			total += n
			busy += d
			rates = append(rates, float64(n)/(1<<20)/d.Seconds())
		}
	}
	if len(rates) > 0 {
		sort.Float64s(rates)
		b.Logf("%d snapshots of 1 MiB or more: median %.1f MiB/s each; %.0f MiB in %v of sending (%.1f MiB/s)",
			len(rates), rates[len(rates)/2], float64(total)/(1<<20), busy.Round(time.Second), float64(total)/(1<<20)/busy.Seconds())
		b.ReportMetric(rates[len(rates)/2], "MiB/s-snapshot")
	}
}

// rangeCounts lists the ranges and the replicas per node, from node 0.
func rangeCounts(ctx context.Context, b testing.TB, p *Processes) ([]*rpcpb.RangeInfo, map[uint64]int) {
	rl, err := p.NodeClient(0).RangeList(ctx, &rpcpb.RangeListRequest{})
	if err != nil {
		b.Fatal(err)
	}
	replicas := map[uint64]int{}
	for _, r := range rl.Ranges {
		for _, rep := range r.Desc.Replicas {
			replicas[rep.NodeId]++
		}
	}
	return rl.Ranges, replicas
}
