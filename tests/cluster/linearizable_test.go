package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/checker/register"
	"github.com/ordodb/ordo/tests/testutil"
)

// registerWorkload runs clients doing get/put/cas on rotating keys and
// records a history for porcupine.
type registerWorkload struct {
	c       *InProcess
	rec     *history.Recorder
	slots   int
	perKey  int64
	gens    []atomic.Int64
	counts  []atomic.Int64
	written atomic.Int64
}

// newRegisterWorkload returns the workload over c: 20 key slots, each
// moving to a fresh key after 150 operations.
func newRegisterWorkload(c *InProcess) *registerWorkload {
	start := time.Now()
	return &registerWorkload{
		c:      c,
		rec:    history.NewRecorder(func() int64 { return int64(time.Since(start)) }),
		slots:  20,
		perKey: 150,
		gens:   make([]atomic.Int64, 20),
		counts: make([]atomic.Int64, 20),
	}
}

func (w *registerWorkload) key(slot int) string {
	g := w.gens[slot].Load()
	if w.counts[slot].Add(1) > w.perKey {
		w.gens[slot].CompareAndSwap(g, g+1)
		w.counts[slot].Store(0)
		g = w.gens[slot].Load()
	}
	return fmt.Sprintf("reg/%02d/%d", slot, g)
}

func (w *registerWorkload) client(ctx context.Context, id int, rng *rand.Rand) {
	process := w.rec.NewProcess()
	seq := 0
	for ctx.Err() == nil {
		node := rng.IntN(len(w.c.Addrs))
		slot := rng.IntN(w.slots)
		k := w.key(slot)
		seq++
		val := fmt.Sprintf("c%d-%d", id, seq)
		op := history.Op{Key: k}
		req := &rpcpb.Op{Key: []byte(k)}
		switch p := rng.IntN(4); {
		case p < 2:
			op.F, req.Kind = history.FRead, rpcpb.Op_GET
		case p == 2:
			op.F, req.Kind, op.Value, req.Value = history.FWrite, rpcpb.Op_PUT, val, []byte(val)
		default:
			exp := fmt.Sprintf("c%d-%d", rng.IntN(8), rng.IntN(seq+1))
			op.F, req.Kind, req.Kind = history.FCAS, rpcpb.Op_CAS, rpcpb.Op_CAS
			op.Value, op.Expected, req.Value, req.Expected = val, exp, []byte(val), []byte(exp)
		}
		op = w.rec.Invoke(process, op)
		opCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		res, err := w.c.Client(node).Do(opCtx, req)
		cancel()
		process = w.rec.Complete(w.result(op, res, err))
	}
}

func (w *registerWorkload) result(op history.Op, res *rpcpb.OpResult, err error) (history.Op, history.Status) {
	if err != nil {
		op.Error = err.Error()
		if op.F == history.FRead || definiteFailure(err) {
			return op, history.Fail
		}
		return op, history.Info
	}
	switch op.F {
	case history.FRead:
		op.Exists, op.Value = res.Found, string(res.Value)
	case history.FCAS:
		op.Swapped = res.Swapped
	}
	w.written.Add(1)
	return op, history.Ok
}

// definiteFailure reports errors that prove a write was not applied.
func definiteFailure(err error) bool {
	var nl *kverr.NotLeaseholderError
	var km *kverr.RangeKeyMismatchError
	var nf *kverr.RangeNotFoundError
	return errors.As(err, &nl) || errors.As(err, &km) || errors.As(err, &nf) || errors.Is(err, kverr.ErrBadRequest)
}

// leaseholderOf returns the index of the node leading the range holding key.
func (c *InProcess) leaseholderOf(key []byte) (int, uint64, bool) {
	for i := range c.Addrs {
		n := c.Node(i)
		if n == nil || n.Store() == nil {
			continue
		}
		if r := n.Store().LookupReplica(key); r != nil && r.IsLeaseholder() {
			return i, r.RangeID(), true
		}
	}
	return 0, 0, false
}

