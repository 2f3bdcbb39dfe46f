// Package types defines the SQL types ordo supports, with PostgreSQL's OIDs,
// names and type modifiers, and the operations every value needs: parsing
// from text (literals, text-format parameters), decoding binary parameters,
// formatting for the wire in text or binary (through pgwire/pgtype), casts,
// assignment coercion (varchar(n), char(n), numeric(p,s), integer ranges) and
// comparison.
//
// A value (Datum) is a plain Go value chosen by the type's family; nil is
// SQL NULL:
//
//	Bool         bool
//	Int          int64 (int2/int4/int8; the range is checked on assignment)
//	Float        float64
//	Decimal      *apd.Decimal (never mutated once built)
//	String       string (text, varchar, char, name, jsonb — jsonb is kept as
//	             its input text for now, not normalized)
//	Bytes        []byte
//	Date         time.Time at UTC midnight
//	Timestamp    time.Time, UTC wall clock
//	TimestampTZ  time.Time, an instant
//	Interval     pgtype.Interval
//	UUID         pgtype.UUID
//	Oid          int64
//
// Functions dispatch on the family with type switches; there is no
// reflection. The package is pure.
package types
