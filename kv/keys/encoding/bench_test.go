package encoding

import "testing"

func BenchmarkEncodeRowKey(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = EncodeUvarintAscending(buf[:0], 52)
		buf = EncodeUvarintAscending(buf, 1)
		buf = AppendInt(buf, 123456, Ascending)
		buf = AppendString(buf, "user@example.com", Descending)
	}
}

func BenchmarkDecodeRowKey(b *testing.B) {
	key := AppendString(AppendInt(nil, 123456, Ascending), "user@example.com", Ascending)
	b.ReportAllocs()
	for b.Loop() {
		rest, _, err := DecodeInt(key, Ascending)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err = DecodeString(rest, Ascending); err != nil {
			b.Fatal(err)
		}
	}
}
