package server

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server/settings"
)

// splitLoop is the split queue: every range this node leads whose data
// exceeds kv.range_max_bytes is split (Replica.SizeSplitKey picks the key),
// and so is one that served more than kv.range_split.load_qps_threshold
// requests per second over the last interval (at the median of sampled
// request keys; kv.range_split.by_load_enabled). Meta records both halves.
// Nobody runs a command for it.
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
			reason := "size"
			if !ok {
				var qps float64
				v := s.settings.Load()
				// A split ends the range's lock regime: every transaction
				// holding locks there must retry. A split for load waits for
				// a moment when none does (else a bulk COPY, one request per
				// row, would split its own range again and again).
				if !settings.LoadSplitEnabled.Get(v) || r.LocksHeld() > 0 || r.PreparedCount() > 0 {
					continue
				}
				if key, qps, ok = r.LoadSplitKey(time.Now(), s.cfg.SplitInterval, float64(settings.LoadSplitQPSThreshold.Get(v))); !ok {
					continue
				}
				reason = fmt.Sprintf("load (%.0f requests/s)", qps)
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			left, right, err := s.adminSplit(sctx, &rpcpb.AdminSplitRequest{SplitKey: key, RangeId: d.RangeId})
			cancel()
			if err != nil {
				s.cfg.Logger.Info("split queue: split failed", "range", d.RangeId, "key", keys.Pretty(key), "err", err)
				continue
			}
			if left != nil && right != nil {
				s.cfg.Logger.Info("split", "by", reason, "range", left.RangeId, "new_range", right.RangeId, "key", keys.Pretty(key))
			}
		}
	})
}
