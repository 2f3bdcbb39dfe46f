// Package registration checks histories of the registration workload
// (unique user names): clients concurrently insert rows (id, name) into a
// table with a UNIQUE constraint on name, drawing names from a small pool
// so that most names are attempted by several clients at once. Each insert
// has a row id unique per run, so every row names the attempt that wrote
// it. After the run one final read returns every row.
//
// Checks:
//
//   - Double registration: a name acknowledged (ok) to two inserts.
//   - Duplicate row: the final read holds two rows for one name.
//   - Lost: an ok insert that completed before the final read was invoked
//     has no row (its id under its name) in the final read.
//   - Unexpected: a row in the final read that no ok or info insert
//     explains: an id never attempted, an id attempted under another name,
//     or an insert that failed definitely (for example 23505).
//   - No final read.
//
// Inserts of unknown outcome (info) may go either way: a row for one counts
// as recovered. The checker is pure.
package registration
