package rowfilter

import (
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/types"
)

// kind is the Go representation of a type's values. types.Compare needs
// both operands of one kind; kindNone marks a type that is not pushed.
type kind uint8

const (
	kindNone kind = iota
	kindBool
	kindInt
	kindFloat
	kindDecimal
	kindString
	kindBytes
	kindTime
	kindInterval
	kindUUID
)

// kindByOID lists the pushable types. They are named by OID, not family:
// a type sharing a family may have another Go representation.
var kindByOID = map[uint32]kind{
	types.Bool.OID: kindBool,
	types.Int2.OID: kindInt, types.Int4.OID: kindInt, types.Int8.OID: kindInt,
	types.Float4.OID: kindFloat, types.Float8.OID: kindFloat,
	types.Numeric.OID: kindDecimal,
	types.Text.OID:    kindString, types.Varchar.OID: kindString, types.BPChar.OID: kindString, types.Name.OID: kindString,
	types.Bytea.OID: kindBytes,
	types.Date.OID:  kindTime, types.Timestamp.OID: kindTime, types.TimestampTZ.OID: kindTime,
	types.Interval.OID: kindInterval,
	types.UUID.OID:     kindUUID,
}

// familyOf is the family each pushable kind's types must have.
var familyOf = map[uint32]types.Family{
	types.Bool.OID: types.BoolFamily,
	types.Int2.OID: types.IntFamily, types.Int4.OID: types.IntFamily, types.Int8.OID: types.IntFamily,
	types.Float4.OID: types.FloatFamily, types.Float8.OID: types.FloatFamily,
	types.Numeric.OID: types.DecimalFamily,
	types.Text.OID:    types.StringFamily, types.Varchar.OID: types.StringFamily, types.BPChar.OID: types.StringFamily, types.Name.OID: types.StringFamily,
	types.Bytea.OID: types.BytesFamily,
	types.Date.OID:  types.DateFamily, types.Timestamp.OID: types.TimestampFamily, types.TimestampTZ.OID: types.TimestampTZFamily,
	types.Interval.OID: types.IntervalFamily,
	types.UUID.OID:     types.UUIDFamily,
}

func kindOf(t types.T) kind {
	if f, ok := familyOf[t.OID]; !ok || f != t.Family {
		return kindNone
	}
	return kindByOID[t.OID]
}

// datumKind is the kind of a value, kindNone for NULL or another type.
func datumKind(d types.Datum) kind {
	switch d.(type) {
	case bool:
		return kindBool
	case int64:
		return kindInt
	case float64:
		return kindFloat
	case *apd.Decimal:
		return kindDecimal
	case string:
		return kindString
	case []byte:
		return kindBytes
	case time.Time:
		return kindTime
	case pgtype.Interval:
		return kindInterval
	case pgtype.UUID:
		return kindUUID
	}
	return kindNone
}

// safeCast reports whether a cast of a column of type from to type to is
// pushed: one that never fails and needs no session setting.
func safeCast(from, to types.T) bool {
	switch kindOf(from) {
	case kindInt:
		return to.OID == types.Int8.OID || to.OID == types.Float8.OID || (to.OID == types.Numeric.OID && to.Prec == 0)
	case kindFloat:
		return from.OID == types.Float4.OID && to.OID == types.Float8.OID
	}
	return false
}
