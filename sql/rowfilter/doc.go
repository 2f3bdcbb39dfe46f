// Package rowfilter carries a scan's WHERE filter to the leaseholders that
// read the rows (filter pushdown, docs/sql.md "Operators").
//
// The gateway (sql/exec) splits a scan's filter into conjuncts and keeps
// those that are Pushable: built only from column references, values the
// gateway evaluates once per execution (constants, parameters, outer
// references of a correlated subquery, casts of those), comparisons (= <>
// < <= > >= IS [NOT] DISTINCT FROM), IS [NOT] NULL, IS [NOT]
// TRUE/FALSE/UNKNOWN, [NOT] IN lists, AND, OR, NOT, and casts of a column
// that cannot fail (integer to bigint, float8 or numeric; real to float8),
// over the scalar types whose values compare with types.Compare (bool,
// integers, floats, numeric, text types, bytea, date, timestamp[tz],
// interval, uuid). Encode evaluates the values and writes a Spec: the
// table's id, its columns' ids and types and its primary key (all a
// leaseholder needs to decode a row with rowenc), and the expression tree
// with every value in an exact binary form.
//
// A leaseholder Compiles the spec (the server hands Compile to the store as
// its filter compiler; the range layer never imports sql) into a Filter
// whose Match decodes a row and evaluates the rebuilt sem expression: the
// very code the gateway runs, so the result is SQL's three-valued one
// (NULL does not match) with sem's comparison semantics (byte order for
// text, apd for numeric, NaN above every float as in PostgreSQL). Compile
// validates everything it reads, so a malformed spec is an error, never a
// panic. A compiled Filter is immutable and safe for concurrent use.
//
// The format starts with a version byte; a leaseholder refuses a version
// it does not know, and one without a compiler refuses any filter
// (BAD_REQUEST), so a filter is never silently ignored.
package rowfilter
