package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// localTransport connects in-process stores; it can cut nodes off.
type localTransport struct {
	mu     sync.Mutex
	stores map[uint64]*Store
	cut    map[uint64]bool
	// drop, if set, drops the messages it returns true for; observe, if
	// set, sees each message delivered and what its store returned.
	drop    func(m *rpcpb.RaftMessage) bool
	observe func(m *rpcpb.RaftMessage, err error)
}

func (t *localTransport) Send(m *rpcpb.RaftMessage) bool {
	t.mu.Lock()
	dst := t.stores[m.To.NodeId]
	blocked := t.cut[m.To.NodeId] || t.cut[m.From.NodeId]
	drop, observe := t.drop, t.observe
	t.mu.Unlock()
	if dst == nil || blocked || (drop != nil && drop(m)) {
		return false
	}
	err := dst.HandleRaftMessage(m)
	if observe != nil {
		observe(m, err)
	}
	return true
}

// SendSnapshot hands the chunks to the destination store as they come,
// as the gRPC stream does.
func (t *localTransport) SendSnapshot(ctx context.Context, to uint64, stream func(send func(*rpcpb.SnapshotChunk) error) error) (*rpcpb.SnapshotResponse, error) {
	t.mu.Lock()
	dst := t.stores[to]
	blocked := t.cut[to]
	t.mu.Unlock()
	if dst == nil || blocked {
		return nil, errors.New("node unreachable")
	}
	ch := make(chan *rpcpb.SnapshotChunk)
	finished := make(chan struct{})
	var resp *rpcpb.SnapshotResponse
	var recvErr error
	go func() {
		defer close(finished)
		resp, recvErr = dst.ReceiveSnapshot(func() (*rpcpb.SnapshotChunk, error) {
			c, ok := <-ch
			if !ok {
				return nil, io.ErrUnexpectedEOF
			}
			return c, nil
		})
	}()
	err := stream(func(c *rpcpb.SnapshotChunk) error {
		select {
		case ch <- c:
			return nil
		case <-finished:
			return errors.New("receiver closed the stream")
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(ch)
	<-finished
	if recvErr != nil {
		return nil, recvErr
	}
	if err != nil && resp.GetRefused() == "" {
		return nil, err
	}
	return resp, nil
}

type testCluster struct {
	t      *testing.T
	tr     *localTransport
	stores []*Store
	fss    []vfs.FS
	// spillBytes is the stores' transaction spill threshold (0: default).
	spillBytes int64
	// rangeBytes, if set, is the stores' kv.transaction.max_range_bytes.
	rangeBytes func() int64
	// knobs, if set, gives each node's store its testing knobs.
	knobs func(node uint64) TestingKnobs
	// filters, if set, is the stores' scan filter compiler.
	filters replica.FilterCompiler
}

func userDesc(id uint64, start, end []byte, nodes int) *rpcpb.RangeDescriptor {
	d := &rpcpb.RangeDescriptor{RangeId: id, StartKey: start, EndKey: end, NextReplicaId: uint64(nodes) + 1}
	for i := 1; i <= nodes; i++ {
		d.Replicas = append(d.Replicas, &rpcpb.ReplicaDescriptor{NodeId: uint64(i), ReplicaId: uint64(i)})
	}
	return d
}

func newTestCluster(t *testing.T, nodes int) *testCluster {
	return newTestClusterSpill(t, nodes, 0)
}

// newTestClusterSpill starts a cluster whose transactions spill their
// writes at a range past spillBytes (0: the default threshold).
func newTestClusterSpill(t *testing.T, nodes int, spillBytes int64) *testCluster {
	tc := &testCluster{t: t, tr: newLocalTransport(), spillBytes: spillBytes}
	tc.start(nodes)
	return tc
}

func newLocalTransport() *localTransport {
	return &localTransport{stores: map[uint64]*Store{}, cut: map[uint64]bool{}}
}

// start starts nodes stores holding one range, 2, over the user key space.
func (tc *testCluster) start(nodes int) {
	t := tc.t
	descs := []*rpcpb.RangeDescriptor{userDesc(2, keys.UserMin, keys.MaxKey, nodes)}
	for i := 1; i <= nodes; i++ {
		fs := vfs.NewMem()
		tc.fss = append(tc.fss, fs)
		eng := tc.openEngine(fs)
		if err := WriteInitialRanges(eng, descs, nil); err != nil {
			t.Fatal(err)
		}
		tc.stores = append(tc.stores, tc.startStore(uint64(i), eng))
	}
	t.Cleanup(tc.stop)
}

func (tc *testCluster) openEngine(fs vfs.FS) *storage.Engine {
	eng, err := storage.Open(storage.Config{Dir: "/store", FS: fs, CacheBytes: 1 << 20})
	if err != nil {
		tc.t.Fatal(err)
	}
	return eng
}

func (tc *testCluster) startStore(id uint64, eng *storage.Engine) *Store {
	cfg := Config{NodeID: id, Engine: eng, Transport: tc.tr, TickInterval: 10 * time.Millisecond, LogKeep: 20}
	if n := tc.spillBytes; n > 0 {
		cfg.SpillBytes = func() int64 { return n }
	}
	cfg.TxnRangeBytes = tc.rangeBytes
	cfg.FilterCompiler = tc.filters
	if tc.knobs != nil {
		cfg.TestingKnobs = tc.knobs(id)
	}
	s := New(cfg)
	tc.tr.mu.Lock()
	tc.tr.stores[id] = s
	tc.tr.mu.Unlock()
	if err := s.Start(); err != nil {
		tc.t.Fatal(err)
	}
	return s
}

func (tc *testCluster) stop() {
	for _, s := range tc.stores {
		if s != nil {
			s.Stop()
			_ = s.cfg.Engine.Close()
		}
	}
}

// send routes ops for key to whichever node leads its range, retrying.
func (tc *testCluster) send(key []byte, ops ...*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	var res []*rpcpb.OpResult
	var final error
	err := testutil.Retry(10*time.Second, func() error {
		// Each attempt has its own deadline: a leader cut off from its
		// peers holds a proposal until its fate is known or orphaned.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for _, s := range tc.stores {
			if s == nil {
				continue
			}
			r := s.LookupReplica(key)
			if r == nil || !r.IsLeaseholder() {
				continue
			}
			var err error
			res, err = s.Send(ctx, r.RangeID(), ops)
			var nl *kverr.NotLeaseholderError
			var km *kverr.RangeKeyMismatchError
			// A put is idempotent, so an ambiguous outcome (leadership lost
			// mid-flight) is retried too.
			if errors.As(err, &nl) || errors.As(err, &km) || (kverr.IsAmbiguous(err) && onlyPuts(ops)) {
				continue
			}
			final = err
			return nil
		}
		return fmt.Errorf("no leaseholder for %q", key)
	})
	if err != nil {
		return nil, err
	}
	return res, final
}

func put(k, v string) *rpcpb.Op {
	return &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: []byte(k), Value: []byte(v)}
}
func get(k string) *rpcpb.Op { return &rpcpb.Op{Kind: rpcpb.Op_GET, Key: []byte(k)} }

func TestReplicatedPutGet(t *testing.T) {
	tc := newTestCluster(t, 3)
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("k%03d", i)
		if _, err := tc.send([]byte(k), put(k, "v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := tc.send([]byte("k042"), get("k042"))
	if err != nil || !res[0].Found || string(res[0].Value) != "vk042" {
		t.Fatalf("get: %v %v", res, err)
	}
	cas := &rpcpb.Op{Kind: rpcpb.Op_CAS, Key: []byte("k001"), Expected: []byte("wrong"), Value: []byte("x")}
	res, err = tc.send([]byte("k001"), cas)
	if err != nil || res[0].Swapped || string(res[0].Value) != "vk001" {
		t.Fatalf("cas mismatch: %v %v", res, err)
	}
	cas.Expected = []byte("vk001")
	res, err = tc.send([]byte("k001"), cas)
	if err != nil || !res[0].Swapped {
		t.Fatalf("cas: %v %v", res, err)
	}
	tc.waitChecksumsEqual(2)
}

func (tc *testCluster) waitChecksumsEqual(rangeID uint64) {
	tc.t.Helper()
	testutil.SucceedsSoon(tc.t, func() error {
		var sums []string
		var applied []uint64
		for _, s := range tc.stores {
			r := s.Replica(rangeID)
			if r == nil {
				continue
			}
			a, sum, _, err := r.Checksum()
			if err != nil {
				tc.t.Fatal(err)
			}
			sums, applied = append(sums, string(sum)), append(applied, a)
		}
		same := len(sums) == len(tc.stores)
		for i := 1; same && i < len(sums); i++ {
			same = sums[i] == sums[0] && applied[i] == applied[0]
		}
		if !same {
			return fmt.Errorf("range %d: replicas disagree: applied %v", rangeID, applied)
		}
		return nil
	})
}

func TestSnapshotCatchUp(t *testing.T) {
	tc := newTestCluster(t, 3)
	if _, err := tc.send([]byte("a"), put("a", "1")); err != nil {
		t.Fatal(err)
	}
	tc.tr.mu.Lock()
	tc.tr.cut[3] = true
	tc.tr.mu.Unlock()
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("s%03d", i)
		if _, err := tc.send([]byte(k), put(k, k)); err != nil {
			t.Fatal(err)
		}
	}
	tc.tr.mu.Lock()
	tc.tr.cut[3] = false
	tc.tr.mu.Unlock()
	// Node 3 is behind the truncated log and must catch up by snapshot.
	tc.waitChecksumsEqual(2)
}

func onlyPuts(ops []*rpcpb.Op) bool {
	for _, op := range ops {
		if op.Kind != rpcpb.Op_PUT {
			return false
		}
	}
	return true
}

// A leader cut off from its peers cannot learn whether a proposal
// committed; the proposal ends as ambiguous after the orphan bound rather
// than holding its client until the client's own deadline.
func TestOrphanedProposalIsAmbiguous(t *testing.T) {
	tc := newTestCluster(t, 3)
	if _, err := tc.send([]byte("a"), put("a", "1")); err != nil {
		t.Fatal(err)
	}
	var leader *Store
	for _, s := range tc.stores {
		if r := s.LookupReplica([]byte("a")); r != nil && r.IsLeaseholder() {
			leader = s
		}
	}
	if leader == nil {
		t.Fatal("no leaseholder")
	}
	tc.tr.mu.Lock()
	tc.tr.cut[leader.cfg.NodeID] = true
	tc.tr.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := leader.Send(ctx, leader.LookupReplica([]byte("a")).RangeID(), []*rpcpb.Op{put("a", "2")})
	if !kverr.IsAmbiguous(err) || ctx.Err() != nil {
		t.Fatalf("want an ambiguous error before the client's deadline, got %v (ctx %v)", err, ctx.Err())
	}
	tc.tr.mu.Lock()
	tc.tr.cut[leader.cfg.NodeID] = false
	tc.tr.mu.Unlock()
	tc.waitChecksumsEqual(2)
}
