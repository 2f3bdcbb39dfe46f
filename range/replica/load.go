package replica

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ordodb/ordo/kv/keys"
)

// loadSampler counts the requests a replica serves and keeps a uniform
// sample of their keys (reservoir sampling), for load-based splits.
type loadSampler struct {
	mu      sync.Mutex
	start   time.Time
	count   int64
	samples [][]byte
	total   int64 // every request recorded, never reset
}

const loadSamples = 32

func (l *loadSampler) record(key []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	l.total++
	if len(l.samples) < loadSamples {
		l.samples = append(l.samples, bytes.Clone(key))
		return
	}
	if i := rand.Int64N(l.count); i < loadSamples {
		l.samples[i] = bytes.Clone(key)
	}
}

// Requests counts the requests this replica has served since it was
// created (a counter that only grows; the console derives throughput).
func (r *Replica) Requests() int64 {
	r.load.mu.Lock()
	defer r.load.mu.Unlock()
	return r.load.total
}

// LoadSplitKey decides a split by load: if the range served at least
// minQPS requests per second since the last call (over at least window), it
// returns the median of the sampled request keys, which divides the load
// roughly in two. The sample starts over at every decision. A key equal
// to the range's start (one hot key) cannot split it.
func (r *Replica) LoadSplitKey(now time.Time, window time.Duration, minQPS float64) ([]byte, float64, bool) {
	l := &r.load
	l.mu.Lock()
	if l.start.IsZero() {
		l.start = now
	}
	elapsed := now.Sub(l.start)
	if elapsed < window {
		l.mu.Unlock()
		return nil, 0, false
	}
	qps := float64(l.count) / elapsed.Seconds()
	samples := l.samples
	l.start, l.count, l.samples = now, 0, nil
	l.mu.Unlock()
	desc := r.Desc()
	if desc == nil || minQPS <= 0 || qps < minQPS || len(samples) < loadSamples/2 {
		return nil, qps, false
	}
	slices.SortFunc(samples, bytes.Compare)
	key := samples[len(samples)/2]
	if bytes.Compare(key, desc.StartKey) <= 0 || bytes.Compare(key, keys.UserMin) <= 0 || !ContainsKey(desc, key) {
		return nil, qps, false
	}
	return key, qps, true
}
