package server

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/range/allocator"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server/settings"
	"google.golang.org/protobuf/proto"
)

// replicateLoop is the replicate queue: at every range it leads, the node
// asks the allocator (a pure function, range/allocator) for the one next
// step that brings the range to its replication factor on healthy nodes,
// drains dead and decommissioning nodes, and balances replica and lease
// counts; then it takes that step. A step that fails is taken again, from
// a fresh decision, on a later round.
func (s *Server) replicateLoop() {
	s.every(s.cfg.ReplicateInterval, func(ctx context.Context) {
		st := s.Store()
		if st == nil {
			return
		}
		var leading []*replica.Replica
		for _, r := range st.Replicas() {
			if r.IsLeaseholder() && r.Desc() != nil {
				leading = append(leading, r)
			}
		}
		if len(leading) == 0 {
			return
		}
		nodes, err := s.allocatorNodes(ctx)
		if err != nil {
			s.cfg.Logger.Debug("replicate queue: cluster snapshot", "err", err)
			return
		}
		cfg := s.allocatorConfig()
		for _, r := range leading {
			learners := r.Learners()
			rng := allocator.FromDescriptor(r.Desc(), allocator.NodeID(s.NodeID()), func(id uint64) bool { return learners[id] })
			act := allocator.Decide(rng, nodes, cfg)
			if act.Type == allocator.Noop {
				continue
			}
			if err := s.takeAction(ctx, r, act); err != nil {
				s.cfg.Logger.Info("replicate queue: step failed", "range", r.RangeID(), "action", act.String(), "err", err)
				continue
			}
			act.ApplyTo(nodes) // later decisions this round see the step
		}
	})
}

func (s *Server) allocatorConfig() allocator.Config {
	v := s.settings.Load()
	frac := float64(settings.RebalanceTolerancePercent.Get(v)) / 100
	return allocator.Config{
		ReplicationFactor: s.replicationFactor(),
		ReplicaTolerance:  allocator.Tolerance{Fraction: frac, Min: 1},
		// Leases hold lock tables, so a move ends the range's lock regime:
		// a node may hold two more leases than the mean before one moves
		// (a fresh cluster, its few ranges led by the first node, does not
		// churn leases under its first clients).
		LeaseTolerance:            allocator.Tolerance{Fraction: frac, Min: 2},
		MaxFullness:               float64(settings.MaxStoreFullnessPercent.Get(v)) / 100,
		DisableReplicaRebalancing: !settings.ReplicaRebalancing.Get(v),
		DisableLeaseRebalancing:   !settings.LeaseRebalancing.Get(v),
	}
}

// takeAction carries out one allocator step at the leaseholder r.
func (s *Server) takeAction(ctx context.Context, r *replica.Replica, act allocator.Action) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	target := uint64(act.Target)
	var typ replica.ChangeType
	switch act.Type {
	case allocator.TransferLease:
		// Locks live with the lease: a transfer ends the lock regime and
		// every transaction holding locks here must retry. A move made
		// for balance waits for a moment when the range holds none; one
		// that drains a decommissioning node does not wait.
		if act.Reason != allocator.ReasonDrainLease && (r.LocksHeld() > 0 || r.PreparedCount() > 0) {
			return nil
		}
		return r.TransferLease(target)
	case allocator.AddLearner:
		typ = replica.AddLearner
	case allocator.PromoteLearner:
		if !r.CaughtUp(target) {
			return nil // its snapshot is on the way; promote on a later round
		}
		typ = replica.PromoteLearner
	case allocator.RemoveLearner, allocator.RemoveVoter:
		typ = replica.RemoveReplica
	default:
		return nil
	}
	desc, err := r.ChangeReplicas(ctx, typ, target)
	if err != nil {
		return err
	}
	s.cfg.Logger.Info("replication change", "range", desc.RangeId, "change", typ.String(), "node", target, "reason", act.Reason.String())
	if k := s.cfg.Knobs.AfterReplicationChange; k != nil {
		k(ctx, desc, typ.String(), target)
	}
	return s.updateMeta(ctx, desc)
}

// allocatorNodes is the allocator's view of the cluster: every registered
// node with its liveness as this node judges it, whether it is being
// decommissioned, and its replica and lease counts as it reports them.
func (s *Server) allocatorNodes(ctx context.Context) ([]allocator.Node, error) {
	decom, err := s.decommissioning(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []allocator.Node
	for _, n := range s.dir.list() {
		an := allocator.Node{ID: allocator.NodeID(n.NodeId), Decommissioning: decom[n.NodeId]}
		switch st, _ := s.live.status(n.NodeId, now); st {
		case Live:
			an.Liveness = allocator.Live
		case Suspect:
			an.Liveness = allocator.Suspect
		case Dead:
			an.Liveness = allocator.Dead
		}
		if an.Liveness == allocator.Live {
			resp, err := s.localRangesResponse(ctx, n.NodeId)
			if err != nil {
				an.Liveness = allocator.Suspect // live by heartbeat, but not answering
			}
			an.Fullness = resp.GetStoreFullness()
			for _, i := range resp.GetRanges() {
				an.Replicas++
				if i.IsLeaseholder {
					an.Leases++
				}
			}
		}
		out = append(out, an)
	}
	return out, nil
}

// decommissioning reads the set of nodes being decommissioned.
func (s *Server) decommissioning(ctx context.Context) (map[uint64]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p := keys.DecommissionPrefix()
	rows, err := s.db.Scan(ctx, p, keys.PrefixEnd(p), 0)
	if err != nil {
		return nil, err
	}
	out := map[uint64]bool{}
	for _, kv := range rows {
		if len(kv.Key) == len(p)+8 {
			out[binary.BigEndian.Uint64(kv.Key[len(p):])] = true
		}
	}
	return out, nil
}

// setDecommissioning marks node as being decommissioned (on) or not.
func (s *Server) setDecommissioning(ctx context.Context, node uint64, on bool) error {
	if on {
		return s.db.Put(ctx, keys.DecommissionKey(node), []byte{1})
	}
	_, err := s.db.Delete(ctx, keys.DecommissionKey(node))
	return err
}

// replicaGCLoop destroys replicas this node still holds of ranges that no
// longer include it: a removed replica that never applied its own removal
// (it was down, or cut off) learns it from meta.
func (s *Server) replicaGCLoop() {
	s.every(s.cfg.ReplicaGCInterval, func(ctx context.Context) {
		st := s.Store()
		if st == nil {
			return
		}
		for _, r := range st.Replicas() {
			local := r.Desc()
			if local == nil || r.IsLeaseholder() {
				continue
			}
			cur, err := s.metaDescriptor(ctx, local.EndKey)
			if err != nil || cur == nil || cur.RangeId != local.RangeId || !replica.DescNewer(cur, local) {
				continue
			}
			if rd := replica.ReplicaOf(cur, s.NodeID()); rd == nil || rd.ReplicaId != r.ReplicaID() {
				if err := st.DestroyReplica(local.RangeId, r.ReplicaID()); err != nil {
					s.cfg.Logger.Warn("replica GC", "range", local.RangeId, "err", err)
				}
			}
		}
	})
}

// metaDescriptor reads the meta record of the range ending at endKey.
func (s *Server) metaDescriptor(ctx context.Context, endKey []byte) (*rpcpb.RangeDescriptor, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, found, err := s.db.Get(ctx, keys.MetaKey(endKey))
	if err != nil || !found {
		return nil, err
	}
	d := &rpcpb.RangeDescriptor{}
	return d, proto.Unmarshal(v, d)
}
