package replica

import (
	"container/list"
	"sync"

	"github.com/ordodb/ordo/kv/kverr"
)

// Predicate reports whether a row, given as its stored KV pair, passes a
// scan's filter. It must be safe for concurrent use.
type Predicate func(key, value []byte) (bool, error)

// FilterCompiler turns the filter spec a SCAN carries (Op.Filter) into a
// Predicate. The range layer knows nothing of its format: the server
// injects the SQL layer's compiler.
type FilterCompiler func(spec []byte) (Predicate, error)

// filterCacheSize is how many compiled specs a FilterCache keeps.
const filterCacheSize = 256

// FilterCache compiles filter specs with a FilterCompiler and keeps the
// most recently used ones, keyed by the spec's bytes: a statement run many
// times sends the same spec to every range. One cache serves a store's
// replicas. A nil *FilterCache has no compiler: every filter is refused.
type FilterCache struct {
	compile FilterCompiler
	mu      struct {
		sync.Mutex
		byKey map[string]*list.Element
		lru   list.List // of *filterEntry, most recent first
	}
}

type filterEntry struct {
	spec string
	pred Predicate
}

// NewFilterCache returns a cache over compile (nil: filters are refused).
func NewFilterCache(compile FilterCompiler) *FilterCache {
	if compile == nil {
		return nil
	}
	c := &FilterCache{compile: compile}
	c.mu.byKey = map[string]*list.Element{}
	return c
}

// Predicate returns the compiled spec. A node without a compiler, or a spec
// that does not compile, is a BAD_REQUEST: ignoring a filter would return
// rows the client did not ask for.
func (c *FilterCache) Predicate(spec []byte) (Predicate, error) {
	if c == nil {
		return nil, kverr.BadRequestf("scan filter: this node has no filter compiler")
	}
	if p := c.lookup(spec); p != nil {
		return p, nil
	}
	p, err := c.compile(spec)
	if err != nil {
		return nil, kverr.BadRequestf("scan filter: %v", err)
	}
	c.add(spec, p)
	return p, nil
}

func (c *FilterCache) lookup(spec []byte) Predicate {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.mu.byKey[string(spec)]
	if !ok {
		return nil
	}
	c.mu.lru.MoveToFront(e)
	return e.Value.(*filterEntry).pred
}

func (c *FilterCache) add(spec []byte, p Predicate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.byKey[string(spec)]; ok {
		return
	}
	c.mu.byKey[string(spec)] = c.mu.lru.PushFront(&filterEntry{spec: string(spec), pred: p})
	if c.mu.lru.Len() > filterCacheSize {
		last := c.mu.lru.Back()
		c.mu.lru.Remove(last)
		delete(c.mu.byKey, last.Value.(*filterEntry).spec)
	}
}

// Len is the number of cached specs (for tests).
func (c *FilterCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.lru.Len()
}

// scanPredicate returns a scan's filter compiled, nil when it has none.
func scanPredicate(c *FilterCache, spec []byte) (Predicate, error) {
	if len(spec) == 0 {
		return nil, nil
	}
	return c.Predicate(spec)
}

// matches runs p on one row; a failure is an error of the scan, never a
// dropped row, and a panic of the compiled code (a bug) is one too rather
// than the end of the node.
func matches(p Predicate, k, v []byte) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, kverr.BadRequestf("scan filter: evaluation failed: %v", r)
		}
	}()
	ok, err = p(k, v)
	if err != nil {
		err = kverr.BadRequestf("scan filter: %v", err)
	}
	return ok, err
}
