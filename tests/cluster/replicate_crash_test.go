package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
)

// A replication change interrupted by a crash leaves a range that still
// serves, and the change is finished or rolled back: with a learner just
// added and meta not yet updated, either the leaseholder that made the
// change stops, or the node receiving the learner does. Afterwards every
// range has three voters on live nodes and no learner, meta agrees with
// the ranges, every key is readable and the replicas agree.
func TestReplicationChangeInterruptedByCrash(t *testing.T) {
	for _, victim := range []string{"leaseholder", "learner"} {
		t.Run(victim, func(t *testing.T) { testInterruptedChange(t, victim) })
	}
}

func testInterruptedChange(t *testing.T, victim string) {
	type change struct {
		node   int // index of the node that made the change
		target uint64
		desc   *rpcpb.RangeDescriptor
	}
	changes := make(chan change, 1)
	var once sync.Once
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.Configure = func(i int, cfg *server.Config) {
			fastLiveness(i, cfg)
			cfg.Knobs.AfterReplicationChange = func(ctx context.Context, desc *rpcpb.RangeDescriptor, kind string, target uint64) {
				if kind != "add-learner" || target != 4 {
					return
				}
				fired := false
				once.Do(func() { fired = true })
				if !fired {
					return
				}
				changes <- change{node: i, target: target, desc: desc}
				if victim == "leaseholder" {
					<-ctx.Done() // the change is never recorded in meta by this node
				}
			}
		}
	})
	c.splitAt(t, "ic/5")
	want := c.writeKeys(t, 0, "ic", 40)
	c.AddNode() // node 4: the rebalancer starts moving replicas to it
	var ch change
	select {
	case ch = <-changes:
	case <-time.After(60 * time.Second):
		t.Fatal("no learner was added to node 4")
	}
	stopped := ch.node
	if victim == "learner" {
		stopped = int(ch.target) - 1
	}
	t.Logf("range %d: learner added on n%d by n%d; stopping n%d (the %s)", ch.desc.RangeId, ch.target, ch.node+1, stopped+1, victim)
	c.StopNode(stopped)
	alive := (stopped + 1) % 4
	if c.Node(alive) == nil {
		alive = (stopped + 2) % 4
	}
	// The range still serves: a learner never counts toward a quorum.
	key := string(ch.desc.StartKey)
	if ch.desc.StartKey == nil || key < "ic" {
		key = "ic/after"
	} else {
		key += "/after"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.DB(alive).Put(ctx, []byte(key), []byte("x")); err != nil {
		t.Fatalf("range %d does not serve after n%d stopped mid-change: %v", ch.desc.RangeId, stopped+1, err)
	}
	want[key] = "x"
	// Finished or rolled back, with the stopped node down (it is dead
	// after fastLiveness's 3 s and its replicas are replaced).
	settled := func() error {
		ranges, _, _ := c.rangesOn(t, alive)
		if ranges == nil {
			return fmt.Errorf("no range list")
		}
		for _, r := range ranges {
			voters := 0
			for _, rep := range r.Desc.Replicas {
				n := c.Node(int(rep.NodeId) - 1)
				if n == nil {
					return fmt.Errorf("range %d keeps a replica on stopped n%d", r.Desc.RangeId, rep.NodeId)
				}
				voters++
			}
			if voters != 3 {
				return fmt.Errorf("range %d has %d replicas", r.Desc.RangeId, voters)
			}
			if err := c.noLearners(r.Desc); err != nil {
				return err
			}
		}
		return nil
	}
	testutil.SucceedsWithin(t, 60*time.Second, settled)
	c.checkKeys(t, alive, want)
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(context.Background(), c.dialer, c.Addrs[alive]) })
	// The stopped node comes back; its stale replicas are collected and
	// the cluster settles again.
	c.Start(stopped)
	testutil.SucceedsWithin(t, 60*time.Second, settled)
	c.checkKeys(t, stopped, want)
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(context.Background(), c.dialer, c.Addrs[alive]) })
}

// noLearners checks, at the range's leaseholder, that it has no learner.
func (c *InProcess) noLearners(d *rpcpb.RangeDescriptor) error {
	for _, rep := range d.Replicas {
		n := c.Node(int(rep.NodeId) - 1)
		if n == nil || n.Store() == nil {
			continue
		}
		r := n.Store().Replica(d.RangeId)
		if r == nil || !r.IsLeaseholder() {
			continue
		}
		if l := r.Learners(); len(l) > 0 {
			return fmt.Errorf("range %d still has learners %v", d.RangeId, l)
		}
		return nil
	}
	return fmt.Errorf("range %d: no leaseholder found", d.RangeId)
}

// learnersOf describes, for a failure message, the learners each range's
// leaseholder reports.
func (c *InProcess) learnersOf(ranges []*rpcpb.RangeInfo) string {
	out := ""
	for _, r := range ranges {
		if err := c.noLearners(r.Desc); err != nil {
			out += err.Error() + "; "
		}
	}
	if out == "" {
		return "none"
	}
	return out
}
