//go:build mut_skip_span_locks

package locktable

// mutSkipSpanLocks: THIS BUILD IS BROKEN ON PURPOSE (-tags
// mut_skip_span_locks). Shared span locks (scans) are granted without being
// recorded: a row inserted into a scanned span is a phantom (G2 over a
// predicate). See mutation_skip_span_locks_off.go.
const mutSkipSpanLocks = true
