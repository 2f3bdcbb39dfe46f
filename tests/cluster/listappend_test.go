package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/listappend"
	"github.com/ordodb/ordo/tests/testutil"
	"github.com/ordodb/ordo/txn"
)

// listAppend runs list-append transactions over ordo's KV transactions: each
// key holds a list of int64; an append reads it under an exclusive lock and
// writes it back longer.
type listAppend struct {
	c      *InProcess
	rec    *history.Recorder
	keys   int
	nextV  atomic.Int64
	okTxns atomic.Int64
	ids    sync.Map // appended value -> id of the transaction attempts that wrote it
}

// txnIDs writes, for a failed run's analysis, which transaction attempts
// appended each value, and returns the file's path.
func (w *listAppend) txnIDs(dir string, seed int64) string {
	var b strings.Builder
	w.ids.Range(func(k, v any) bool {
		fmt.Fprintf(&b, "%d %v\n", k, v)
		return true
	})
	path := filepath.Join(dir, fmt.Sprintf("ordo-listappend-kill-%d-txnids.txt", seed))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err.Error()
	}
	return path
}

func laKey(k int) string { return fmt.Sprintf("la/%d", k) }

func decodeList(b []byte) []int64 {
	out := make([]int64, 0, len(b)/8)
	for ; len(b) >= 8; b = b[8:] {
		out = append(out, int64(binary.BigEndian.Uint64(b)))
	}
	return out
}

func (w *listAppend) client(ctx context.Context, id int, rng *rand.Rand) {
	w.run(ctx, rng, func(rng *rand.Rand) *txn.Coordinator {
		if n := w.c.Node(rng.IntN(len(w.c.Addrs))); n != nil {
			return n.Txns()
		}
		return nil
	})
}

// run issues transactions until ctx ends, each through the coordinator
// pick returns (nil: the chosen node is down; the attempt fails).
func (w *listAppend) run(ctx context.Context, rng *rand.Rand, pick func(*rand.Rand) *txn.Coordinator) {
	process := w.rec.NewProcess()
	for ctx.Err() == nil {
		mops := w.genMops(rng)
		op := w.rec.Invoke(process, history.Op{F: history.FTxn, Mops: mops})
		co := pick(rng)
		if co == nil {
			process = w.rec.Complete(op, history.Fail)
			continue
		}
		opCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		var done []history.Mop
		err := co.Run(opCtx, func(ctx context.Context, t *txn.Txn) error {
			for _, m := range mops {
				if m.F == history.FAppend {
					prev, _ := w.ids.Load(m.Val)
					w.ids.Store(m.Val, fmt.Sprintf("%v %d", prev, t.ID()))
				}
			}
			var err error
			done, err = runMops(ctx, t, mops)
			return err
		})
		cancel()
		op.Mops = done
		switch {
		case err == nil:
			w.okTxns.Add(1)
			process = w.rec.Complete(op, history.Ok)
		case kverr.IsAmbiguous(err):
			op.Mops, op.Error = mops, err.Error()
			process = w.rec.Complete(op, history.Info)
		default:
			op.Mops, op.Error = mops, err.Error()
			process = w.rec.Complete(op, history.Fail)
		}
	}
}

func (w *listAppend) genMops(rng *rand.Rand) []history.Mop {
	n := 1 + rng.IntN(4)
	mops := make([]history.Mop, n)
	for i := range mops {
		k := laKey(rng.IntN(w.keys))
		if rng.IntN(2) == 0 {
			mops[i] = history.Read(k)
		} else {
			mops[i] = history.Append(k, w.nextV.Add(1))
		}
	}
	return mops
}

// runMops executes the micro-ops and returns them with what reads saw.
func runMops(ctx context.Context, t *txn.Txn, mops []history.Mop) ([]history.Mop, error) {
	out := make([]history.Mop, len(mops))
	for i, m := range mops {
		lock := txn.LockShared
		if m.F == history.FAppend {
			lock = txn.LockExclusive
		}
		v, _, err := t.Get(ctx, []byte(m.Key), lock)
		if err != nil {
			return nil, err
		}
		if m.F == history.FRead {
			out[i] = history.Read(m.Key, decodeList(v)...)
			continue
		}
		if err := t.Put(ctx, []byte(m.Key), binary.BigEndian.AppendUint64(v, uint64(m.Val))); err != nil {
			return nil, err
		}
		out[i] = m
	}
	return out, nil
}

