package encoding

import "time"

// AppendNull appends a NULL that sorts before every value of the column
// ascending and after every value descending.
func AppendNull(b []byte, dir Direction) []byte {
	return finish(append(b, tagNullLow), len(b), dir)
}

// AppendNullHigh appends a NULL that sorts after every value ascending and
// before every value descending (PostgreSQL's default NULLS LAST / NULLS
// FIRST for ASC / DESC indexes).
func AppendNullHigh(b []byte, dir Direction) []byte {
	return finish(append(b, tagNullHigh), len(b), dir)
}

// DecodeIfNull reports whether b starts with a NULL (of either kind, in
// either direction) and if so returns the bytes after it.
func DecodeIfNull(b []byte) (rest []byte, isNull bool) {
	if len(b) > 0 && (b[0] == tagNullLow || b[0] == tagNullHigh) {
		return b[1:], true
	}
	return b, false
}

// AppendBool appends false or true; false sorts first.
func AppendBool(b []byte, v bool, dir Direction) []byte {
	t := tagFalse
	if v {
		t = tagTrue
	}
	return finish(append(b, t), len(b), dir)
}

// DecodeBool decodes a value written by AppendBool.
func DecodeBool(b []byte, dir Direction) (rest []byte, v bool, err error) {
	t, err := tagOf(b, TypeBool, dir, tagFalse, tagTrue)
	if err != nil {
		return nil, false, err
	}
	return b[1:], t == tagTrue, nil
}

// AppendTimestamp appends a timestamp given in microseconds since the Unix
// epoch: a tag and 8 big-endian bytes with the sign bit flipped.
// math.MinInt64 and math.MaxInt64 can stand for -infinity and infinity.
func AppendTimestamp(b []byte, micros int64, dir Direction) []byte {
	start := len(b)
	b = append(b, tagTime)
	b = appendBigEndian(b, uint64(micros)^1<<63, 8)
	return finish(b, start, dir)
}

// DecodeTimestamp decodes a value written by AppendTimestamp.
func DecodeTimestamp(b []byte, dir Direction) (rest []byte, micros int64, err error) {
	if _, err = tagOf(b, TypeTimestamp, dir, tagTime, tagTime); err != nil {
		return nil, 0, err
	}
	u, err := readBigEndian(b[1:], 8, dir)
	if err != nil {
		return nil, 0, err
	}
	return b[9:], int64(u ^ 1<<63), nil
}

// AppendTime appends t truncated down to the microsecond, as AppendTimestamp.
// The time zone is not encoded.
func AppendTime(b []byte, t time.Time, dir Direction) []byte {
	return AppendTimestamp(b, t.UnixMicro(), dir)
}

// DecodeTime decodes a value written by AppendTime, in UTC.
func DecodeTime(b []byte, dir Direction) (rest []byte, t time.Time, err error) {
	rest, micros, err := DecodeTimestamp(b, dir)
	if err != nil {
		return nil, time.Time{}, err
	}
	return rest, time.UnixMicro(micros).UTC(), nil
}

// UUID is a 16-byte UUID in network byte order.
type UUID [16]byte

// AppendUUID appends a tag and the 16 bytes of u; UUIDs sort bytewise,
// as in PostgreSQL.
func AppendUUID(b []byte, u UUID, dir Direction) []byte {
	start := len(b)
	b = append(b, tagUUID)
	b = append(b, u[:]...)
	return finish(b, start, dir)
}

// DecodeUUID decodes a value written by AppendUUID.
func DecodeUUID(b []byte, dir Direction) (rest []byte, u UUID, err error) {
	if _, err = tagOf(b, TypeUUID, dir, tagUUID, tagUUID); err != nil {
		return nil, u, err
	}
	if len(b) < 17 {
		return nil, u, ErrShortBuffer
	}
	m := mask(dir)
	for i := range u {
		u[i] = b[1+i] ^ m
	}
	return b[17:], u, nil
}
