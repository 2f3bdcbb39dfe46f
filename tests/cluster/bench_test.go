package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/txn"
)

// runLoad runs fn from clients goroutines for d and reports throughput and
// latency percentiles.
func runLoad(b *testing.B, clients int, d time.Duration, fn func(ctx context.Context, client int, rng *rand.Rand) error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	start := time.Now()
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cl), 3))
			var mine []time.Duration
			bad := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := fn(context.Background(), cl, rng); err != nil {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat, errs = append(lat, mine...), errs+bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "txn/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(errs), "errors")
}

// BenchmarkTxn measures read-modify-write transactions on one range and on
// four ranges whose leases are spread over a 3-node cluster, at 1 and 32
// clients. Run: go test -run XXX -bench Txn -benchtime 1x ./tests/cluster/
func BenchmarkTxn(b *testing.B) {
	for _, ranges := range []int{1, 4} {
		for _, clients := range []int{1, 32} {
			b.Run(fmt.Sprintf("ranges=%d/clients=%d", ranges, clients), func(b *testing.B) {
				c := StartInProcess(b, 3)
				prefixes := []string{"t0/"}
				if ranges == 4 {
					prefixes = []string{"t0/", "t1/", "t2/", "t3/"}
					for _, p := range prefixes[1:] {
						c.splitAt(b, p)
					}
					c.spreadLeases(b, prefixes...)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					runLoad(b, clients, 5*time.Second, func(ctx context.Context, cl int, rng *rand.Rand) error {
						return c.Node(cl%3).Txns().Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
							for _, p := range prefixes {
								k := []byte(fmt.Sprintf("%s%04d", p, rng.IntN(1000)))
								v, _, err := tx.Get(ctx, k, txn.LockExclusive)
								if err != nil {
									return err
								}
								if err := tx.Put(ctx, k, append(v[:len(v):len(v)], 'x')[:min(len(v)+1, 64)]); err != nil {
									return err
								}
							}
							return nil
						})
					})
				}
			})
		}
	}
}
