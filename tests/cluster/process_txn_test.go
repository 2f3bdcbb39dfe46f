// This file holds the list-append run over real processes with SIGKILLed
// leaseholders. It found a multi-range atomicity bug (recovery routed by a
// stale range cache; docs/transactions.md, "Routing by key") and runs in
// every `make test`; `make test-nemesis` repeats it.

package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/listappend"
	"github.com/ordodb/ordo/tests/testutil"
	"github.com/ordodb/ordo/txn"
)

// List-append over three real processes while leaseholders are SIGKILLed
// and restarted: strict serializable, no lost appends.
func TestListAppendProcessesKill(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	p := StartProcesses(t, 3)
	ctx := context.Background()
	for _, k := range []string{"la/2", "la/4", "la/6"} {
		testutil.SucceedsSoon(t, func() error {
			resp, err := p.NodeClient(0).AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: []byte(k)})
			if err == nil && resp.Error != nil {
				err = kverr.FromProto(resp.Error)
			}
			return err
		})
	}
	co, closeCo, err := txn.Dial(ctx, p.Addrs)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCo()
	start := time.Now()
	rec := history.NewRecorder(func() int64 { return int64(time.Since(start)) })
	w := &listAppend{rec: rec, keys: 10}
	runCtx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(runCtx, rand.New(rand.NewPCG(uint64(seed), uint64(i))), func(*rand.Rand) *txn.Coordinator { return co })
		}()
	}
	kills := 0
	rng := rand.New(rand.NewPCG(uint64(seed), 77))
	for runCtx.Err() == nil {
		waitFor(runCtx, 5*time.Second)
		if runCtx.Err() != nil {
			break
		}
		lh, err := leaseholderNode(runCtx, p.NodeClient(rng.IntN(3)), []byte(laKey(rng.IntN(10))))
		if err != nil {
			continue
		}
		idx := p.indexOf(t, lh)
		rec.Event(history.Op{F: "kill-leaseholder"})
		p.Kill(idx)
		kills++
		waitFor(runCtx, 2*time.Second)
		p.Start(idx)
		rec.Event(history.Op{F: "restart"})
	}
	wg.Wait()
	for i := range p.Addrs {
		p.WaitHealthy(i)
	}
	w.finalReadsWith(t, co)
	res, err := listappend.Check(rec.History(), listappend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %d kills, %d ok transactions; %s", seed, kills, w.okTxns.Load(), res.Summary())
	if !res.StrictSerializable() {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("ordo-listappend-kill-%d.jsonl", seed))
		if err := history.WriteFile(path, rec.History()); err == nil {
			t.Logf("history written to %s", path)
		}
		t.Logf("node logs kept: %v", p.KeepLogs(os.TempDir(), fmt.Sprintf("ordo-listappend-kill-%d", seed)))
		t.Logf("transaction ids of appended values: %s", w.txnIDs(os.TempDir(), seed))
		t.Fatalf("seed %d: not strict serializable:\n%s", seed, res)
	}
	if kills < 4 || w.okTxns.Load() < 100 {
		t.Fatalf("run invalid: %d kills, %d ok transactions", kills, w.okTxns.Load())
	}
}
