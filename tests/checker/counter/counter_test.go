package counter

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

const (
	ok   = history.Ok
	fail = history.Fail
	info = history.Info
)

var nextID int

func op(p int, call, ret int64, st history.Status, f string, v int64) history.Op {
	nextID++
	return history.Op{ID: nextID, Process: p, InvokeNs: call, CompleteNs: ret, Status: st, F: f, Count: v}
}

func inc(p int, call, ret int64, st history.Status, v int64) history.Op {
	return op(p, call, ret, st, history.FAdd, v)
}

func rd(p int, call, ret int64, v int64) history.Op { return op(p, call, ret, ok, history.FRead, v) }

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []history.Op
		want map[Class]int
	}{
		{"sequential", []history.Op{rd(0, 0, 5, 0), inc(0, 10, 20, ok, 1), inc(1, 30, 40, ok, 2), rd(0, 50, 60, 2)}, nil},
		{"concurrent read sees either", []history.Op{inc(0, 0, 100, ok, 1), rd(1, 10, 20, 0), rd(2, 30, 40, 1)}, nil},
		{"info increment may apply", []history.Op{inc(0, 0, 10, info, 0), rd(1, 20, 30, 1), rd(1, 40, 50, 1)}, nil},
		{"info increment may not apply", []history.Op{inc(0, 0, 10, info, 0), rd(1, 20, 30, 0)}, nil},
		{"failed increments ignored", []history.Op{inc(0, 0, 10, fail, 0), rd(1, 20, 30, 0)}, nil},

		{"read above attempts", []history.Op{inc(0, 0, 10, ok, 1), rd(1, 20, 30, 2)}, map[Class]int{Over: 1}},
		{"failed increment applied", []history.Op{inc(0, 0, 10, fail, 0), rd(1, 20, 30, 1)}, map[Class]int{Over: 1}},
		{"acknowledged increment lost", []history.Op{inc(0, 0, 10, ok, 1), inc(0, 20, 30, ok, 2), rd(1, 40, 50, 1)},
			map[Class]int{Under: 1, NonMonotonicRealtime: 1}},
		{"process reads decrease", []history.Op{
			inc(0, 0, 100, ok, 1), inc(1, 0, 100, ok, 2), rd(2, 10, 20, 2), rd(2, 30, 40, 1)},
			map[Class]int{NonMonotonic: 1, NonMonotonicRealtime: 1}},
		{"stale read in real time", []history.Op{
			inc(0, 0, 100, ok, 1), inc(1, 0, 100, ok, 2), rd(2, 10, 20, 2), rd(3, 30, 40, 1)},
			map[Class]int{NonMonotonicRealtime: 1}},
		{"increment below a completed read", []history.Op{
			inc(0, 0, 100, info, 0), inc(1, 0, 100, info, 0), rd(2, 10, 20, 2), inc(3, 30, 40, ok, 2)},
			map[Class]int{NonMonotonicRealtime: 1, Duplicate: 0, Over: 0}},
		{"duplicate increment", []history.Op{inc(0, 0, 100, ok, 1), inc(1, 0, 100, ok, 1)},
			map[Class]int{Duplicate: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Check(tc.ops)
			if err != nil {
				t.Fatal(err)
			}
			valid := true
			for _, c := range Classes {
				if res.Counts[c] != tc.want[c] {
					t.Errorf("%s: got %d, want %d\n%s", c, res.Counts[c], tc.want[c], res)
				}
				valid = valid && tc.want[c] == 0
			}
			if res.Valid() != valid {
				t.Errorf("valid=%t\n%s", res.Valid(), res)
			}
			if !valid && !strings.Contains(res.String(), "op ") {
				t.Errorf("no explanation:\n%s", res)
			}
		})
	}
}

// TestRandomValid checks histories generated from a real counter: each op
// takes effect at a point inside its interval. Then one read is made to
// lag one increment behind a value seen before it began, which must be
// caught.
func TestRandomValid(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			ops := randomHistory(rand.New(rand.NewPCG(seed, 0)), 300)
			res, err := Check(ops)
			if err != nil || !res.Valid() {
				t.Fatalf("seed %d: %v\n%s", seed, err, res)
			}
			if res.Final < 0 {
				t.Fatalf("seed %d: no final read", seed)
			}
			last := &ops[len(ops)-1] // a read taken after everything else
			last.Count--
			if res, _ := Check(ops); res.Valid() {
				t.Fatalf("seed %d: a final read one below the truth passed:\n%s", seed, res)
			}
		})
	}
}

func randomHistory(rng *rand.Rand, n int) []history.Op {
	var ops []history.Op
	var v int64
	free := make([]int64, 4)
	proc := []int{0, 1, 2, 3}
	next := 4
	for i := range n {
		at := int64(100 * (i + 1))
		c := rng.IntN(len(free))
		if free[c] > at {
			continue
		}
		o := history.Op{ID: len(ops), Process: proc[c], Status: ok, F: history.FRead}
		o.InvokeNs = max(free[c], at-rng.Int64N(250))
		o.CompleteNs = at + rng.Int64N(250)
		free[c] = o.CompleteNs + 1
		if rng.IntN(2) == 0 {
			o.F = history.FAdd
			switch rng.IntN(10) {
			case 0:
				o.Status = history.Fail
			case 1:
				o.Status = history.Info
				if rng.IntN(2) == 0 {
					v++
				}
				proc[c], next = next, next+1
			default:
				v++
			}
		}
		if o.Status == ok {
			o.Count = v
		}
		ops = append(ops, o)
	}
	end := int64(100*(n+1)) + 1000
	return append(ops, history.Op{ID: len(ops), Process: next, InvokeNs: end, CompleteNs: end + 10, Status: ok, F: history.FRead, Count: v})
}
