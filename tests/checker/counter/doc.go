// Package counter checks histories of the counter workload
// (counter-monotonic): clients increment one counter by 1 (UPDATE … SET v =
// v + 1 RETURNING v) and read it; the counter starts at 0. Every ok read
// records the value it saw, every ok increment the value it produced.
//
// Checks, for every ok read or increment X that saw value v:
//
//   - Over: v is at most the number of increments that may have applied by
//     the time X completed (ok or info increments invoked before X
//     completed; failed ones never apply).
//   - Under: v is at least the number of ok increments that completed
//     before X was invoked (plus one when X is itself an increment): a
//     smaller value lost an acknowledged increment or read stale data.
//   - Process order: a process's values never decrease, and each of its
//     increments yields more than anything it saw before.
//   - Real-time order: if X completed before Y was invoked, Y sees at least
//     X's value (more, when Y is an increment). Process order is the special
//     case for one process; both are reported.
//   - Duplicate: two ok increments produced the same value.
//
// The checker is pure; it sorts and binary-searches, O(n log n).
package counter
