//go:build mut_skip_read_locks

package locktable

// mutSkipReadLocks: THIS BUILD IS BROKEN ON PURPOSE (-tags
// mut_skip_read_locks). Shared locks are granted without being recorded:
// reads take no lock, so transactions are no longer serializable (lost
// updates, G-single, G2-item). See mutation_skip_read_locks_off.go.
const mutSkipReadLocks = true
