package locktable

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMergeScanModel compares MergeScan with a map-based model on random
// stored data and pending writes, in both directions, with limits.
func TestMergeScanModel(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for i := range 2000 {
		stored, pending := randKVs(r), randWrites(r)
		opts := ScanOptions{Limit: r.IntN(5), Reverse: r.IntN(2) == 0}
		want := naiveMerge(stored, pending, opts)
		if opts.Reverse {
			slices.Reverse(stored)
		}
		got, err := MergeScan(&SliceIterator{KVs: stored}, pending, opts)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("case %d %+v: got %s, %v; want %s", i, opts, got, err, want)
		}
	}
}

func randKVs(r *rand.Rand) []KV {
	var kvs []KV
	for k := byte('a'); k < 'h'; k++ {
		if r.IntN(2) == 0 {
			kvs = append(kvs, KV{Key: []byte{k}, Value: []byte("s")})
		}
	}
	return kvs
}

func randWrites(r *rand.Rand) []Write {
	var ws []Write
	for k := byte('a'); k < 'h'; k++ {
		switch r.IntN(3) {
		case 0:
			ws = append(ws, Write{Key: []byte{k}, Value: []byte("p")})
		case 1:
			ws = append(ws, Write{Key: []byte{k}, Deleted: true})
		}
	}
	return ws
}

func naiveMerge(stored []KV, pending []Write, opts ScanOptions) []KV {
	m := map[string][]byte{}
	for _, kv := range stored {
		m[string(kv.Key)] = kv.Value
	}
	for _, w := range pending {
		if w.Deleted {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = w.Value
		}
	}
	var out []KV
	for k, v := range m {
		out = append(out, KV{Key: []byte(k), Value: v})
	}
	slices.SortFunc(out, func(a, b KV) int { return bytes.Compare(a.Key, b.Key) })
	if opts.Reverse {
		slices.Reverse(out)
	}
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out
}

type errIter struct{}

func (errIter) Next() (KV, bool, error) { return KV{}, false, fmt.Errorf("disk on fire") }

func TestMergeScanError(t *testing.T) {
	if _, err := MergeScan(errIter{}, nil, ScanOptions{}); err == nil {
		t.Fatal("want the iterator's error")
	}
}

func TestSpan(t *testing.T) {
	sp := func(k, e string) Span { return Span{Key: []byte(k), EndKey: []byte(e)} }
	pt := func(k string) Span { return PointSpan([]byte(k)) }
	tests := []struct {
		a, b               Span
		overlaps, contains bool
	}{
		{pt("a"), pt("a"), true, true},
		{pt("a"), pt("b"), false, false},
		{sp("a", "c"), pt("b"), true, true},
		{sp("a", "c"), pt("c"), false, false},
		{sp("a", "c"), pt("a"), true, true},
		{sp("a", "c"), sp("c", "d"), false, false},
		{sp("a", "c"), sp("b", "d"), true, false},
		{sp("a", "d"), sp("b", "c"), true, true},
		{pt("b"), sp("a", "c"), true, false},
		{sp("a", "a\x00"), pt("a"), true, true},
	}
	for _, tt := range tests {
		if got := tt.a.Overlaps(tt.b); got != tt.overlaps || tt.b.Overlaps(tt.a) != got {
			t.Errorf("%s overlaps %s = %t", tt.a, tt.b, got)
		}
		if got := tt.a.Contains(tt.b); got != tt.contains {
			t.Errorf("%s contains %s = %t", tt.a, tt.b, got)
		}
	}
	if sp("b", "a").Valid() || sp("a", "a").Valid() || !pt("").Valid() {
		t.Error("Valid")
	}
}

func TestAcquireErrors(t *testing.T) {
	tb := New(Config{})
	if _, err := tb.Acquire(Request{Txn: 1, Span: Span{Key: []byte("b"), EndKey: []byte("a")}, Mode: Shared}); err != ErrInvalidSpan {
		t.Errorf("inverted span: %v", err)
	}
	if _, err := tb.Acquire(Request{Txn: 1, Span: PointSpan([]byte("a"))}); err != ErrInvalidMode {
		t.Errorf("no mode: %v", err)
	}
}
