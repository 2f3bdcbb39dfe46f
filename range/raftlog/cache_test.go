package raftlog

import (
	"fmt"
	"math/rand/v2"
	"testing"

	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// TestEntryCacheModel drives the entry cache with random appends (some
// overwriting a suffix), truncations and clears, and checks every answer
// against a naive model of the log: the cache may miss, but what it returns
// must be the log's entries, contiguous, within the size limit.
func TestEntryCacheModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runEntryCacheModel(t, seed) })
	}
}

func runEntryCacheModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	c := &entryCache{max: 400}
	log := map[uint64]*pb.Entry{} // the model: index → entry
	first, last, term := uint64(1), uint64(0), uint64(1)
	for step := 0; step < 2000; step++ {
		switch op := rng.IntN(10); {
		case op < 6: // append, overwriting from lo
			lo := last + 1
			if last >= first && rng.IntN(3) == 0 {
				lo = first + uint64(rng.IntN(int(last-first+1)))
				term++
			}
			var es []*pb.Entry
			for i := lo; i < lo+uint64(1+rng.IntN(5)); i++ {
				e := &pb.Entry{Index: proto.Uint64(i), Term: proto.Uint64(term), Data: make([]byte, rng.IntN(60))}
				es = append(es, e)
				log[i] = e
			}
			for i := lo + uint64(len(es)); i <= last; i++ {
				delete(log, i)
			}
			last = lo + uint64(len(es)) - 1
			c.add(es)
		case op < 8 && last >= first: // truncate
			to := first + uint64(rng.IntN(int(last-first+1)))
			for i := first; i <= to; i++ {
				delete(log, i)
			}
			first = to + 1
			c.truncate(to)
		case op == 8 && rng.IntN(10) == 0:
			c.clear()
		}
		checkCache(t, c, log, first, last, rng)
	}
}

func checkCache(t *testing.T, c *entryCache, log map[uint64]*pb.Entry, first, last uint64, rng *rand.Rand) {
	t.Helper()
	if c.bytes > c.max {
		t.Fatalf("cache holds %d bytes, max %d", c.bytes, c.max)
	}
	var sum uint64
	for i, e := range c.ents {
		if want := log[e.GetIndex()]; want != e {
			t.Fatalf("cache holds %v at %d, log has %v", e, e.GetIndex(), want)
		}
		if i > 0 && e.GetIndex() != c.ents[i-1].GetIndex()+1 {
			t.Fatalf("cache not contiguous at %d", e.GetIndex())
		}
		sum += c.sizes[i]
	}
	if sum != c.bytes {
		t.Fatalf("cache accounts %d bytes, holds %d", c.bytes, sum)
	}
	if last < first {
		return
	}
	for i := first; i <= last; i++ {
		if term, ok := c.term(i); ok && term != log[i].GetTerm() {
			t.Fatalf("term(%d) = %d, want %d", i, term, log[i].GetTerm())
		}
	}
	lo := first + uint64(rng.IntN(int(last-first+1)))
	hi := lo + 1 + uint64(rng.IntN(int(last-lo+1)))
	maxSize := uint64(rng.IntN(200))
	got, ok := c.entries(lo, hi, maxSize)
	if !ok {
		return
	}
	var size uint64
	for k, e := range got {
		if e != log[lo+uint64(k)] {
			t.Fatalf("entries(%d,%d)[%d] = %v, want %v", lo, hi, k, e, log[lo+uint64(k)])
		}
		size += uint64(proto.Size(e))
	}
	if len(got) == 0 || (len(got) > 1 && size > maxSize) {
		t.Fatalf("entries(%d,%d,%d) returned %d entries of %d bytes", lo, hi, maxSize, len(got), size)
	}
	if n := uint64(len(got)); lo+n < hi {
		if size+uint64(proto.Size(log[lo+n])) <= maxSize {
			t.Fatalf("entries(%d,%d,%d) stopped early at %d entries of %d bytes", lo, hi, maxSize, n, size)
		}
	}
}
