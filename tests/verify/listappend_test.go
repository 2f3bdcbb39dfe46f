package verify

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int64
	}{
		{"", []int64{}},
		{"7", []int64{7}},
		{"7,8,12", []int64{7, 8, 12}},
		{"7,x,-3,", []int64{7, Garbage, Garbage, Garbage}},
	} {
		if got := parseList(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parseList(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Appended values are unique, keys retire after MaxWritesPerKey appends,
// and the final read covers every key generated.
func TestListAppendGenerator(t *testing.T) {
	w := NewListAppend(ListAppendConfig{ActiveKeys: 3, MaxWritesPerKey: 5})
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[int64]bool{}
	perKey := map[string]int{}
	for range 500 {
		op := w.Next(rng)
		if op.F != history.FTxn || len(op.Mops) < 1 || len(op.Mops) > 4 {
			t.Fatalf("bad op %v", op)
		}
		for _, m := range op.Mops {
			if m.F != history.FAppend {
				continue
			}
			if seen[m.Val] || m.Val <= 0 {
				t.Fatalf("value %d repeated or not positive", m.Val)
			}
			seen[m.Val] = true
			perKey[m.Key]++
		}
	}
	for k, n := range perKey {
		if n > 5+3 { // a txn may append to a key several times before it retires
			t.Errorf("key %s got %d appends", k, n)
		}
	}
	final := w.Final()
	if len(final.Mops) < len(perKey) {
		t.Fatalf("final read covers %d keys, %d written", len(final.Mops), len(perKey))
	}
	for _, m := range final.Mops {
		if m.F != history.FRead {
			t.Fatalf("final mop %v", m)
		}
	}
}