// waitFor waits for d or for ctx to end.
func waitFor(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func TestLinearizableUnderFaults(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	c := StartInProcess(t, 3)
	w := newRegisterWorkload(c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w.client(ctx, i, rand.New(rand.NewPCG(uint64(seed), uint64(i))))
		}(i)
	}
	key := []byte("reg/")
	event := func(f string) { w.rec.Event(history.Op{F: f}) }

	// (a) Partition the leaseholder from its peers; clients still reach it.
	waitFor(ctx, 2*time.Second)
	if lh, _, ok := c.leaseholderOf(key); ok {
		event(fmt.Sprintf("isolate-n%d", lh+1))
		c.Isolate(uint64(lh+1), true)
		waitFor(ctx, 3*time.Second)
		c.Isolate(uint64(lh+1), false)
		event("heal")
	} else {
		t.Error("no leaseholder before the partition")
	}
	// (b) Stop a node and restart it on the same store.
	waitFor(ctx, 2*time.Second)
	victim := 0
	if lh, _, ok := c.leaseholderOf(key); ok {
		victim = lh
	}
	event(fmt.Sprintf("stop-n%d", victim+1))
	c.StopNode(victim)
	waitFor(ctx, 2*time.Second)
	c.Start(victim)
	event(fmt.Sprintf("restart-n%d", victim+1))
	// (c) Transfer leadership to another node.
	waitFor(ctx, 3*time.Second)
	if lh, rangeID, ok := c.leaseholderOf(key); ok {
		target := uint64((lh+1)%3 + 1)
		event(fmt.Sprintf("transfer-r%d-to-n%d", rangeID, target))
		resp, err := c.NodeClient(lh).TransferLease(ctx, &rpcpb.TransferLeaseRequest{RangeId: rangeID, TargetNodeId: target})
		if err != nil || resp.Error != nil {
			t.Errorf("transfer lease: %v %v", err, resp.GetError())
		}
	}
	wg.Wait()

	ops := w.rec.History()
	t.Logf("%d ops, %d ok", len(ops), w.written.Load())
	if w.written.Load() < 200 {
		t.Fatalf("only %d operations succeeded: the cluster was not serving", w.written.Load())
	}
	if _, err := register.CheckHistory(ops, 60*time.Second, ""); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	c.waitReplicasAgree(t, key)
}

// waitReplicasAgree waits until every replica of the range holding key has
// the same checksum at the same applied index.
func (c *InProcess) waitReplicasAgree(t *testing.T, key []byte) {
	t.Helper()
	testutil.SucceedsSoon(t, func() error {
		_, rangeID, ok := c.leaseholderOf(key)
		if !ok {
			return fmt.Errorf("no leaseholder")
		}
		var first *rpcpb.ChecksumResponse
		for i := range c.Addrs {
			resp, err := c.NodeClient(i).Checksum(context.Background(), &rpcpb.ChecksumRequest{RangeId: rangeID})
			if err != nil || resp.Error != nil {
				return fmt.Errorf("node %d: %v %v", i+1, err, resp.GetError())
			}
			if first == nil {
				first = resp
				continue
			}
			if resp.AppliedIndex != first.AppliedIndex || string(resp.Checksum) != string(first.Checksum) {
				var infos []string
				for j := range c.Addrs {
					lr, _ := c.NodeClient(j).LocalRanges(context.Background(), &rpcpb.LocalRangesRequest{})
					for _, ri := range lr.GetRanges() {
						if ri.Desc.GetRangeId() == rangeID {
							infos = append(infos, fmt.Sprintf("n%d:%s term=%d commit=%d applied=%d lead=%d", j+1, ri.RaftState, ri.Term, ri.CommitIndex, ri.AppliedIndex, ri.LeaderReplicaId))
						}
					}
				}
				return fmt.Errorf("range %d: node %d at %d differs from node 1 at %d: %v", rangeID, i+1, resp.AppliedIndex, first.AppliedIndex, infos)
			}
		}
		return nil
	})
}

var _ = keys.Pretty
