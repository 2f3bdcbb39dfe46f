package register

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/ordodb/ordo/tests/checker/history"
)

const (
	ok   = history.Ok
	fail = history.Fail
	info = history.Info
)

func w(p int, call, ret int64, st history.Status, k, v string) history.Op {
	return history.Op{Process: p, InvokeNs: call, CompleteNs: ret, Status: st, F: history.FWrite, Key: k, Value: v}
}

// r is a read that found v; v == "" means the key was missing.
func r(p int, call, ret int64, st history.Status, k, v string) history.Op {
	return history.Op{Process: p, InvokeNs: call, CompleteNs: ret, Status: st, F: history.FRead, Key: k, Value: v, Exists: v != ""}
}

func cas(p int, call, ret int64, st history.Status, k, old, v string, swapped bool) history.Op {
	return history.Op{Process: p, InvokeNs: call, CompleteNs: ret, Status: st, F: history.FCAS, Key: k,
		Expected: old, Value: v, Swapped: swapped}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ops   []history.Op
		legal bool
	}{
		{"empty", nil, true},
		{"write then read", []history.Op{w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, ok, "x", "1")}, true},
		{"missing key reads as none", []history.Op{r(0, 0, 10, ok, "x", ""), w(1, 20, 30, ok, "x", "1")}, true},
		{"concurrent read sees new", []history.Op{
			w(0, 0, 10, ok, "x", "1"), w(1, 20, 40, ok, "x", "2"), r(2, 15, 25, ok, "x", "2"), r(3, 30, 50, ok, "x", "2")}, true},
		{"concurrent read sees old", []history.Op{
			w(0, 0, 10, ok, "x", "1"), w(1, 20, 40, ok, "x", "2"), r(2, 15, 25, ok, "x", "1"), r(3, 50, 60, ok, "x", "2")}, true},
		{"cas chain", []history.Op{
			w(0, 0, 10, ok, "x", "1"), cas(1, 20, 30, ok, "x", "1", "2", true), cas(2, 40, 50, ok, "x", "1", "3", false),
			r(0, 60, 70, ok, "x", "2")}, true},
		{"cas on missing key fails", []history.Op{cas(0, 0, 10, ok, "x", "", "1", false), r(0, 20, 30, ok, "x", "")}, true},
		{"info write observed late", []history.Op{
			w(0, 0, 10, info, "x", "1"), r(1, 100, 110, ok, "x", ""), r(1, 200, 210, ok, "x", "1")}, true},
		{"info write never observed", []history.Op{w(0, 0, 10, info, "x", "1"), r(1, 100, 110, ok, "x", "")}, true},
		{"info cas applied", []history.Op{
			w(0, 0, 10, ok, "x", "1"), cas(1, 20, 30, info, "x", "1", "2", false), r(2, 40, 50, ok, "x", "1"),
			r(2, 60, 70, ok, "x", "2")}, true},
		{"info cas not applied", []history.Op{
			w(0, 0, 10, ok, "x", "1"), cas(1, 20, 30, info, "x", "1", "2", false), r(2, 40, 50, ok, "x", "1")}, true},
		{"failed read dropped", []history.Op{w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, fail, "x", "junk")}, true},
		{"keys independent", []history.Op{
			w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, ok, "y", ""), w(0, 40, 50, ok, "y", "2"), r(1, 60, 70, ok, "x", "1")}, true},
		{"nemesis events skipped", []history.Op{
			{Process: history.NemesisProcess, F: "partition-start", Status: ok}, w(0, 0, 10, ok, "x", "1")}, true},

		{"stale read", []history.Op{
			w(0, 0, 10, ok, "x", "1"), w(0, 20, 30, ok, "x", "2"), r(1, 40, 50, ok, "x", "1")}, false},
		{"lost write", []history.Op{w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, ok, "x", "")}, false},
		{"read of never-written value", []history.Op{w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, ok, "x", "7")}, false},
		{"failed write observed", []history.Op{w(0, 0, 10, fail, "x", "1"), r(1, 20, 30, ok, "x", "1")}, false},
		{"double cas success", []history.Op{
			w(0, 0, 10, ok, "x", "1"), cas(1, 20, 30, ok, "x", "1", "2", true), cas(2, 40, 50, ok, "x", "1", "3", true)}, false},
		{"cas fails though value matched", []history.Op{
			w(0, 0, 10, ok, "x", "1"), cas(1, 20, 30, ok, "x", "1", "2", false)}, false},
		{"cas effect missing", []history.Op{
			w(0, 0, 10, ok, "x", "1"), cas(1, 20, 30, ok, "x", "1", "2", true), r(2, 40, 50, ok, "x", "1")}, false},
		{"value leaks across keys", []history.Op{w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, ok, "y", "1")}, false},
		{"non-monotonic reads", []history.Op{
			w(0, 0, 10, ok, "x", "1"), w(1, 5, 100, ok, "x", "2"), r(2, 20, 30, ok, "x", "2"), r(2, 40, 50, ok, "x", "1")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := CheckHistory(number(tc.ops), 10*time.Second, "")
			if tc.legal && (res != porcupine.Ok || err != nil) {
				t.Fatalf("legal history: %v, %v", res, err)
			}
			if !tc.legal && (res != porcupine.Illegal || !errors.Is(err, ErrNotLinearizable)) {
				t.Fatalf("illegal history: %v, %v", res, err)
			}
		})
	}
}

func number(ops []history.Op) []history.Op {
	for i := range ops {
		ops[i].ID = i
	}
	return ops
}

