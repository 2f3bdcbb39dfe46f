// Package verify runs client-side consistency workloads over SQL (pgx) and
// checks their histories, each workload with its checker package under
// tests/checker: list-append (listappend: serializability and strict
// serializability), bank (bank), register (register: linearizability per
// key with porcupine), sets (sets), g2 (g2: predicate phantoms),
// registration (registration: unique user names), counter (counter:
// monotonic within bounds) and comments (comments). It is what `ordo
// verify` runs against a cluster, and what the PostgreSQL positive and
// negative controls run against PostgreSQL 15.
//
// # Loop
//
// Run starts Config.Clients goroutines, one logical process each with its
// own connection and seeded *rand.Rand (seed+client). Each goroutine asks
// the Workload for an operation, records its invocation, runs it inside
// BEGIN ISOLATION LEVEL <level> … COMMIT, classifies the outcome with
// Classify and records the completion. Operations of one process are
// strictly sequential. When the duration is over, one final read (retried
// until ok, bounded) is taken, then the Workload's checker judges the
// history.
//
// # Invariants
//
//   - The ok / fail / info taxonomy lives in Classify only, and is never
//     bent to make a run pass: an error whose effect is unknown (40003, a
//     lost connection or a deadline while COMMIT was in flight) is info.
//   - After an info result the process is retired and the client continues
//     under a new process id, on a new connection (history.Recorder enforces
//     this).
//   - No driver-level retry: pgx never retries a transaction; a fail is
//     recorded and the client moves on.
//   - Written values are unique per run (one counter shared by all
//     clients): list-append elements, register values, set elements,
//     comments ids, registration row ids. Every value names its writer.
//   - Results of an operation that is not ok (lists read, balances) are not
//     recorded: only the invocation is.
//
// Faults are not this package's: a caller injects them through
// Config.During (ordo verify uses tests/nemesis), which records its events
// in the run's history.
package verify
