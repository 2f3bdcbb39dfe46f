//go:build mut_stale_reads

package replica

// mutStaleReads: THIS BUILD IS BROKEN ON PURPOSE (-tags mut_stale_reads).
// Reads skip the ReadIndex round. See mutation_stale_reads_off.go.
const mutStaleReads = true
