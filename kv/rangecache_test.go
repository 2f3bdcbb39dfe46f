package kv

import (
	"testing"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

func desc(id, gen uint64, start, end string) *rpcpb.RangeDescriptor {
	return &rpcpb.RangeDescriptor{RangeId: id, Generation: gen, StartKey: []byte(start), EndKey: []byte(end)}
}

func TestRangeCache(t *testing.T) {
	c := NewRangeCache()
	c.Insert(desc(2, 1, "a", "z"))
	if d := c.Lookup([]byte("m")); d == nil || d.RangeId != 2 {
		t.Fatalf("lookup m: %v", d)
	}
	if d := c.Lookup([]byte("z")); d != nil {
		t.Fatalf("end key is exclusive, got %v", d)
	}
	// A split replaces the old descriptor with both halves.
	c.Insert(desc(2, 2, "a", "m"), desc(3, 2, "m", "z"))
	if d := c.Lookup([]byte("m")); d == nil || d.RangeId != 3 {
		t.Fatalf("after split lookup m: %v", d)
	}
	if d := c.Lookup([]byte("b")); d == nil || d.RangeId != 2 || d.Generation != 2 {
		t.Fatalf("after split lookup b: %v", d)
	}
	// A stale descriptor does not replace newer ones.
	c.Insert(desc(2, 1, "a", "z"))
	if d := c.Lookup([]byte("n")); d == nil || d.RangeId != 3 {
		t.Fatalf("stale insert won: %v", d)
	}
	c.Evict(3)
	if d := c.Lookup([]byte("n")); d != nil {
		t.Fatalf("evicted: %v", d)
	}
	c.SetLeaseholder(2, 7)
	if c.Leaseholder(2) != 7 {
		t.Fatal("leaseholder not recorded")
	}
}
