package store

import (
	"bytes"
	"testing"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

func rowKey(table, id uint64) []byte {
	return encoding.EncodeUvarintAscending(keys.IndexPrefix(table, 1), id)
}

// SizeSplitKey: no split at or under the limit (small tables share a
// range); about half the limit on the left otherwise; a table boundary
// between a quarter and three quarters of the limit is preferred.
func TestSizeSplitKey(t *testing.T) {
	const rowBytes = 100
	for _, tc := range []struct {
		name     string
		tables   []int // rows per table, tables 50, 51, ...
		maxBytes int64
		wantNone bool
		wantAt   []byte // nil: any key near the middle
	}{
		{name: "under the limit", tables: []int{5, 5}, maxBytes: 4000, wantNone: true},
		{name: "one big table splits near half the limit", tables: []int{100}, maxBytes: 4000},
		{name: "a table boundary near the middle wins", tables: []int{18, 100}, maxBytes: 4000, wantAt: keys.TablePrefix(51)},
		{name: "a boundary too near the start is passed over", tables: []int{2, 100}, maxBytes: 4000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tcl := newTestCluster(t, 1)
			var ops []*rpcpb.Op
			for ti, n := range tc.tables {
				for i := 0; i < n; i++ {
					k := rowKey(uint64(50+ti), uint64(i))
					v := bytes.Repeat([]byte{'x'}, rowBytes-len(k))
					ops = append(ops, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: k, Value: v})
				}
			}
			if _, err := tcl.send(ops[0].Key, ops...); err != nil {
				t.Fatal(err)
			}
			r := tcl.stores[0].LookupReplica(ops[0].Key)
			key, ok := r.SizeSplitKey(tc.maxBytes)
			if tc.wantNone {
				if ok {
					t.Fatalf("split at %s; want none", keys.Pretty(key))
				}
				return
			}
			if !ok {
				t.Fatal("no split")
			}
			if tc.wantAt != nil {
				if !bytes.Equal(key, tc.wantAt) {
					t.Fatalf("split at %s; want %s", keys.Pretty(key), keys.Pretty(tc.wantAt))
				}
				return
			}
			// Bytes on the left: about half the limit.
			var left int64
			for _, op := range ops {
				if bytes.Compare(op.Key, key) < 0 {
					left += int64(len(op.Key) + len(op.Value))
				}
			}
			if left < tc.maxBytes/2-rowBytes || left > tc.maxBytes/2+rowBytes {
				t.Fatalf("split at %s leaves %d bytes on the left; want about %d", keys.Pretty(key), left, tc.maxBytes/2)
			}
		})
	}
}
