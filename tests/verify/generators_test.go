package verify

import (
	"math/rand/v2"
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Register values are unique, keys retire after MaxOpsPerKey operations,
// CASes expect a value written to the same key, and the mix is about half
// reads.
func TestRegisterGenerator(t *testing.T) {
	w := NewRegister(RegisterConfig{ActiveKeys: 2, MaxOpsPerKey: 10})
	rng := rand.New(rand.NewPCG(1, 2))
	values := map[string]string{} // value -> key
	perKey := map[string]int{}
	reads := 0
	for range 400 {
		op := w.Next(rng)
		perKey[op.Key]++
		switch op.F {
		case history.FRead:
			reads++
		case history.FWrite, history.FCAS:
			if _, dup := values[op.Value]; dup || op.Value == "" {
				t.Fatalf("value %q repeated or empty", op.Value)
			}
			values[op.Value] = op.Key
			if op.F == history.FCAS && values[op.Expected] != op.Key {
				t.Fatalf("cas on %s expects %q, not a value of that key", op.Key, op.Expected)
			}
		}
	}
	for k, n := range perKey {
		if n > 10 {
			t.Errorf("key %s got %d ops", k, n)
		}
	}
	if reads < 150 || reads > 250 {
		t.Errorf("%d reads of 400", reads)
	}
}

// g2 operations come in pairs: one per table for each key, in a row.
func TestG2Generator(t *testing.T) {
	w := NewG2(G2Config{})
	for i := range int64(10) {
		a, b := w.Next(nil), w.Next(nil)
		if a.Element != i || b.Element != i || a.Value != "a" || b.Value != "b" || a.F != history.FInsert {
			t.Fatalf("pair %d: %v %v", i, a, b)
		}
	}
}

// Registration ids are unique and each name gets at most AttemptsPerName
// attempts, drawn from a pool of ActiveNames.
func TestRegistrationGenerator(t *testing.T) {
	w := NewRegistration(RegistrationConfig{ActiveNames: 3, AttemptsPerName: 4})
	rng := rand.New(rand.NewPCG(3, 4))
	ids := map[int64]bool{}
	perName := map[string]int{}
	for range 200 {
		op := w.Next(rng)
		if ids[op.Element] || op.F != history.FInsert {
			t.Fatalf("bad op %v", op)
		}
		ids[op.Element] = true
		perName[op.Key]++
	}
	for n, c := range perName {
		if c > 4 {
			t.Errorf("name %s attempted %d times", n, c)
		}
	}
	if len(perName) < 200/4 {
		t.Errorf("%d names for 200 attempts", len(perName))
	}
}
