// Package rowenc encodes table rows and index entries as KV pairs.
//
// Primary index (ID 1): key = keys.IndexPrefix(table, 1) + the primary key
// columns in kv/keys/encoding's order-preserving form (ascending); value =
// for every other non-NULL column, its column ID (uvarint) followed by the
// value in the same self-delimiting encoding. NULL columns are omitted, so
// adding a nullable column needs no rewrite. Tables without a primary key
// have a hidden int8 column rowid as their key.
//
// Secondary index: key = keys.IndexPrefix(table, index) + the indexed
// columns; a non-unique index (or a unique one when an indexed value is
// NULL, since NULLs never conflict) appends the primary key columns so
// entries are distinct; value = the primary key columns, so a lookup finds
// the row from the value alone.
//
// Decimals in values are stored as text, keeping their scale (the key
// encoding drops it: 1.50 and 1.5 are equal keys). Intervals in keys are ordered by (months, days, micros), not by
// PostgreSQL's normalized length. The package is pure.
package rowenc
