//go:build !mut_stale_reads

package replica

// mutStaleReads is a mutation for testing the checkers (docs/verify.md,
// "Mutations"; scripts/mutations.sh): built with -tags mut_stale_reads, a
// read is served from the replica's state as soon as it believes it leads,
// with no ReadIndex round to confirm the lease — so also the confirmation of
// a transaction's reads at commit — and a deposed leader that has not yet
// noticed serves stale values. False here: the normal build.
const mutStaleReads = false
