package server

import (
	"context"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server/settings"
	"github.com/ordodb/ordo/txn"
)

// txnTransport sends transactional requests: to the local store directly,
// to other nodes over gRPC.
type txnTransport struct{ s *Server }

func (t txnTransport) SendTxn(ctx context.Context, node uint64, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error) {
	if node == t.s.NodeID() {
		st := t.s.Store()
		if st == nil {
			return nil, kv.Retryable(kverr.ErrNotInitialized)
		}
		return st.Txn(ctx, req)
	}
	return txn.SendRPC(ctx, t.s.dialer, t.s.dir, node, req)
}

func (s *Server) newCoordinator() *txn.Coordinator {
	return txn.New(txn.Config{
		NodeID:    s.NodeID(),
		Sender:    s.ds,
		Transport: txnTransport{s},
		Logger:    s.cfg.Logger,
		Knobs:     s.cfg.Knobs.Txn,
		Metrics:   s.metrics.txn,
		// kv.lock_timeout: the bound of a lock wait when a session sets
		// none (SQL's lock_timeout overrides it per session).
		LockTimeoutFunc: func() time.Duration { return settings.LockTimeout.Get(s.settings.Load()) },
	})
}

// Txns returns the node's transaction coordinator.
func (s *Server) Txns() *txn.Coordinator { return s.coord }

// txnRecoveryLoop finishes what dead coordinators left: it resolves
// prepared transactions by asking their anchors, and aborts idle
// unprepared ones whose coordinators are gone.
func (s *Server) txnRecoveryLoop() {
	s.every(time.Second, func(ctx context.Context) {
		now := time.Now()
		for _, r := range s.Store().Replicas() {
			if !r.IsLeaseholder() {
				continue
			}
			prepared, idle := r.TxnWork(now, 2*time.Second)
			for _, m := range prepared {
				s.recoverPrepared(ctx, r, m)
			}
			s.abortOrphans(ctx, r, idle, now)
			s.abortExternalIdle(r, now)
			for _, rec := range r.StaleCommitted(now, 3*time.Second) {
				s.finishCommitted(ctx, r, rec)
			}
			for _, rec := range r.StaleTombstones() {
				meta := &rpcpb.TxnMeta{Id: rec.TxnId, AnchorKey: rec.AnchorKey}
				if _, err := r.Txn(ctx, &rpcpb.TxnRequest{RangeId: r.RangeID(), Txn: meta, Kind: rpcpb.TxnRequest_FORGET, Key: rec.AnchorKey}); err != nil {
					break
				}
			}
		}
	})
}

func (s *Server) recoverPrepared(ctx context.Context, r *replica.Replica, m *rpcpb.TxnMeta) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var resp *rpcpb.TxnResponse
	_, err := s.ds.Route(ctx, m.AnchorKey, func(ctx context.Context, d *rpcpb.RangeDescriptor, node uint64) error {
		var err error
		resp, err = txnTransport{s}.SendTxn(ctx, node, &rpcpb.TxnRequest{RangeId: d.RangeId, Txn: m, Kind: rpcpb.TxnRequest_QUERY, Key: m.AnchorKey})
		return err
	})
	if err != nil || resp.Status == rpcpb.TxnRecord_PENDING {
		return
	}
	commit := resp.Status == rpcpb.TxnRecord_COMMITTED
	req := &rpcpb.TxnRequest{RangeId: r.RangeID(), Txn: m, Kind: rpcpb.TxnRequest_RESOLVE, Commit: commit, Key: r.Desc().GetStartKey()}
	if _, err := r.Txn(ctx, req); err != nil {
		s.cfg.Logger.Debug("recovery resolve failed", "txn", m.Id, "err", err)
		return
	}
	s.cfg.Logger.Info("recovered prepared transaction", "txn", m.Id, "range", r.RangeID(), "committed", commit)
}

// abortOrphans asks the coordinators of idle transactions whether they
// still run them, and aborts those they do not.
func (s *Server) abortOrphans(ctx context.Context, r *replica.Replica, idle []*rpcpb.TxnMeta, now time.Time) {
	byCoord := map[[2]uint64][]uint64{}
	for _, m := range idle {
		if m.CoordinatorNode == 0 {
			continue // a coordinator outside the cluster cannot be asked; see below
		}
		k := [2]uint64{m.CoordinatorNode, m.CoordinatorInstance}
		byCoord[k] = append(byCoord[k], m.Id)
	}
	for k, ids := range byCoord {
		alive, err := s.txnAlive(ctx, k[0], k[1], ids)
		if err != nil {
			// Unreachable. Aborting an unprepared transaction here is always
			// safe (its commit would be refused); do it once the
			// coordinator's node is no longer seen live.
			if st, _ := s.live.status(k[0], time.Now()); st == Live {
				continue
			}
		}
		live := map[uint64]bool{}
		for _, id := range alive {
			live[id] = true
		}
		for _, id := range ids {
			if !live[id] {
				r.AbortIdle(id, "the transaction's coordinator is gone")
			}
		}
	}
}

func (s *Server) txnAlive(ctx context.Context, node, instance uint64, ids []uint64) ([]uint64, error) {
	if node == s.NodeID() {
		return s.coord.Alive(ids, instance), nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := callNode(s, ctx, node, func(ctx context.Context, c rpcpb.NodeClient) (*rpcpb.TxnAliveResponse, error) {
		return c.TxnAlive(ctx, &rpcpb.TxnAliveRequest{TxnIds: ids, Instance: instance})
	})
	if err != nil {
		return nil, err
	}
	return resp.Alive, nil
}

// finishCommitted resolves the participants of a committed transaction
// whose coordinator did not, then forgets its record. RESOLVE is
// idempotent, so racing with the coordinator or a participant's own
// recovery is harmless.
func (s *Server) finishCommitted(ctx context.Context, r *replica.Replica, rec *rpcpb.TxnRecord) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	meta := &rpcpb.TxnMeta{Id: rec.TxnId, AnchorKey: rec.AnchorKey}
	for _, span := range rec.Participants {
		if err := txn.Resolve(ctx, s.ds, txnTransport{s}, meta, span, true); err != nil {
			return
		}
	}
	if _, err := r.Txn(ctx, &rpcpb.TxnRequest{RangeId: r.RangeID(), Txn: meta, Kind: rpcpb.TxnRequest_FORGET, Key: rec.AnchorKey}); err == nil {
		s.cfg.Logger.Info("finished a committed transaction left by its coordinator", "txn", rec.TxnId, "range", r.RangeID())
	}
}

// externalIdle is how long a transaction of a coordinator outside the
// cluster (node 0: tools, tests) may sit idle before its unprepared locks
// are taken back; such a coordinator cannot be asked whether it is alive.
const externalIdle = 30 * time.Second

func (s *Server) abortExternalIdle(r *replica.Replica, now time.Time) {
	_, idle := r.TxnWork(now, externalIdle)
	for _, m := range idle {
		if m.CoordinatorNode == 0 {
			r.AbortIdle(m.Id, "idle transaction of an external coordinator")
		}
	}
}
