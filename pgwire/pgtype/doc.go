// Package pgtype encodes and decodes PostgreSQL values in the text and
// binary wire formats, for the types ordo speaks: bool, int2/4/8,
// float4/8, numeric, text/varchar/bpchar/name/"char", bytea, date,
// timestamp, timestamptz, interval, uuid, jsonb, oid, and one-dimensional
// arrays of these. It is a leaf package (standard library only) so the SQL
// layer can encode result rows with it.
//
// Go representations (what Decode* returns and Append* accepts):
//
//	bool                         bool
//	int2, int4, int8             int64 (range-checked on encode)
//	float4, float8               float64
//	numeric                      Numeric (decimal text, "NaN", "Infinity")
//	text, varchar, bpchar, name, "char", jsonb   string
//	bytea                        []byte
//	date                         time.Time (UTC midnight)
//	timestamp                    time.Time (UTC wall clock)
//	timestamptz                  time.Time (an instant; text uses Conv.Loc)
//	interval                     Interval
//	uuid                         UUID
//	oid                          uint32
//	arrays                       []any (nil elements are NULL)
//
// Text output follows PostgreSQL 15's defaults: DateStyle ISO, MDY;
// IntervalStyle postgres; extra_float_digits 1 (shortest exact floats);
// bytea_output hex. Infinite dates and timestamps are not supported yet.
package pgtype
