// Package history is the common record of a test run: one Op per operation
// attempt, the client status taxonomy (Ok, Fail, Info), JSON-lines
// persistence, and a Recorder that client goroutines share.
//
// # Record
//
// An Op is written once, when it completes. InvokeNs and CompleteNs come from
// the clock the harness injects (nanoseconds since the run's base time). An
// operation that was invoked but never completed is reported as Info with
// CompleteNs = Never.
//
// Status is the client's verdict, never the checker's:
//
//   - Ok: the operation definitely took effect and its result is known.
//   - Fail: the operation definitely did not take effect.
//   - Info: the outcome is unknown (timeout, lost connection, COMMIT error
//     with no answer). It may take effect at any time after InvokeNs.
//
// Workload payloads live in optional fields of Op: Key/Value/Expected/
// Exists/Swapped for the register, Mops for list-append, Transfer/Balances
// for the bank, Element/Elements for sets and comments, Count for the
// counter, Key/Element/Rows for registration and g2. Nemesis events use
// Process == NemesisProcess.
//
// # Invariants held by the Recorder (Jepsen convention)
//
// Each process is sequential: at most one pending operation per process.
// After an Info result a process is retired and the caller continues under a
// fresh process id, so a process never has two operations whose effects may
// overlap. Op IDs are unique and increase in invocation order. The Recorder is
// safe for concurrent use; it reads no clock of its own.
package history
