package listappend

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/checker/history"
)

// gen describes a random serial execution.
type gen struct {
	txns    int
	keys    int  // keys live at once; they rotate every keyLife txns
	keyLife int  // 0: no rotation
	overlap bool // intervals overlap (still containing each commit point)
}

// generate applies random txns one after another to a model of lists. Txn i
// takes effect at time 100*(i+1), which lies inside its interval, so the
// history is strict serializable by construction. Some txns fail (no
// effect) or end as info (effect or not; reads unknown). A final ok read of
// every key follows. A process is sequential and retired after info.
func (g gen) generate(rng *rand.Rand) []history.Op {
	lists := map[string][]int64{}
	var ops []history.Op
	var procFree []int64 // by process id; -1 once retired
	nextVal := int64(1)
	for i := 0; i < g.txns; i++ {
		at := int64(100 * (i + 1))
		inv, done := at-40, at+40
		if g.overlap {
			inv, done = at-rng.Int64N(400), at+rng.Int64N(400)
		}
		op := history.Op{ID: len(ops), F: history.FTxn, Status: history.Ok, InvokeNs: inv, CompleteNs: done}
		op.Process, procFree = pickProcess(rng, procFree, inv, done)
		applied := true
		switch rng.IntN(20) {
		case 0:
			op.Status, applied = history.Fail, false
		case 1, 2:
			op.Status, applied = history.Info, rng.IntN(2) == 0
			procFree[op.Process] = -1
		}
		for j := 1 + rng.IntN(4); j > 0; j-- {
			k := g.key(rng, i)
			if rng.IntN(2) == 0 {
				op.Mops = append(op.Mops, history.Append(k, nextVal))
				nextVal++
				continue
			}
			op.Mops = append(op.Mops, history.Read(k))
		}
		g.apply(lists, &op, applied)
		ops = append(ops, op)
	}
	return append(ops, g.finalReads(lists, len(ops))...)
}

func (g gen) key(rng *rand.Rand, i int) string {
	base := 0
	if g.keyLife > 0 {
		base = i / g.keyLife
	}
	return fmt.Sprint("k", base+rng.IntN(g.keys))
}

// apply runs op's mops against lists (or a scratch copy when the txn has no
// effect) and fills in reads, which only ok txns report.
func (g gen) apply(lists map[string][]int64, op *history.Op, applied bool) {
	view := lists
	if !applied {
		view = map[string][]int64{}
		for _, m := range op.Mops {
			view[m.Key] = lists[m.Key]
		}
	}
	for j := range op.Mops {
		m := &op.Mops[j]
		if m.F == history.FAppend {
			view[m.Key] = append(slices.Clip(view[m.Key]), m.Val)
		} else if op.Status == history.Ok {
			m.List = slices.Clone(view[m.Key])
		}
	}
}

