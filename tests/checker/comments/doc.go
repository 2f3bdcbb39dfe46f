// Package comments checks histories of Jepsen's comments workload, a test of
// strict serializability across keys: clients insert unique ids (each a
// blind write to one of several tables, so writes land in different ranges)
// and read every table in one transaction.
//
// Checks, for every ok read R that saw the set S:
//
//   - Missing (Jepsen's comments anomaly): R saw a write w_i but not a write
//     w_j that was acknowledged before w_i was invoked. Under strict
//     serializability w_j precedes w_i, so any snapshot holding w_i holds
//     w_j.
//   - Stale: R did not see a write acknowledged before R was invoked.
//   - Unexpected: R saw an id that no write attempted, or one whose write
//     failed definitely, or one whose write began after R ended.
//   - Duplicate: R saw an id twice.
//
// Keys are independent (Jepsen's "independent" keys): each write and read
// names a key in Op.Key, and a read is compared only with the writes of its
// key, which keeps reads short in long runs. A read seeing an id written
// under another key is Unexpected.
//
// Writes of unknown outcome (info) may or may not be seen. The checker is
// pure; each read is compared with a prefix of its key's writes sorted by
// completion time.
package comments