// finalReads reads every key once the faults are healed.
func (w *listAppend) finalReads(t *testing.T) { w.finalReadsWith(t, w.c.Node(0).Txns()) }

// finalReadsWith reads every key through co, retrying until it answers.
func (w *listAppend) finalReadsWith(t *testing.T, co *txn.Coordinator) {
	process := w.rec.NewProcess()
	for k := 0; k < w.keys; k++ {
		var got []int64
		op := w.rec.Invoke(process, history.Op{F: history.FTxn, Mops: []history.Mop{history.Read(laKey(k))}})
		err := testutil.Retry(30*time.Second, func() error {
			return co.Run(context.Background(), func(ctx context.Context, t *txn.Txn) error {
				v, _, err := t.Get(ctx, []byte(laKey(k)), txn.LockShared)
				got = decodeList(v)
				return err
			})
		})
		if err != nil {
			t.Fatalf("final read of %s: %v", laKey(k), err)
		}
		op.Mops = []history.Mop{history.Read(laKey(k), got...)}
		process = w.rec.Complete(op, history.Ok)
	}
}

func TestListAppendUnderFaults(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	c := StartInProcess(t, 3)
	c.splitAt(t, "la/2", "la/4", "la/6")
	c.spreadLeases(t, "la/0", "la/2", "la/4", "la/6")
	start := time.Now()
	w := &listAppend{c: c, rec: history.NewRecorder(func() int64 { return int64(time.Since(start)) }), keys: 10}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.client(ctx, i, rand.New(rand.NewPCG(uint64(seed), uint64(i))))
		}()
	}
	faults := nemesis(ctx, t, c, w.rec, rand.New(rand.NewPCG(uint64(seed), 99)), func(rng *rand.Rand) string { return laKey(rng.IntN(w.keys)) })
	wg.Wait()
	if faults < 10 {
		t.Fatalf("seed %d: the nemesis fired only %d times; the run proves nothing", seed, faults)
	}
	w.finalReads(t)
	ops := w.rec.History()
	res, err := listappend.Check(ops, listappend.Config{})
	if err != nil {
		t.Fatalf("seed %d: malformed history: %v", seed, err)
	}
	t.Logf("seed %d: %d faults, %d ok transactions; %s", seed, faults, w.okTxns.Load(), res.Summary())
	if !res.StrictSerializable() {
		t.Fatalf("seed %d: not strict serializable:\n%s", seed, res)
	}
	if w.okTxns.Load() < 200 {
		t.Fatalf("only %d transactions committed", w.okTxns.Load())
	}
	testutil.SucceedsSoon(t, c.settled)
}

// nemesis partitions leaseholders, stops and restarts nodes and moves
// leases until ctx ends, then heals everything.
func nemesis(ctx context.Context, t *testing.T, c *InProcess, rec *history.Recorder, rng *rand.Rand, pick func(*rand.Rand) string) int {
	event := func(f string) { rec.Event(history.Op{F: f}) }
	faults := 0
	for ctx.Err() == nil {
		waitFor(ctx, 2*time.Second)
		if ctx.Err() != nil {
			break
		}
		key := pick(rng)
		lh, rangeID, ok := c.leaseholderOf([]byte(key))
		if !ok {
			continue
		}
		faults++
		switch rng.IntN(3) {
		case 0:
			event(fmt.Sprintf("isolate-n%d", lh+1))
			c.Isolate(uint64(lh+1), true)
			waitFor(ctx, 3*time.Second)
			c.Isolate(uint64(lh+1), false)
			event("heal")
		case 1:
			event(fmt.Sprintf("stop-n%d", lh+1))
			c.StopNode(lh)
			waitFor(ctx, 2*time.Second)
			c.Start(lh)
			event(fmt.Sprintf("restart-n%d", lh+1))
		case 2:
			target := uint64((lh+1)%len(c.Addrs) + 1)
			event(fmt.Sprintf("transfer-r%d-n%d", rangeID, target))
			_, _ = c.NodeClient(lh).TransferLease(ctx, &rpcpb.TransferLeaseRequest{RangeId: rangeID, TargetNodeId: target})
		}
	}
	for i := range c.Addrs {
		c.Isolate(uint64(i+1), false)
		if c.Node(i) == nil {
			c.Start(i)
		}
	}
	return faults
}