func TestOperationsConventions(t *testing.T) {
	ops := number([]history.Op{
		w(0, 0, 10, info, "x", "1"),
		cas(1, 0, 10, info, "x", "1", "2", true),
		w(2, 0, 10, fail, "x", "3"),
		r(3, 0, 10, info, "x", "1"),
		r(4, 0, 10, ok, "x", "1"),
		cas(5, 0, 10, ok, "x", "1", "2", true),
	})
	p, err := Operations(ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 4 {
		t.Fatalf("want 4 ops (fail write and info read dropped), got %d", len(p))
	}
	for i := 0; i < 2; i++ {
		if p[i].Return != math.MaxInt64 || !p[i].Output.(Output).Unknown {
			t.Fatalf("info op %d: %+v", i, p[i])
		}
	}
	if o := p[2].Output.(Output); !o.Ok || !o.Exists || o.Value != "1" {
		t.Fatalf("read output %+v", o)
	}
	if o := p[3].Output.(Output); !o.Ok || p[3].Return != 10 {
		t.Fatalf("cas %+v", p[3])
	}
}

func TestOperationsErrors(t *testing.T) {
	for _, op := range []history.Op{
		{F: "incr", Status: ok},
		{F: history.FRead, Status: 0},
		{F: history.FWrite, Status: ok, InvokeNs: 10, CompleteNs: 5},
		{F: history.FRead, Status: ok, Value: "x"},
	} {
		if _, err := Operations([]history.Op{op}); err == nil {
			t.Errorf("%v: no error", op)
		}
	}
}

func TestResultError(t *testing.T) {
	for _, tc := range []struct {
		res porcupine.CheckResult
		err error
	}{{porcupine.Ok, nil}, {porcupine.Illegal, ErrNotLinearizable}, {porcupine.Unknown, ErrUnknown}} {
		if res, err := resultError(tc.res); res != tc.res || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%v: got %v, %v", tc.res, res, err)
		}
	}
}

func TestVisualization(t *testing.T) {
	path := t.TempDir() + "/history.html"
	ops := number([]history.Op{w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, ok, "x", "2")})
	if _, err := CheckHistory(ops, time.Second, path); !errors.Is(err, ErrNotLinearizable) {
		t.Fatalf("want illegal, got %v", err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("visualization: %v %v", st, err)
	}
}

// TestRandomLinearizable checks concurrent histories generated from a
// sequential register: every op takes effect at a point inside its interval.
func TestRandomLinearizable(t *testing.T) {
	for i := 0; i < 20; i++ {
		seed := uint64(i) + 1
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			ops := randomHistory(rand.New(rand.NewPCG(seed, 0)), 150)
			if res, err := CheckHistory(ops, 10*time.Second, ""); err != nil {
				t.Fatalf("seed %d: %v %v", seed, res, err)
			}
			// Making one ok read return a never-written value breaks it.
			for j := range ops {
				if ops[j].F == history.FRead && ops[j].Status == ok {
					ops[j].Value, ops[j].Exists = "never", true
					break
				}
			}
			if _, err := CheckHistory(ops, 10*time.Second, ""); !errors.Is(err, ErrNotLinearizable) {
				t.Fatalf("seed %d: mutated history passed: %v", seed, err)
			}
		})
	}
}

// randomHistory applies n random ops to a model in commit order; op i takes
// effect at time 100*i and its interval straddles that point. Up to four
// processes overlap; an info result moves the client to a new process.
func randomHistory(rng *rand.Rand, n int) []history.Op {
	vals := map[string]string{}
	procFree := []int64{0, 0, 0, 0}
	procID := []int{0, 1, 2, 3}
	nextProc := 4
	var ops []history.Op
	for i := 0; i < n; i++ {
		at := int64(100 * (i + 1))
		c := rng.IntN(len(procFree))
		if procFree[c] > at {
			continue // that client is still busy; skip this slot
		}
		op := history.Op{ID: len(ops), Process: procID[c], Key: fmt.Sprint("k", rng.IntN(3)), Status: ok}
		op.InvokeNs = max(procFree[c], at-rng.Int64N(250))
		op.CompleteNs = at + rng.Int64N(250)
		procFree[c] = op.CompleteNs + 1
		cur, exists := vals[op.Key]
		// A write or CAS may end as info, applied or not.
		f, applied := rng.IntN(3), true
		if f != 0 && rng.IntN(8) == 0 {
			op.Status, applied = info, rng.IntN(2) == 0
			procID[c], nextProc = nextProc, nextProc+1
		}
		switch f {
		case 0:
			op.F, op.Value, op.Exists = history.FRead, cur, exists
		case 1:
			op.F, op.Value = history.FWrite, fmt.Sprint(i)
			if applied {
				vals[op.Key] = op.Value
			}
		case 2:
			op.F, op.Value, op.Expected = history.FCAS, fmt.Sprint(i), cur
			if rng.IntN(3) == 0 {
				op.Expected = "nope"
			}
			op.Swapped = exists && cur == op.Expected && op.Status == ok
			if exists && cur == op.Expected && applied {
				vals[op.Key] = op.Value
			}
		}
		ops = append(ops, op)
	}
	return ops
}

func TestIllegalKeys(t *testing.T) {
	ops := number([]history.Op{
		w(0, 0, 10, ok, "x", "1"), r(1, 20, 30, ok, "x", "1"),
		w(0, 40, 50, ok, "y", "1"), w(0, 60, 70, ok, "y", "2"), r(1, 80, 90, ok, "y", "1"),
		w(0, 100, 110, ok, "z", "1"), r(1, 120, 130, ok, "z", "9"),
	})
	p, err := Operations(ops)
	if err != nil {
		t.Fatal(err)
	}
	if got := IllegalKeys(p, time.Second); !slices.Equal(got, []string{"y", "z"}) {
		t.Fatalf("illegal keys %v, want [y z]", got)
	}
}
