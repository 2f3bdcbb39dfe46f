package replica_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	testutil2 "github.com/ordodb/ordo/tests/testutil"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	pb "go.etcd.io/raft/v3/raftpb"
)

// soloHost drives a single-voter replica: Schedule wakes a loop that runs
// HandleReady; there are no peers to send to. The methods it does not
// define (snapshots) are never called on a single voter.
type soloHost struct {
	replica.Host
	sched chan struct{}
}

func (h soloHost) SendRaft(*rpcpb.RaftMessage) bool { return true }
func (h soloHost) Schedule(uint64) {
	select {
	case h.sched <- struct{}{}:
	default:
	}
}
func (h soloHost) BeginSplit(_, _ *rpcpb.RangeDescriptor) func() { return func() {} }
func (h soloHost) SnapshotApplied(*rpcpb.RangeDescriptor)        {}
func (h soloHost) ReplicaRemoved(uint64, uint64)                 {}

// startSolo loads a one-replica range on node 1 and drives it until the
// test ends; it returns once the replica leads.
func startSolo(t *testing.T, m *replica.Metrics) *replica.Replica {
	eng, err := storage.Open(storage.Config{Dir: "/db", FS: vfs.NewMem(), CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	desc := &rpcpb.RangeDescriptor{RangeId: 2, StartKey: []byte{0x04}, EndKey: []byte{0xff, 0xff},
		Replicas: []*rpcpb.ReplicaDescriptor{{NodeId: 1, ReplicaId: 1}}, NextReplicaId: 2}
	b := eng.NewIndexedBatch()
	if err := replica.WriteInitialState(b, desc, &pb.ConfState{Voters: []uint64{1}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b, true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	h := soloHost{sched: make(chan struct{}, 1)}
	r, err := replica.Load(replica.Config{NodeID: 1, Engine: eng, Host: h, Metrics: m}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-h.sched:
			case <-tick.C:
			}
			if err := r.HandleReady(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	t.Cleanup(func() { close(done); <-stopped; r.Destroy(); _ = eng.Close() })
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	h.Schedule(2)
	testutil2.SucceedsSoon(t, func() error {
		if !r.IsLeaseholder() {
			return fmt.Errorf("not leader yet")
		}
		return nil
	})
	return r
}

// TestRaftMetrics: a write is one proposal whose commit latency is
// observed; winning the election is one leader change; the log holds it.
func TestRaftMetrics(t *testing.T) {
	m := replica.NewMetrics()
	r := startSolo(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, k := range []string{"a", "b"} {
		if _, err := r.Send(ctx, []*rpcpb.Op{{Kind: rpcpb.Op_PUT, Key: []byte(k), Value: []byte("v")}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(m.Proposals); got != 2 {
		t.Errorf("proposals = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.LeaderChanges); got != 1 {
		t.Errorf("leader changes = %v, want 1", got)
	}
	if got := sampleCount(t, m.CommitLatency); got != 2 {
		t.Errorf("commit latencies observed = %v, want 2", got)
	}
	if n := r.LogEntries(); n < 3 {
		t.Errorf("log entries = %d, want the leader's empty entry and two writes", n)
	}
}

// TestLockWaitMetrics: a lock request queued behind another transaction
// is one lock wait, its time observed once the holder aborts.
func TestLockWaitMetrics(t *testing.T) {
	m := replica.NewMetrics()
	r := startSolo(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	older := &rpcpb.TxnMeta{Id: 1, PriorityStart: 1}
	younger := &rpcpb.TxnMeta{Id: 2, PriorityStart: 2}
	put := func(meta *rpcpb.TxnMeta) error {
		_, err := r.Txn(ctx, &rpcpb.TxnRequest{RangeId: 2, Txn: meta, Kind: rpcpb.TxnRequest_OPS,
			Ops: []*rpcpb.Op{{Kind: rpcpb.Op_PUT, Key: []byte("k"), Value: []byte("v")}}})
		return err
	}
	testutil2.SucceedsSoon(t, func() error { return put(older) }) // once the lease is active
	if got := testutil.ToFloat64(m.LockWaits); got != 0 {
		t.Fatalf("lock waits = %v before any conflict", got)
	}
	waited := make(chan error, 1)
	go func() { waited <- put(younger) }() // younger waits for the older holder
	testutil2.SucceedsSoon(t, func() error {
		if r.LockWaits() == "" || !strings.Contains(r.LockWaits(), "wait") {
			return fmt.Errorf("no waiter yet: %q", r.LockWaits())
		}
		return nil
	})
	if _, err := r.Txn(ctx, &rpcpb.TxnRequest{RangeId: 2, Txn: older, Kind: rpcpb.TxnRequest_ABORT}); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("the waiter was not granted: %v", err)
	}
	if got := testutil.ToFloat64(m.LockWaits); got != 1 {
		t.Errorf("lock waits = %v, want 1", got)
	}
	if got := sampleCount(t, m.LockWaitTime); got != 1 {
		t.Errorf("lock wait times observed = %v, want 1", got)
	}
}

func sampleCount(t *testing.T, h prometheus.Histogram) uint64 {
	var m dto.Metric
	if err := h.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
