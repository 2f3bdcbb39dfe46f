// Package encoding turns SQL values into byte strings whose bytewise order
// (bytes.Compare) is the values' logical order, so that index range scans
// are key range scans. It is a leaf: it imports only the standard library
// and apd (for DECIMAL).
//
// # Composite keys
//
// Every encoding is self-delimiting (no encoding is a proper prefix of
// another of the same type), so a composite key is the plain concatenation
// of its columns, each in its own Direction. Decode* functions return the
// bytes after the value they read; PeekType and PeekLength inspect a column
// without decoding it, and Skip drops it. Decoders are strict: they accept
// only the canonical encoding of a value, so two keys are equal exactly when
// their values are, and decoding then re-encoding gives back the same bytes.
// They never panic on arbitrary input; they return ErrShortBuffer,
// ErrInvalid, ErrOutOfRange or a *TagError.
//
// # Directions
//
// A Descending encoding is the bitwise complement of the Ascending one.
// Because encodings are prefix-free, complementing reverses their order,
// also inside a composite key. Ascending tags are in 0x01..0x7f (and 0xfe for
// a high NULL), descending ones in 0x80..0xfe (and 0x01), so the first byte
// tells the type and the direction (see PeekType).
//
// # Format (ascending; descending = every byte complemented)
//
//	NULL       0x01             sorts before every value (AppendNull)
//	           0xfe             sorts after every value (AppendNullHigh,
//	                            PostgreSQL's default ASC NULLS LAST)
//	bool       0x10 false, 0x11 true
//	int        0x30+(8-n) B1..Bn    v < 0, n = bytes of ^v (= -v-1), Bi the
//	                                low n bytes of v big-endian (0x30..0x37)
//	           0x38+v               0 <= v <= 63, one byte (0x38..0x77)
//	           0x78+(n-1) B1..Bn    v > 63, n = bytes of v, big-endian
//	                                (0x78..0x7f)
//	           The byte count is minimal. EncodeUvarintAscending (table and
//	           index IDs) is the same format for uint64: for v <= MaxInt64 it
//	           is identical to the int encoding.
//	float      0x12 B1..B8      IEEE bits big-endian, all flipped if negative,
//	                            else only the sign bit flipped; -0 is written
//	                            as +0, so -0 == 0
//	           0x13             NaN: after +Inf and equal to itself, as in
//	                            PostgreSQL
//	bytes      0x14 ESC... 0x00 0x01
//	string     0x15 ESC... 0x00 0x01
//	                            ESC is the value with each 0x00 written as
//	                            0x00 0xff; the terminator 0x00 0x01 sorts below
//	                            every escaped byte, so a prefix sorts first.
//	                            Strings compare bytewise (C collation).
//	decimal    0x16             -Infinity
//	           0x17 ^(E D)      negative: the positive body, complemented
//	           0x18             zero (any scale, either sign)
//	           0x19 E D         positive: value = 0.d1d2d3... × 10^E
//	           0x1a             +Infinity
//	           0x1b             NaN (after +Infinity, as in PostgreSQL)
//	                            E is an int encoding (above); D is the digits
//	                            with no leading or trailing zero, two per byte
//	                            as 1+10*d1+d2 (1..100; an odd last digit is
//	                            padded with 0), then 0x00. Scale is not kept:
//	                            1.0 and 1.00 encode the same, and decode as 1.
//	timestamp  0x1c B1..B8      int64 microseconds since the Unix epoch, big-
//	                            endian with the sign bit flipped. DATE and TIME
//	                            can use the int encoding (days, micros).
//	uuid       0x1d B1..B16     the 16 bytes, compared bytewise as PostgreSQL
//
// Tags 0x02..0x0f, 0x1e..0x2f and their complements are free for new types;
// 0x00 and 0xff are never the first byte of a value.
package encoding
