package keys

import (
	"bytes"
	"testing"
)

func TestLayoutOrder(t *testing.T) {
	// The key space must be laid out in this order.
	ordered := [][]byte{
		AppliedStateKey(1),
		RangeDescKey(1),
		AppliedStateKey(2),
		HardStateKey(1),
		RaftLogKey(1, 5),
		RaftLogKey(1, 6),
		TruncatedStateKey(1),
		RaftLogKey(2, 1),
		StoreIdentKey(),
		MinAddressable,
		MetaKey([]byte("a")),
		MetaKey(MaxKey),
		NodeDescKey(1),
		SystemMax,
		[]byte("user"),
		MaxKey,
	}
	for i := 1; i < len(ordered); i++ {
		if bytes.Compare(ordered[i-1], ordered[i]) >= 0 {
			t.Errorf("key %d %q must sort before key %d %q", i-1, ordered[i-1], i, ordered[i])
		}
	}
}

func TestMetaLookup(t *testing.T) {
	// The range holding k is the first whose meta key is >= MetaLookupStart(k).
	tests := []struct {
		key, end []byte
		holds    bool
	}{
		{[]byte("a"), []byte("b"), true},
		{[]byte("b"), []byte("b"), false}, // end key is exclusive
		{[]byte("a"), []byte("a\x00"), true},
		{[]byte("c"), MaxKey, true},
	}
	for _, tc := range tests {
		got := bytes.Compare(MetaKey(tc.end), MetaLookupStart(tc.key)) >= 0
		if got != tc.holds {
			t.Errorf("key %q end %q: holds=%v want %v", tc.key, tc.end, got, tc.holds)
		}
	}
}

func TestDecodeRangeLocalKey(t *testing.T) {
	id, s, ok := DecodeRangeLocalKey(RangeDescKey(42))
	if !ok || id != 42 || s != descSuffix || !IsRangeDescKey(RangeDescKey(42)) {
		t.Fatalf("got %d %c %v", id, s, ok)
	}
	if IsRangeDescKey(AppliedStateKey(42)) || IsRangeDescKey([]byte("x")) {
		t.Fatal("non-descriptor keys accepted")
	}
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct{ in, want []byte }{
		{[]byte("a"), []byte("b")},
		{[]byte{'a', 0xff}, []byte("b")},
		{[]byte{0xff, 0xff}, MaxKey},
	}
	for _, tc := range tests {
		if got := PrefixEnd(tc.in); !bytes.Equal(got, tc.want) {
			t.Errorf("PrefixEnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTablePrefixes(t *testing.T) {
	if bytes.Compare(TablePrefix(1), TablePrefix(2)) >= 0 || bytes.Compare(TablePrefix(2), TablePrefix(300)) >= 0 {
		t.Fatal("table prefixes must sort by table id")
	}
	if !bytes.HasPrefix(IndexPrefix(7, 2), TablePrefix(7)) {
		t.Fatal("an index prefix lies inside its table's prefix")
	}
	if bytes.Compare(IndexPrefix(7, 255), TablePrefix(8)) >= 0 {
		t.Fatal("a table's indexes sort before the next table")
	}
	if bytes.Compare(CatalogPrefix(), SystemMax) >= 0 || bytes.Compare(TableDataPrefix, UserMin) <= 0 {
		t.Fatal("the catalog lives in the meta range, table data in the user space")
	}
}
