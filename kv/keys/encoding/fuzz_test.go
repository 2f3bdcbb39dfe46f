package encoding

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds garbage to every decoder in both directions: none may
// panic, and whatever decodes must re-encode to exactly the bytes consumed
// (decoders accept only canonical encodings).
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x38})
	f.Add([]byte{0x14, 0x61, 0x00, 0xff, 0x00, 0x01})
	f.Add([]byte{0x19, 0x3a, 0x0d, 0x33, 0x00})
	f.Add([]byte{0x12, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range codecs {
			for _, dir := range []Direction{Ascending, Descending} {
				checkDecode(t, c, b, dir)
			}
		}
		if n, err := PeekLength(b); err == nil && (n < 1 || n > len(b)) {
			t.Fatalf("PeekLength(%x) = %d", b, n)
		}
	})
}

func checkDecode(t *testing.T, c codec, b []byte, dir Direction) {
	rest, v, err := c.dec(b, dir)
	if err != nil {
		return
	}
	consumed := b[:len(b)-len(rest)]
	if re := c.enc(nil, v, dir); !bytes.Equal(re, consumed) {
		t.Fatalf("%s %s: %x decodes to %v which encodes to %x", c.name, dir, consumed, v, re)
	}
	if n, err := PeekLength(b); c.name != "uvarint" && (err != nil || n != len(consumed)) {
		t.Fatalf("%s %s: PeekLength(%x) = %d, %v; decoder consumed %d", c.name, dir, b, n, err, len(consumed))
	}
}

// FuzzOrder builds two values of one type from fuzz input and checks that
// their encodings compare as the values do, in the chosen direction, and
// that both round-trip.
func FuzzOrder(f *testing.F) {
	f.Add(uint8(1), false, []byte{0, 0, 0, 0, 0, 0, 0, 63}, []byte{0, 0, 0, 0, 0, 0, 0, 64})
	f.Add(uint8(4), true, []byte("a"), []byte("a\x00"))
	f.Fuzz(func(t *testing.T, kind uint8, desc bool, a, b []byte) {
		c := codecs[int(kind)%len(codecs)]
		dir := Ascending
		sign := 1
		if desc {
			dir, sign = Descending, -1
		}
		va, vb := c.fromBytes(a), c.fromBytes(b)
		ea, eb := c.enc(nil, va, dir), c.enc(nil, vb, dir)
		if want, got := sign*c.cmp(va, vb), bytes.Compare(ea, eb); want != got {
			t.Fatalf("%s %s: cmp(%v, %v) = %d but bytes.Compare(%x, %x) = %d", c.name, dir, va, vb, want, ea, eb, got)
		}
		checkRoundTrip(t, c, va, ea, dir)
		checkRoundTrip(t, c, vb, eb, dir)
	})
}
