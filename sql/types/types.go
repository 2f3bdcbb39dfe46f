package types

import (
	"fmt"
	"strings"

	"github.com/ordodb/ordo/pgwire/pgtype"
)

// Family groups types that share a Go representation.
type Family uint8

// Type families.
const (
	UnknownFamily Family = iota
	BoolFamily
	IntFamily
	FloatFamily
	DecimalFamily
	StringFamily
	BytesFamily
	DateFamily
	TimestampFamily
	TimestampTZFamily
	IntervalFamily
	UUIDFamily
	JSONBFamily
	OidFamily
	ArrayFamily // see array.go
)

// T is a SQL type.
type T struct {
	Family Family
	OID    uint32
	// Width is the maximum length in characters of varchar(n) and char(n);
	// 0 means unlimited.
	Width int32
	// Prec and Scale constrain numeric(p,s); Prec 0 means unconstrained.
	Prec, Scale int32
}

// Datum is a value: see the package doc. nil is NULL.
type Datum = any

// The types.
var (
	Unknown     = T{Family: UnknownFamily, OID: 705}
	Bool        = T{Family: BoolFamily, OID: pgtype.BoolOID}
	Int2        = T{Family: IntFamily, OID: pgtype.Int2OID}
	Int4        = T{Family: IntFamily, OID: pgtype.Int4OID}
	Int8        = T{Family: IntFamily, OID: pgtype.Int8OID}
	Float4      = T{Family: FloatFamily, OID: pgtype.Float4OID}
	Float8      = T{Family: FloatFamily, OID: pgtype.Float8OID}
	Numeric     = T{Family: DecimalFamily, OID: pgtype.NumericOID}
	Text        = T{Family: StringFamily, OID: pgtype.TextOID}
	Varchar     = T{Family: StringFamily, OID: pgtype.VarcharOID}
	BPChar      = T{Family: StringFamily, OID: pgtype.BPCharOID}
	Name        = T{Family: StringFamily, OID: pgtype.NameOID}
	Bytea       = T{Family: BytesFamily, OID: pgtype.ByteaOID}
	Date        = T{Family: DateFamily, OID: pgtype.DateOID}
	Timestamp   = T{Family: TimestampFamily, OID: pgtype.TimestampOID}
	TimestampTZ = T{Family: TimestampTZFamily, OID: pgtype.TimestamptzOID}
	Interval    = T{Family: IntervalFamily, OID: pgtype.IntervalOID}
	UUID        = T{Family: UUIDFamily, OID: pgtype.UUIDOID}
	JSONB       = T{Family: JSONBFamily, OID: pgtype.JSONBOID}
	Oid         = T{Family: OidFamily, OID: pgtype.OIDOID}
)

var byOID = map[uint32]T{}

var byName = map[string]T{
	"bool": Bool, "boolean": Bool,
	"int2": Int2, "smallint": Int2,
	"int4": Int4, "int": Int4, "integer": Int4,
	"int8": Int8, "bigint": Int8,
	"float4": Float4, "real": Float4,
	"float8": Float8, "double precision": Float8, "float": Float8,
	"numeric": Numeric, "decimal": Numeric,
	"text": Text, "varchar": Varchar, "character varying": Varchar,
	"bpchar": BPChar, "char": BPChar, "character": BPChar, "name": Name,
	"bytea": Bytea, "date": Date,
	"timestamp": Timestamp, "timestamptz": TimestampTZ,
	"timestamp without time zone": Timestamp, "timestamp with time zone": TimestampTZ,
	"interval": Interval, "uuid": UUID, "jsonb": JSONB, "json": JSONB, "oid": Oid,
	// The reg* types: see regtypes.go.
	"regclass": RegClass, "regtype": RegType, "regnamespace": RegNamespace, "regrole": RegRole,
}

func init() {
	for _, t := range []T{Bool, Int2, Int4, Int8, Float4, Float8, Numeric, Text, Varchar,
		BPChar, Name, Bytea, Date, Timestamp, TimestampTZ, Interval, UUID, JSONB, Oid, Unknown} {
		byOID[t.OID] = t
	}
}

// FromOID returns the type with the OID.
func FromOID(oid uint32) (T, bool) {
	t, ok := byOID[oid]
	return t, ok
}

// Lookup returns the type named name (lower case, without schema), as
// spelled in SQL or in pg_type.
func Lookup(name string) (T, bool) {
	t, ok := byName[name]
	return t, ok
}

var names = map[uint32]string{
	16: "boolean", 21: "smallint", 23: "integer", 20: "bigint", 700: "real",
	701: "double precision", 1700: "numeric", 25: "text", 1043: "character varying",
	1042: "character", 19: "name", 17: "bytea", 1082: "date",
	1114: "timestamp without time zone", 1184: "timestamp with time zone",
	1186: "interval", 2950: "uuid", 3802: "jsonb", 26: "oid", 705: "unknown",
}

// Name is the type's name as PostgreSQL writes it in messages.
func (t T) Name() string { return names[t.OID] }

// SQLString is the name with its modifiers: "character varying(10)".
func (t T) SQLString() string {
	switch {
	case t.Family == ArrayFamily:
		return t.Elem().SQLString() + "[]"
	case t.Width > 0:
		return fmt.Sprintf("%s(%d)", t.Name(), t.Width)
	case t.Prec > 0:
		return fmt.Sprintf("numeric(%d,%d)", t.Prec, t.Scale)
	}
	return t.Name()
}

// Size is pg_type.typlen: the fixed size in bytes, or -1 for variable.
func (t T) Size() int16 {
	switch t.OID {
	case 16:
		return 1
	case 21:
		return 2
	case 23, 700, 1082, 26, 28:
		return 4
	case 20, 701, 1114, 1184:
		return 8
	case 1186, 2950:
		return 16
	case 19:
		return 64
	case 705:
		return -2
	}
	return -1
}

// TypeMod is the atttypmod PostgreSQL reports: -1 when none.
func (t T) TypeMod() int32 {
	switch {
	case t.Width > 0:
		return t.Width + 4
	case t.Prec > 0:
		return (t.Prec<<16 | t.Scale) + 4
	}
	return -1
}

// Identical reports whether t and u are the same type, modifiers included.
func (t T) Identical(u T) bool { return t == u }

// Equivalent reports whether values of t and u compare without a cast.
func (t T) Equivalent(u T) bool {
	return t.Family == u.Family || t.Family == UnknownFamily || u.Family == UnknownFamily
}

// IsNumeric reports whether t is an int, float or numeric type.
func (t T) IsNumeric() bool {
	return t.Family == IntFamily || t.Family == FloatFamily || t.Family == DecimalFamily
}

// WithWidth returns t with a character length limit.
func (t T) WithWidth(n int32) T { t.Width = n; return t }

// WithPrecision returns numeric(p,s).
func (t T) WithPrecision(p, s int32) T { t.Prec, t.Scale = p, s; return t }

// String is for debugging.
func (t T) String() string { return strings.ToUpper(t.SQLString()) }

var typnames = map[uint32]string{
	16: "bool", 21: "int2", 23: "int4", 20: "int8", 700: "float4", 701: "float8", 1700: "numeric",
	25: "text", 1043: "varchar", 1042: "bpchar", 19: "name", 17: "bytea", 1082: "date",
	1114: "timestamp", 1184: "timestamptz", 1186: "interval", 2950: "uuid", 3802: "jsonb",
	26: "oid", 705: "unknown",
}

// TypName is pg_type.typname ("int4").
func (t T) TypName() string { return typnames[t.OID] }
