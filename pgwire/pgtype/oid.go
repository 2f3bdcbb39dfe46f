package pgtype

// Type OIDs.
const (
	BoolOID        uint32 = 16
	ByteaOID       uint32 = 17
	CharOID        uint32 = 18
	NameOID        uint32 = 19
	Int8OID        uint32 = 20
	Int2OID        uint32 = 21
	Int4OID        uint32 = 23
	TextOID        uint32 = 25
	OIDOID         uint32 = 26
	XIDOID         uint32 = 28
	InetOID        uint32 = 869
	Float4OID      uint32 = 700
	Float8OID      uint32 = 701
	BPCharOID      uint32 = 1042
	VarcharOID     uint32 = 1043
	DateOID        uint32 = 1082
	TimestampOID   uint32 = 1114
	TimestamptzOID uint32 = 1184
	IntervalOID    uint32 = 1186
	NumericOID     uint32 = 1700
	UUIDOID        uint32 = 2950
	JSONBOID       uint32 = 3802
)

// arrayOf maps array type OIDs to their element type OIDs.
var arrayOf = map[uint32]uint32{
	1000: BoolOID, 1001: ByteaOID, 1002: CharOID, 1003: NameOID, 1016: Int8OID,
	1005: Int2OID, 1007: Int4OID, 1009: TextOID, 1028: OIDOID, 1021: Float4OID,
	1022: Float8OID, 1014: BPCharOID, 1015: VarcharOID, 1182: DateOID,
	1115: TimestampOID, 1185: TimestamptzOID, 1187: IntervalOID, 1231: NumericOID,
	2951: UUIDOID, 3807: JSONBOID,
}

// ElemOID returns the element type of an array type.
func ElemOID(arrayOID uint32) (uint32, bool) {
	e, ok := arrayOf[arrayOID]
	return e, ok
}

// ArrayOID returns the array type of an element type.
func ArrayOID(elem uint32) (uint32, bool) {
	for a, e := range arrayOf {
		if e == elem {
			return a, true
		}
	}
	return 0, false
}
