package server

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/range/replica"
)

// Liveness states as shown to users.
const (
	Live    = "live"
	Suspect = "suspect"
	Dead    = "dead"
)

// livenessTracker judges other nodes by whether their heartbeat counters
// move, timed on this node's monotonic clock: no clock is compared across
// nodes.
type livenessTracker struct {
	cfg   Config
	start time.Time
	// deadAfter, if set, overrides cfg.TimeUntilDead (the cluster setting
	// server.time_until_dead).
	deadAfter func() time.Duration
	mu        struct {
		sync.Mutex
		seen map[uint64]beat
	}
}

type beat struct {
	counter int64
	changed time.Time
}

func newLivenessTracker(cfg Config) *livenessTracker {
	t := &livenessTracker{cfg: cfg, start: time.Now()}
	t.mu.seen = map[uint64]beat{}
	return t
}

func (t *livenessTracker) observe(node uint64, counter int64, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.mu.seen[node]; !ok || b.counter != counter {
		t.mu.seen[node] = beat{counter: counter, changed: now}
	}
}

// status returns live, suspect or dead for node, and its last counter.
func (t *livenessTracker) status(node uint64, now time.Time) (string, int64) {
	t.mu.Lock()
	b, ok := t.mu.seen[node]
	t.mu.Unlock()
	since := t.start
	if ok {
		since = b.changed
	}
	dead := t.cfg.TimeUntilDead
	if t.deadAfter != nil {
		dead = t.deadAfter()
	}
	return classify(now.Sub(since), t.cfg.SuspectAfter, dead), b.counter
}

func classify(silent, suspectAfter, deadAfter time.Duration) string {
	switch {
	case silent >= deadAfter:
		return Dead
	case silent >= suspectAfter:
		return Suspect
	}
	return Live
}

func (s *Server) every(d time.Duration, fn func(ctx context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn(s.ctx)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// heartbeatLoop increments this node's liveness counter through Raft.
func (s *Server) heartbeatLoop() {
	id := s.NodeID()
	s.every(s.cfg.HeartbeatInterval, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.HeartbeatInterval)
		defer cancel()
		if v, err := s.db.Increment(ctx, keys.LivenessKey(id), 1); err == nil {
			s.live.observe(id, v, time.Now())
		}
	})
}

// livenessLoop reads every node's heartbeat counter.
func (s *Server) livenessLoop() {
	prefix := keys.LivenessPrefix()
	s.every(s.cfg.HeartbeatInterval, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.HeartbeatInterval)
		defer cancel()
		rows, err := s.db.Scan(ctx, prefix, keys.PrefixEnd(prefix), 0)
		if err != nil {
			return
		}
		now := time.Now()
		for _, kv := range rows {
			if len(kv.Key) != len(prefix)+8 {
				continue
			}
			node := binary.BigEndian.Uint64(kv.Key[len(prefix):])
			if v, err := replica.DecodeCounter(kv.Value); err == nil {
				s.live.observe(node, v, now)
			}
		}
	})
}

// counter returns the last heartbeat counter seen for node.
func (t *livenessTracker) counter(node uint64) (int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.mu.seen[node]
	return b.counter, ok
}
