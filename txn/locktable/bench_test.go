package locktable

import (
	"fmt"
	"testing"
)

// BenchmarkAcquireRelease measures an uncontended point lock round trip
// with other transactions' locks present.
func BenchmarkAcquireRelease(b *testing.B) {
	tb := New(Config{})
	for i := range 1000 {
		k := []byte(fmt.Sprintf("key%06d", i))
		if _, err := tb.Acquire(Request{Txn: TxnID(i + 1), Span: PointSpan(k), Mode: Exclusive}); err != nil {
			b.Fatal(err)
		}
	}
	key := []byte("key999999x")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tb.Acquire(Request{Txn: 5000, Span: PointSpan(key), Mode: Exclusive}); err != nil {
			b.Fatal(err)
		}
		tb.Release(5000)
	}
}
