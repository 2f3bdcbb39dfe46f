package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// The split trigger race: a follower that has not applied a split yet
// meets the new right-hand range's leader first. The test holds node 3 at
// the worst moment: its split's batch is committed and its right-hand
// replica loaded from it, not yet installed. The new leader's messages
// reach node 3 then. Before the fix the store created a second replica
// object from the just-committed state, which appended entry 11 and acked
// it; the replica installed next had loaded a log ending at 10, and the
// leader's next heartbeat (commit 11, since node 3 matched 11) panicked
// etcd raft: tocommit(11) is out of range [lastIndex(10)]. Now node 3 drops
// the range's messages until the split has installed its replica, and the
// leader catches it up from index 10.
func TestSplitRaceFollowerMeetsNewLeaderFirst(t *testing.T) {
	const lagging, rhs = 3, 3
	entered, release := make(chan struct{}), make(chan struct{})
	var enterOnce sync.Once
	tc := &testCluster{t: t, tr: newLocalTransport(), knobs: func(node uint64) TestingKnobs {
		if node != lagging {
			return TestingKnobs{}
		}
		return TestingKnobs{BeforeSplitInstall: func(right *rpcpb.RangeDescriptor) {
			if right.RangeId != rhs {
				return
			}
			enterOnce.Do(func() { close(entered) })
			select {
			case <-release:
			case <-time.After(30 * time.Second): // the test fails meanwhile
			}
		}}
	}}
	// Until node 3 is inside its split, the new range's messages to it are
	// dropped, so no replica of it exists there when the split begins.
	seen := make(chan string, 1)
	tc.tr.drop = func(m *rpcpb.RaftMessage) bool {
		return m.RangeId == rhs && m.To.NodeId == lagging && !closed(entered)
	}
	tc.tr.observe = func(m *rpcpb.RaftMessage, err error) {
		if m.RangeId != rhs || !closed(entered) {
			return
		}
		switch msg := decode(t, m); {
		case m.To.NodeId == lagging && err != nil:
			signal(seen, fmt.Sprintf("node 3 dropped a %v: %v", msg.GetType(), err))
		case m.From.NodeId == lagging && msg.GetType() == pb.MsgAppResp && !msg.GetReject() && msg.GetIndex() > 10:
			signal(seen, fmt.Sprintf("node 3 acked index %d", msg.GetIndex()))
		}
	}
	tc.start(3)
	if _, err := tc.send([]byte("a"), put("a", "1")); err != nil {
		t.Fatal(err)
	}
	// Node 1 leads range 2, so it campaigns for the new range at once.
	testutil.SucceedsSoon(t, func() error {
		if r := tc.stores[0].Replica(2); r.IsLeaseholder() {
			return nil
		}
		_ = tc.leaseholder([]byte("a")).TransferLease(1)
		return fmt.Errorf("range 2 not led by node 1 yet")
	})
	splitDone := make(chan struct{})
	go func() {
		defer close(splitDone)
		tc.splitAt("n", rhs)
	}()
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("node 3 never applied the split")
	}
	select {
	case what := <-seen:
		t.Log(what)
	case <-time.After(30 * time.Second):
		t.Fatal("the new range's leader never reached node 3")
	}
	close(release)
	<-splitDone
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("n%02d", i)
		if _, err := tc.send([]byte(k), put(k, "v")); err != nil {
			t.Fatal(err)
		}
	}
	tc.waitChecksumsEqual(rhs)
	tc.waitChecksumsEqual(2)
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func signal(ch chan string, what string) {
	select {
	case ch <- what:
	default:
	}
}

func decode(t *testing.T, m *rpcpb.RaftMessage) *pb.Message {
	msg := &pb.Message{}
	if err := proto.Unmarshal(m.Message, msg); err != nil {
		t.Errorf("decode raft message: %v", err)
	}
	return msg
}
