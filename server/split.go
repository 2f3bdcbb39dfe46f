package server

import (
	"bytes"
	"context"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// splitLoop is the split queue: every range this node leads whose data
// exceeds RangeMaxBytes is split (Replica.SizeSplitKey picks the key), and
// meta records both halves. Nobody runs a command for it.
func (s *Server) splitLoop() {
	s.every(s.cfg.SplitInterval, func(ctx context.Context) {
		st := s.Store()
		if st == nil {
			return
		}
		for _, r := range st.Replicas() {
			d := r.Desc()
			if d == nil || !r.IsLeaseholder() || bytes.Compare(d.EndKey, keys.UserMin) <= 0 {
				continue
			}
			key, ok := r.SizeSplitKey(s.rangeMaxBytes())
			if !ok {
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			left, right, err := s.adminSplit(sctx, &rpcpb.AdminSplitRequest{SplitKey: key, RangeId: d.RangeId})
			cancel()
			if err != nil {
				s.cfg.Logger.Info("split queue: split failed", "range", d.RangeId, "key", keys.Pretty(key), "err", err)
				continue
			}
			if left != nil && right != nil {
				s.cfg.Logger.Info("split by size", "range", left.RangeId, "new_range", right.RangeId, "key", keys.Pretty(key))
			}
		}
	})
}
