package kv

import (
	"bytes"
	"sort"
	"sync"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

// RangeCache maps keys to the range descriptors last seen for them, and
// ranges to the node believed to hold their lease.
type RangeCache struct {
	mu struct {
		sync.Mutex
		descs       []*rpcpb.RangeDescriptor // sorted by start key, non-overlapping
		leaseholder map[uint64]uint64
	}
}

// NewRangeCache returns an empty cache.
func NewRangeCache() *RangeCache {
	c := &RangeCache{}
	c.mu.leaseholder = map[uint64]uint64{}
	return c
}

// Lookup returns the cached descriptor whose span holds key, or nil.
func (c *RangeCache) Lookup(key []byte) *rpcpb.RangeDescriptor {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.searchLocked(key)
	if i < len(c.mu.descs) && bytes.Compare(c.mu.descs[i].StartKey, key) <= 0 {
		return c.mu.descs[i]
	}
	return nil
}

// searchLocked returns the index of the first descriptor ending after key.
func (c *RangeCache) searchLocked(key []byte) int {
	return sort.Search(len(c.mu.descs), func(i int) bool {
		return bytes.Compare(c.mu.descs[i].EndKey, key) > 0
	})
}

// Insert adds descriptors, replacing any older ones they overlap. An
// incoming descriptor older than one it overlaps is ignored.
func (c *RangeCache) Insert(descs ...*rpcpb.RangeDescriptor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range descs {
		if d != nil {
			c.insertLocked(d)
		}
	}
}

func (c *RangeCache) insertLocked(d *rpcpb.RangeDescriptor) {
	kept := c.mu.descs[:0:0]
	for _, o := range c.mu.descs {
		overlaps := bytes.Compare(o.StartKey, d.EndKey) < 0 && bytes.Compare(d.StartKey, o.EndKey) < 0
		if !overlaps {
			kept = append(kept, o)
			continue
		}
		if o.Generation > d.Generation || (o.RangeId == d.RangeId && o.Generation == d.Generation) {
			return // what we hold is as new
		}
	}
	kept = append(kept, d)
	sort.Slice(kept, func(i, j int) bool { return bytes.Compare(kept[i].StartKey, kept[j].StartKey) < 0 })
	c.mu.descs = kept
}

// Evict drops the descriptor of rangeID.
func (c *RangeCache) Evict(rangeID uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.mu.descs[:0:0]
	for _, o := range c.mu.descs {
		if o.RangeId != rangeID {
			kept = append(kept, o)
		}
	}
	c.mu.descs = kept
	delete(c.mu.leaseholder, rangeID)
}

// Leaseholder returns the node believed to hold rangeID's lease, or 0.
func (c *RangeCache) Leaseholder(rangeID uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.leaseholder[rangeID]
}

// SetLeaseholder records the node that holds rangeID's lease.
func (c *RangeCache) SetLeaseholder(rangeID, nodeID uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.leaseholder[rangeID] = nodeID
}
