package encoding

import (
	"errors"
	"fmt"
)

// Direction is the sort direction of one encoded column.
type Direction uint8

const (
	// Ascending encodings sort in the logical order of their values.
	Ascending Direction = iota
	// Descending encodings sort in the reverse logical order. They are the
	// bitwise complement of the ascending encoding.
	Descending
)

// String implements fmt.Stringer.
func (d Direction) String() string {
	switch d {
	case Ascending:
		return "asc"
	case Descending:
		return "desc"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Type is the kind of value an encoding holds, as read from its tag byte.
type Type uint8

// The types PeekType reports.
const (
	TypeUnknown Type = iota
	TypeNull
	TypeBool
	TypeInt
	TypeFloat
	TypeBytes
	TypeString
	TypeDecimal
	TypeTimestamp
	TypeUUID
)

var typeNames = [...]string{
	TypeUnknown: "unknown", TypeNull: "null", TypeBool: "bool", TypeInt: "int",
	TypeFloat: "float", TypeBytes: "bytes", TypeString: "string",
	TypeDecimal: "decimal", TypeTimestamp: "timestamp", TypeUUID: "uuid",
}

// String implements fmt.Stringer.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Tag bytes of the ascending encoding. The descending tag of a type is the
// complement of its ascending tag, so ascending tags live in [0x01, 0x7f]
// plus nullHigh, and descending ones in [0x80, 0xfe] plus ^nullHigh.
const (
	tagNullLow  byte = 0x01 // NULL smaller than every value
	tagFalse    byte = 0x10
	tagTrue     byte = 0x11
	tagFloat    byte = 0x12
	tagFloatNaN byte = 0x13
	tagBytes    byte = 0x14
	tagString   byte = 0x15
	tagDecNInf  byte = 0x16
	tagDecNeg   byte = 0x17
	tagDecZero  byte = 0x18
	tagDecPos   byte = 0x19
	tagDecPInf  byte = 0x1a
	tagDecNaN   byte = 0x1b
	tagTime     byte = 0x1c
	tagUUID     byte = 0x1d
	tagIntMin   byte = 0x30 // first int tag: negative, 8 bytes follow
	tagIntNeg1  byte = 0x37 // negative, 1 byte follows
	tagIntZero  byte = 0x38 // inline values 0..intMaxInline
	tagIntPos1  byte = 0x78 // positive, 1 byte follows
	tagIntMax   byte = 0x7f // positive, 8 bytes follow
	tagNullHigh byte = 0xfe // NULL greater than every value
)

const intMaxInline = int64(tagIntPos1 - tagIntZero - 1) // 63

// Errors returned by the decoders. Callers branch on them with errors.Is.
var (
	// ErrShortBuffer means the input ended inside an encoded value.
	ErrShortBuffer = errors.New("encoding: short buffer")
	// ErrInvalid means the bytes are not the canonical encoding of any value.
	ErrInvalid = errors.New("encoding: invalid encoding")
	// ErrOutOfRange means a well-formed value does not fit the requested Go type.
	ErrOutOfRange = errors.New("encoding: value out of range")
)

// TagError reports a value whose tag is not the one the decoder expects
// (wrong type, or wrong direction).
type TagError struct {
	Want Type
	Dir  Direction
	Tag  byte
}

func (e *TagError) Error() string {
	got, dir := tagType(e.Tag)
	return fmt.Sprintf("encoding: want %s %s, found tag 0x%02x (%s %s)", e.Want, e.Dir, e.Tag, got, dir)
}

// mask is XORed with every byte of an encoding: 0x00 ascending, 0xff descending.
func mask(dir Direction) byte {
	if dir == Descending {
		return 0xff
	}
	return 0
}

// finish complements b[start:] for descending encodings.
func finish(b []byte, start int, dir Direction) []byte {
	if dir == Descending {
		for i := start; i < len(b); i++ {
			b[i] = ^b[i]
		}
	}
	return b
}

// tagOf returns the tag of b as if it were ascending, after checking that it
// is one of the tags in [lo, hi] in direction dir.
func tagOf(b []byte, want Type, dir Direction, lo, hi byte) (byte, error) {
	if len(b) == 0 {
		return 0, ErrShortBuffer
	}
	t := b[0] ^ mask(dir)
	if t < lo || t > hi {
		return 0, &TagError{Want: want, Dir: dir, Tag: b[0]}
	}
	return t, nil
}

// PeekType reports the type and direction of the value at the start of b,
// TypeUnknown if b is empty or starts with no known tag. NULL has no
// direction of its own (a low NULL ascending is the same byte as a high NULL
// descending); it reports TypeNull, Ascending.
func PeekType(b []byte) (Type, Direction) {
	if len(b) == 0 {
		return TypeUnknown, Ascending
	}
	return tagType(b[0])
}

func tagType(tag byte) (Type, Direction) {
	switch tag {
	case tagNullLow, tagNullHigh:
		return TypeNull, Ascending
	}
	dir := Ascending
	if tag >= 0x80 {
		dir, tag = Descending, ^tag
	}
	return ascTagType(tag), dir
}

func ascTagType(tag byte) Type {
	switch {
	case tag == tagFalse || tag == tagTrue:
		return TypeBool
	case tag == tagFloat || tag == tagFloatNaN:
		return TypeFloat
	case tag == tagBytes:
		return TypeBytes
	case tag == tagString:
		return TypeString
	case tag >= tagDecNInf && tag <= tagDecNaN:
		return TypeDecimal
	case tag == tagTime:
		return TypeTimestamp
	case tag == tagUUID:
		return TypeUUID
	case tag >= tagIntMin && tag <= tagIntMax:
		return TypeInt
	}
	return TypeUnknown
}

// PeekLength returns the length of the encoded value at the start of b,
// so a composite key can be split into columns without decoding them.
func PeekLength(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, ErrShortBuffer
	}
	typ, dir := tagType(b[0])
	rest, err := skip(b, typ, dir)
	if err != nil {
		return 0, err
	}
	return len(b) - len(rest), nil
}

// Skip returns b without its first encoded value.
func Skip(b []byte) ([]byte, error) {
	n, err := PeekLength(b)
	if err != nil {
		return nil, err
	}
	return b[n:], nil
}

func skip(b []byte, typ Type, dir Direction) (rest []byte, err error) {
	switch typ {
	case TypeNull:
		return b[1:], nil
	case TypeBool:
		rest, _, err = DecodeBool(b, dir)
	case TypeInt:
		rest, err = skipInt(b, dir)
	case TypeFloat:
		rest, _, err = DecodeFloat(b, dir)
	case TypeBytes, TypeString:
		rest, err = skipBytes(b, dir)
	case TypeDecimal:
		rest, err = skipDecimal(b, dir)
	case TypeTimestamp:
		rest, _, err = DecodeTimestamp(b, dir)
	case TypeUUID:
		rest, _, err = DecodeUUID(b, dir)
	default:
		return nil, fmt.Errorf("%w: unknown tag 0x%02x", ErrInvalid, b[0])
	}
	return rest, err
}
