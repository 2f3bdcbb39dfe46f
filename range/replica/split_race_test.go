package replica_test

import (
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/range/raftlog"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// A broken Raft invariant stops the node through OnFatal before Raft
// panics, so a caller that recovers panics (a gRPC handler, a pgwire
// connection) cannot swallow it. The message is the split race's: a
// heartbeat committing index 11 to a replica whose log ends at 10.
func TestRaftPanicCallsOnFatal(t *testing.T) {
	eng, err := storage.Open(storage.Config{Dir: "/db", FS: vfs.NewMem(), CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	desc := &rpcpb.RangeDescriptor{RangeId: 3, StartKey: []byte{0x04}, EndKey: []byte{0xff, 0xff}, NextReplicaId: 3,
		Replicas: []*rpcpb.ReplicaDescriptor{{NodeId: 1, ReplicaId: 1}, {NodeId: 2, ReplicaId: 2}}}
	b := eng.NewIndexedBatch()
	if err := replica.WriteInitialState(b, desc, &pb.ConfState{Voters: []uint64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b, true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	var fatal error
	r, err := replica.Load(replica.Config{NodeID: 1, Engine: eng, Host: soloHost{}, OnFatal: func(err error) { fatal = err }}, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Destroy()
	hb := &pb.Message{Type: pb.MsgHeartbeat.Enum(), From: proto.Uint64(2), To: proto.Uint64(1), Term: proto.Uint64(6), Commit: proto.Uint64(11)}
	panicked := func() (p any) {
		defer func() { p = recover() }()
		_ = r.StepMessage(&rpcpb.ReplicaDescriptor{NodeId: 2, ReplicaId: 2}, hb)
		return nil
	}()
	if panicked == nil {
		t.Fatal("a heartbeat committing past the log did not panic")
	}
	if fatal == nil || !strings.Contains(fatal.Error(), "tocommit(11) is out of range [lastIndex(10)]") {
		t.Fatalf("OnFatal got %v, panic %v", fatal, panicked)
	}
}

// WriteInitialState refuses to write a split's starting state over a
// replica that is already initialised: its entries and commit index would
// be lost under the split's older state.
func TestWriteInitialStateOverInitialised(t *testing.T) {
	eng, err := storage.Open(storage.Config{Dir: "/db", FS: vfs.NewMem(), CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	desc := &rpcpb.RangeDescriptor{RangeId: 3, StartKey: []byte{0x04}, EndKey: []byte{0xff, 0xff}}
	conf := &pb.ConfState{Voters: []uint64{1}}
	b := eng.NewIndexedBatch()
	defer b.Close()
	if err := replica.WriteInitialState(b, desc, conf); err != nil {
		t.Fatal(err)
	}
	if err := replica.WriteInitialState(b, desc, conf); err == nil {
		t.Fatal("initial state written twice")
	}
}

// A split keeps the vote an uninitialised replica of the new range cast
// before the split applied here (a second vote in that term could elect
// two leaders), and sets the commit index to the split's initial index.
func TestWriteInitialStateKeepsVote(t *testing.T) {
	eng, err := storage.Open(storage.Config{Dir: "/db", FS: vfs.NewMem(), CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	desc := &rpcpb.RangeDescriptor{RangeId: 3, StartKey: []byte{0x04}, EndKey: []byte{0xff, 0xff}}
	b := eng.NewIndexedBatch()
	defer b.Close()
	if err := raftlog.WriteHardState(b, 3, &pb.HardState{Term: proto.Uint64(7), Vote: proto.Uint64(2)}); err != nil {
		t.Fatal(err)
	}
	if err := replica.WriteInitialState(b, desc, &pb.ConfState{Voters: []uint64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	hs, err := raftlog.LoadHardState(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	if hs.GetTerm() != 7 || hs.GetVote() != 2 || hs.GetCommit() != 10 {
		t.Fatalf("hard state after the split: %v, want term 7, vote 2, commit 10", hs)
	}
}
