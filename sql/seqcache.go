package sql

import (
	"context"
	"sync"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
)

// defaultSequenceNodeCache is the block size when neither the sequence's
// CACHE nor the node's setting gives one.
const defaultSequenceNodeCache = 32

// seqCache is the node's cache of sequence values (docs/catalog.md,
// "Sequences"): per sequence, a block reserved from the sequence's counter
// in a short transaction of its own, tagged with the version of the
// sequence's descriptor the reserving transaction read. A transaction
// takes a value from the block only when the block's version is at least
// the one it read itself; setval writes the descriptor (a new version), so
// once it commits every transaction that reads the sequence drops the
// older blocks. One reservation per sequence is in flight at a time
// (others wait for it), so a node hands out increasing values.
type seqCache struct {
	db   kvapi.DB
	size func() int64 // the node's block size; nil: the default
	mu   struct {
		sync.Mutex
		seqs map[uint64]*seqEntry
	}
}

type seqEntry struct {
	version  uint64
	block    *catalog.SeqBlock
	fetching chan struct{} // closed when the reservation in flight ends
}

func newSeqCache(db kvapi.DB, size func() int64) *seqCache {
	c := &seqCache{db: db, size: size}
	c.mu.seqs = map[uint64]*seqEntry{}
	return c
}

// blockSize is the sequence's CACHE if above 1, else the node's setting.
func (c *seqCache) blockSize(seq *catalog.Sequence) int64 {
	if seq.Cache > 1 {
		return seq.Cache
	}
	if c.size != nil {
		if n := c.size(); n > 0 {
			return n
		}
	}
	return defaultSequenceNodeCache
}

// next returns the sequence's next value on this node; d is its
// descriptor as the caller's transaction read it.
func (c *seqCache) next(ctx context.Context, d *catalog.Descriptor) (int64, error) {
	for {
		v, wait, fetch := c.takeLocked(d)
		if fetch != nil {
			return c.fetch(ctx, d, fetch)
		}
		if wait == nil {
			return v, nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// takeLocked takes a value from a usable block, or returns the
// reservation in flight to wait for, or the entry whose reservation the
// caller must make.
func (c *seqCache) takeLocked(d *catalog.Descriptor) (int64, <-chan struct{}, *seqEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.mu.seqs[d.ID]
	if e == nil {
		e = &seqEntry{}
		c.mu.seqs[d.ID] = e
	}
	if e.fetching != nil {
		return 0, e.fetching, nil
	}
	if e.version >= d.Version {
		if v, ok := e.block.Take(); ok {
			return v, nil, nil
		}
	}
	e.block, e.fetching = nil, make(chan struct{})
	return 0, nil, e
}

// fetch reserves a new block for e and takes its first value.
func (c *seqCache) fetch(ctx context.Context, d *catalog.Descriptor, e *seqEntry) (int64, error) {
	b, err := catalog.ReserveBlock(ctx, c.db, d.ID, d.Sequence, c.blockSize(d.Sequence))
	c.mu.Lock()
	defer c.mu.Unlock()
	close(e.fetching)
	e.fetching = nil
	if err != nil {
		return 0, err
	}
	e.version, e.block = d.Version, b
	v, _ := b.Take()
	return v, nil
}

// forget drops the sequence's block on this node (setval, DROP).
func (c *seqCache) forget(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.mu.seqs[id]; e != nil && e.fetching == nil {
		delete(c.mu.seqs, id)
	} else if e != nil {
		e.version, e.block = 0, nil
	}
}
