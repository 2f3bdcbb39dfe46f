package bank

import (
	"math/rand/v2"
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

const (
	ok   = history.Ok
	fail = history.Fail
	info = history.Info
)

var initial = map[string]int64{"a": 10, "b": 10, "c": 0}

func rd(inv, done int64, st history.Status, bal map[string]int64) history.Op {
	return history.Op{F: history.FRead, InvokeNs: inv, CompleteNs: done, Status: st, Balances: bal}
}

func xfer(inv, done int64, st history.Status, from, to string, amt int64) history.Op {
	return history.Op{F: history.FTransfer, InvokeNs: inv, CompleteNs: done, Status: st,
		Transfer: &history.Transfer{From: from, To: to, Amount: amt}}
}

type bal = map[string]int64

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []history.Op
		want map[Class]int
	}{
		{name: "no reads", want: map[Class]int{NoFinalRead: 1}},
		{name: "initial read", ops: []history.Op{rd(0, 10, ok, bal{"a": 10, "b": 10, "c": 0})}},
		{name: "transfers applied", ops: []history.Op{
			xfer(0, 10, ok, "a", "b", 3),
			xfer(20, 30, ok, "b", "c", 5),
			rd(40, 50, ok, bal{"a": 7, "b": 8, "c": 5}),
		}},
		{name: "concurrent and info transfers either way", ops: []history.Op{
			xfer(0, 10, info, "a", "c", 4),
			xfer(30, 60, ok, "b", "c", 2),
			rd(40, 50, ok, bal{"a": 6, "b": 10, "c": 4}),
		}},
		{name: "failed transfer not applied", ops: []history.Op{
			xfer(0, 10, fail, "a", "c", 4),
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "failed and info reads ignored", ops: []history.Op{
			rd(0, 10, fail, bal{"a": -1}),
			rd(0, 10, info, nil),
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "nemesis skipped", ops: []history.Op{
			{Process: history.NemesisProcess, F: "partition"},
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "wrong total", want: map[Class]int{WrongTotal: 1}, ops: []history.Op{
			rd(0, 10, ok, bal{"a": 10, "b": 10, "c": 1}),
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "negative", want: map[Class]int{NegativeBalance: 1}, ops: []history.Op{
			rd(0, 10, ok, bal{"a": -1, "b": 21, "c": 0}),
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "nil balance", want: map[Class]int{NilBalance: 1, WrongTotal: 1}, ops: []history.Op{
			rd(0, 10, ok, bal{"b": 10, "c": 0}),
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "unexpected account", want: map[Class]int{UnexpectedAccount: 1}, ops: []history.Op{
			rd(0, 10, ok, bal{"a": 10, "b": 10, "c": 0, "d": 0}),
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "lost acknowledged transfer", want: map[Class]int{FinalOutOfBounds: 2}, ops: []history.Op{
			xfer(0, 10, ok, "a", "b", 3),
			rd(40, 50, ok, bal{"a": 10, "b": 10, "c": 0}),
		}},
		{name: "phantom failed transfer", want: map[Class]int{FinalOutOfBounds: 2}, ops: []history.Op{
			xfer(0, 10, fail, "a", "b", 3),
			rd(40, 50, ok, bal{"a": 7, "b": 13, "c": 0}),
		}},
		{name: "transfer after final read excluded", want: map[Class]int{FinalOutOfBounds: 2}, ops: []history.Op{
			rd(40, 50, ok, bal{"a": 7, "b": 13, "c": 0}),
			xfer(60, 70, ok, "a", "b", 3),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.ops {
				tc.ops[i].ID = i
			}
			res, err := Check(tc.ops, Config{Initial: initial})
			if err != nil {
				t.Fatal(err)
			}
			for c := range merge(res.Counts, tc.want) {
				if res.Counts[c] != tc.want[c] {
					t.Errorf("%s: got %d, want %d", c, res.Counts[c], tc.want[c])
				}
			}
			if res.Valid() != (len(tc.want) == 0) {
				t.Errorf("valid=%t", res.Valid())
			}
			if t.Failed() {
				t.Log(res)
			}
		})
	}
}

func merge(a, b map[Class]int) map[Class]bool {
	m := map[Class]bool{}
	for c := range a {
		m[c] = true
	}
	for c := range b {
		m[c] = true
	}
	return m
}

func TestAllowNegative(t *testing.T) {
	ops := []history.Op{rd(0, 10, ok, bal{"a": -5, "b": 25, "c": 0})}
	res, err := Check(ops, Config{Initial: initial, AllowNegative: true})
	if err != nil {
		t.Fatal(err)
	}
	// The only read is final, and -5 is unreachable without transfers.
	if res.Counts[NegativeBalance] != 0 || res.Counts[FinalOutOfBounds] != 2 {
		t.Fatal(res)
	}
}

func TestCheckErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		ops []history.Op
		cfg Config
	}{
		"no accounts":      {cfg: Config{}},
		"unknown f":        {ops: []history.Op{{F: "cas", Status: ok}}},
		"no transfer":      {ops: []history.Op{{F: history.FTransfer, Status: ok}}},
		"unknown account":  {ops: []history.Op{xfer(0, 1, ok, "a", "z", 1)}},
		"unknown account2": {ops: []history.Op{xfer(0, 1, ok, "z", "a", 1)}},
		"bad status":       {ops: []history.Op{rd(0, 1, 0, nil)}},
	} {
		cfg := tc.cfg
		if name != "no accounts" {
			cfg.Initial = initial
		}
		if _, err := Check(tc.ops, cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRandomSerial runs random transfers and reads against a model, each
// taking effect inside its interval, and expects no anomaly. Without info
// transfers the final bounds are exact, so turning one acknowledged
// transfer into a failed one (a phantom in the final read) must show.
func TestRandomSerial(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		for _, infoOneIn := range []int{10, 0} {
			rng := rand.New(rand.NewPCG(seed, 0))
			ops := randomHistory(rng, 300, infoOneIn)
			res, err := Check(ops, Config{Initial: initial})
			if err != nil || !res.Valid() {
				t.Fatalf("seed %d: %v\n%v", seed, err, res)
			}
			if infoOneIn != 0 {
				continue
			}
			for i := range ops {
				if x := ops[i].Transfer; x != nil && ops[i].Status == ok && x.From != x.To {
					ops[i].Status = fail
					break
				}
			}
			if res, _ := Check(ops, Config{Initial: initial}); res.Counts[FinalOutOfBounds] == 0 {
				t.Fatalf("seed %d: phantom transfer not caught\n%v", seed, res)
			}
		}
	}
}

func randomHistory(rng *rand.Rand, n, infoOneIn int) []history.Op {
	accts := []string{"a", "b", "c"}
	cur := map[string]int64{}
	for a, v := range initial {
		cur[a] = v
	}
	var ops []history.Op
	for i := 0; i < n; i++ {
		at := int64(100 * (i + 1))
		inv, done := at-rng.Int64N(300), at+rng.Int64N(300)
		if rng.IntN(3) == 0 {
			ops = append(ops, rd(inv, done, ok, clone(cur)))
			continue
		}
		from, to := accts[rng.IntN(3)], accts[rng.IntN(3)]
		amt := 1 + rng.Int64N(5)
		st := ok
		switch {
		case cur[from] < amt:
			st = fail
		case infoOneIn > 0 && rng.IntN(infoOneIn) == 0:
			st = info
			if rng.IntN(2) == 0 {
				break // applied
			}
			ops = append(ops, xfer(inv, done, st, from, to, amt))
			continue
		}
		if st != fail {
			cur[from] -= amt
			cur[to] += amt
		}
		ops = append(ops, xfer(inv, done, st, from, to, amt))
	}
	end := int64(100 * (n + 10))
	ops = append(ops, rd(end, end+10, ok, clone(cur)))
	for i := range ops {
		ops[i].ID = i
	}
	return ops
}

func clone(m map[string]int64) map[string]int64 {
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
