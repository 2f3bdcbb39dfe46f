//go:build !mut_skip_read_locks

package locktable

// mutSkipReadLocks is a mutation for testing the checkers (docs/verify.md,
// "Mutations"; scripts/mutations.sh): built with -tags mut_skip_read_locks,
// every shared lock is granted without being recorded, so transactional
// reads block no writer and wait for none. False here: the normal build.
const mutSkipReadLocks = false
