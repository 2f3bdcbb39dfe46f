package locktable

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkBulkTransaction is one transaction taking n exclusive point locks
// with a pending write each, in random key order (a bulk load or an ADD
// PRIMARY KEY rewrite), then releasing them: the cost per write must not
// grow with the transaction's size.
func BenchmarkBulkTransaction(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			keys := make([][]byte, n)
			for i, p := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
				keys[i] = binary.BigEndian.AppendUint64([]byte("/t/1/"), uint64(p))
			}
			val := make([]byte, 100)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				t := New(Config{MaxTxnBytes: -1})
				for _, k := range keys {
					res, err := t.Acquire(Request{Txn: 1, Priority: Priority{StartNanos: 1}, Span: PointSpan(k), Mode: Exclusive})
					if err != nil || !res.Granted {
						b.Fatal(res, err)
					}
					if err := t.PutPending(1, k, val, 0); err != nil {
						b.Fatal(err)
					}
				}
				t.Release(1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/write")
		})
	}
}
