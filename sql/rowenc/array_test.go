package rowenc

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/sql/types"
)

// randArray is a short array of small ints, some NULL.
func randArray(r *rand.Rand) types.Datum {
	a := make([]types.Datum, r.IntN(4))
	for i := range a {
		if r.IntN(5) > 0 {
			a[i] = int64(r.IntN(5) - 2)
		}
	}
	return a
}

// compareNullsLast is PostgreSQL's ascending order: NULL after values.
func compareNullsLast(a, b types.Datum) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return types.Compare(a, b)
}

// TestArrayKeyOrder: the key encodings of int[] values sort as the values
// do (element by element, NULL elements last, a prefix first), and decode
// to the values. (A NULL array is a NULL key, which sorts low in every
// column: it is left out.)
func TestArrayKeyOrder(t *testing.T) {
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 0))
	at, _ := types.ArrayOf(types.Int4)
	vals := make([]types.Datum, 500)
	for i := range vals {
		vals[i] = randArray(r)
	}
	byKey := slices.Clone(vals)
	slices.SortStableFunc(byKey, func(a, b types.Datum) int {
		return bytes.Compare(AppendDatum(nil, at, a), AppendDatum(nil, at, b))
	})
	for i := 1; i < len(byKey); i++ {
		if compareNullsLast(byKey[i-1], byKey[i]) > 0 {
			t.Fatalf("seed %d: %v sorts before %v by key", seed, types.String(at, byKey[i-1]), types.String(at, byKey[i]))
		}
	}
	for _, v := range vals {
		rest, d, err := DecodeDatum(AppendDatum(nil, at, v), at)
		if err != nil || len(rest) != 0 || compareNullsLast(d, v) != 0 {
			t.Fatalf("seed %d: %s decoded as %v (%v)", seed, types.String(at, v), d, err)
		}
	}
}

// TestArrayValueKeepsScale: a numeric[] column's value keeps each
// element's scale and its NULL elements.
func TestArrayValueKeepsScale(t *testing.T) {
	at, _ := types.ArrayOf(types.Numeric)
	d, _, _ := apd.NewFromString("1.50")
	v := []types.Datum{d, nil}
	rest, back, err := decodeValueDatum(appendValueDatum(nil, at, v), at)
	if err != nil || len(rest) != 0 || types.String(at, back) != "{1.50,NULL}" {
		t.Fatalf("got %v (%v)", back, err)
	}
}
