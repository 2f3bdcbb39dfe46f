package raftlog

import (
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// entryCacheBytes bounds each replica's cache of recent log entries.
const entryCacheBytes = 4 << 20

// entryCache holds the most recently persisted run of log entries,
// contiguous and newest last, so that Raft reads them (committed entries to
// apply, a leader's MsgApp to a follower) from memory, not from Pebble. It
// is bounded in bytes; the oldest entries go first. The caller holds
// Storage.mu.
type entryCache struct {
	ents  []*pb.Entry
	sizes []uint64 // proto size of each entry
	bytes uint64
	max   uint64
}

func (c *entryCache) first() uint64 { return c.ents[0].GetIndex() }
func (c *entryCache) last() uint64  { return c.ents[len(c.ents)-1].GetIndex() }

// add records persisted entries. An entry at an index the cache holds
// replaces it and everything after it (the log's suffix was overwritten).
func (c *entryCache) add(ents []*pb.Entry) {
	if len(ents) == 0 {
		return
	}
	lo := ents[0].GetIndex()
	switch {
	case len(c.ents) == 0 || lo < c.first() || lo > c.last()+1:
		c.clear()
	case lo <= c.last():
		c.dropFrom(lo)
	}
	for _, e := range ents {
		sz := uint64(proto.Size(e))
		c.ents = append(c.ents, e)
		c.sizes = append(c.sizes, sz)
		c.bytes += sz
	}
	for c.bytes > c.max && len(c.ents) > 0 {
		c.bytes -= c.sizes[0]
		c.ents[0] = nil
		c.ents, c.sizes = c.ents[1:], c.sizes[1:]
	}
}

// dropFrom removes the entries at index i and after.
func (c *entryCache) dropFrom(i uint64) {
	if len(c.ents) == 0 || i > c.last() {
		return
	}
	if i <= c.first() {
		c.clear()
		return
	}
	k := int(i - c.first())
	for _, sz := range c.sizes[k:] {
		c.bytes -= sz
	}
	clear(c.ents[k:])
	c.ents, c.sizes = c.ents[:k], c.sizes[:k]
}

// truncate removes the entries at index i and before.
func (c *entryCache) truncate(i uint64) {
	if len(c.ents) == 0 || i < c.first() {
		return
	}
	if i >= c.last() {
		c.clear()
		return
	}
	k := int(i - c.first() + 1)
	for _, sz := range c.sizes[:k] {
		c.bytes -= sz
	}
	clear(c.ents[:k])
	c.ents, c.sizes = c.ents[k:], c.sizes[k:]
}

func (c *entryCache) clear() {
	c.ents, c.sizes, c.bytes = nil, nil, 0
}

// term returns the term of entry i if the cache holds it.
func (c *entryCache) term(i uint64) (uint64, bool) {
	if len(c.ents) == 0 || i < c.first() || i > c.last() {
		return 0, false
	}
	return c.ents[i-c.first()].GetTerm(), true
}

// entries returns [lo, hi) limited to maxSize bytes (at least one entry),
// as raft.Storage.Entries does, if the cache holds all of [lo, hi).
func (c *entryCache) entries(lo, hi, maxSize uint64) ([]*pb.Entry, bool) {
	if len(c.ents) == 0 || lo < c.first() || hi > c.last()+1 || lo >= hi {
		return nil, false
	}
	k := int(lo - c.first())
	n, size := 0, uint64(0)
	for i := k; i < k+int(hi-lo); i++ {
		size += c.sizes[i]
		if n > 0 && size > maxSize {
			break
		}
		n++
	}
	// The caller may append to the slice it gets: give it its own.
	return append([]*pb.Entry(nil), c.ents[k:k+n]...), true
}
