//go:build !mut_skip_span_locks

package locktable

// mutSkipSpanLocks is a mutation for testing the checkers (docs/verify.md,
// "Mutations"; scripts/mutations.sh): built with -tags mut_skip_span_locks,
// a shared lock on a span (a scan) is granted without being recorded, so an
// insert into a scanned span does not conflict with the scan (phantoms).
// Point reads still lock. False here: the normal build.
const mutSkipSpanLocks = false
