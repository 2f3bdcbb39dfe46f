// Package g2 checks histories of the g2 workload (Jepsen's g2: predicate
// anti-dependency cycles, i.e. phantoms).
//
// For each g2 key k, two transactions are attempted, one per table (a and
// b). Each reads a predicate over both tables (rows with key k and a value
// matching a condition) and inserts a row for k into its own table only if
// the predicate read was empty. Under serializability the two cannot both
// insert: whichever is serialized second sees the first one's row. Both
// committing is the G2 cycle T1 -rw-> T2 -rw-> T1 over a predicate, which
// snapshot isolation allows and two-phase locking without predicate (span)
// locks would allow too.
//
// Checks:
//
//   - G2: two ok inserts for one key (one per table), or, in the final
//     read, rows for one key in both tables (which also catches inserts of
//     unknown outcome). Counted once per key.
//   - Lost: an ok insert whose row is missing from the final read.
//   - Unexpected: a row in the final read that no insert of unknown outcome
//     or ok insert explains (never attempted, failed, or an ok attempt that
//     found the predicate non-empty and inserted nothing).
//   - No final read.
//
// Conventions for the workload: an insert op has F insert, Element the g2
// key, Value the table, and Swapped true when it inserted (Ok with Swapped
// false means the predicate read was non-empty and the transaction
// committed without writing). The final read lists every row as a Row{Key:
// table, Element: g2 key}. The checker is pure.
package g2
