// Package sequential checks histories of the sequential workload (after
// Jepsen's): a writer inserts a key's subkeys 0, 1, …, N-1 in order, each in
// its own transaction and each only once the one before it was
// acknowledged; a reader reads a key's subkeys in the reverse order, each in
// its own transaction. The subkeys live in different tables (different
// ranges), so the check is about order across ranges, not inside one
// transaction.
//
// A read that saw subkey i must see every subkey j < i: their writes
// completed before subkey i's was invoked, and the reader read subkey j
// after it had read subkey i — under strict serializability, indeed under
// sequential consistency, j was there. A read that saw i but missed some
// j < i is an anomaly (Jepsen's "bad count", a trailing nil).
//
// Conventions for the workload: a read op (F read) names its key in Key and
// lists in Elements the subkeys it found; writes (F write) are recorded but
// not judged. Reads that did not complete ok are ignored. The checker is
// pure: it reads nothing but its arguments.
package sequential