func (g gen) finalReads(lists map[string][]int64, n int) []history.Op {
	keys := make([]string, 0, len(lists))
	for k := range lists {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var ops []history.Op
	at := int64(100 * (n + 10))
	for i, k := range keys {
		ops = append(ops, history.Op{ID: n + i, Process: 1_000_000 + i, F: history.FTxn, Status: history.Ok,
			InvokeNs: at, CompleteNs: at + 10, Mops: []history.Mop{history.Read(k, lists[k]...)}})
	}
	return ops
}

// pickProcess returns a live process free over [inv, done], making a new
// one if none is.
func pickProcess(rng *rand.Rand, procFree []int64, inv, done int64) (int, []int64) {
	start := rng.IntN(len(procFree) + 1)
	for j := range procFree {
		p := (start + j) % len(procFree)
		if procFree[p] >= 0 && procFree[p] < inv {
			procFree[p] = done
			return p, procFree
		}
	}
	return len(procFree), append(procFree, done)
}

func TestRandomSerialClean(t *testing.T) {
	for _, g := range []gen{
		{txns: 300, keys: 3},
		{txns: 300, keys: 3, overlap: true},
		{txns: 1000, keys: 5, keyLife: 50, overlap: true},
	} {
		for seed := uint64(1); seed <= 20; seed++ {
			ops := g.generate(rand.New(rand.NewPCG(seed, 0)))
			for _, process := range []bool{false, true} {
				res, err := Check(ops, Config{ProcessOrder: process})
				if err != nil {
					t.Fatalf("%+v seed %d: %v", g, seed, err)
				}
				if !res.StrictSerializable() || len(res.Anomalies) > 0 {
					t.Fatalf("%+v seed %d process=%t: false positive:\n%s", g, seed, process, res)
				}
			}
		}
	}
}

// TestRandomMutationsCaught breaks one read of a serial history with
// non-overlapping txns and a final read per key; every such break must show.
func TestRandomMutationsCaught(t *testing.T) {
	g := gen{txns: 200, keys: 3}
	for _, m := range []struct {
		name   string
		mutate func(rng *rand.Rand, ops []history.Op) bool
	}{
		{"drop element", dropElement},
		{"swap adjacent", swapAdjacent},
	} {
		mutated := 0
		for seed := uint64(1); seed <= 50; seed++ {
			rng := rand.New(rand.NewPCG(seed, 1))
			ops := g.generate(rng)
			if !m.mutate(rng, ops) {
				continue
			}
			mutated++
			res, err := Check(ops, Config{})
			if err != nil {
				t.Fatalf("%s seed %d: %v", m.name, seed, err)
			}
			if res.StrictSerializable() {
				t.Fatalf("%s seed %d: mutation not caught:\n%s", m.name, seed, res)
			}
		}
		if mutated < 25 {
			t.Fatalf("%s: only %d of 50 histories mutated", m.name, mutated)
		}
	}
}

// okWriters maps each value to whether its writer is ok.
func okWriters(ops []history.Op) map[int64]bool {
	w := map[int64]bool{}
	for _, op := range ops {
		for _, m := range op.Mops {
			if m.F == history.FAppend {
				w[m.Val] = op.Status == history.Ok
			}
		}
	}
	return w
}

// pickRead returns a random ok read mop with at least n elements.
func pickRead(rng *rand.Rand, ops []history.Op, n int) *history.Mop {
	var reads []*history.Mop
	for i := range ops {
		for j := range ops[i].Mops {
			if m := &ops[i].Mops[j]; ops[i].Status == history.Ok && m.F == history.FRead && len(m.List) >= n {
				reads = append(reads, m)
			}
		}
	}
	if len(reads) == 0 {
		return nil
	}
	return reads[rng.IntN(len(reads))]
}

func dropElement(rng *rand.Rand, ops []history.Op) bool {
	m, okw := pickRead(rng, ops, 1), okWriters(ops)
	if m == nil {
		return false
	}
	i := rng.IntN(len(m.List))
	if !okw[m.List[i]] {
		return false
	}
	m.List = slices.Delete(slices.Clone(m.List), i, i+1)
	return true
}

func swapAdjacent(rng *rand.Rand, ops []history.Op) bool {
	m, okw := pickRead(rng, ops, 2), okWriters(ops)
	if m == nil {
		return false
	}
	i := rng.IntN(len(m.List) - 1)
	a, b := m.List[i], m.List[i+1]
	if !okw[a] || !okw[b] || sameWriter(ops, a, b) {
		return false
	}
	m.List = slices.Clone(m.List)
	m.List[i], m.List[i+1] = b, a
	return true
}

func sameWriter(ops []history.Op, a, b int64) bool {
	for _, op := range ops {
		var hasA, hasB bool
		for _, m := range op.Mops {
			hasA = hasA || (m.F == history.FAppend && m.Val == a)
			hasB = hasB || (m.F == history.FAppend && m.Val == b)
		}
		if hasA || hasB {
			return hasA && hasB
		}
	}
	return false
}

// large is the benchmark's history: 50k txns over rotating keys.
var large = gen{txns: 50_000, keys: 8, keyLife: 400, overlap: true}

func TestLargeHistory(t *testing.T) {
	ops := large.generate(rand.New(rand.NewPCG(1, 2)))
	start := time.Now()
	res, err := Check(ops, Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s in %v", res.Summary(), time.Since(start))
	if !res.StrictSerializable() {
		t.Fatalf("false positive: %s", res)
	}
}

func BenchmarkCheck50k(b *testing.B) {
	ops := large.generate(rand.New(rand.NewPCG(1, 2)))
	b.ResetTimer()
	for range b.N {
		if _, err := Check(ops, Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
