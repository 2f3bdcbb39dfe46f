//go:build !mut_ack_before_commit

package replica

// mutAckBeforeCommit is a mutation for testing the checkers (docs/verify.md,
// "Mutations"; scripts/mutations.sh): built with -tags mut_ack_before_commit,
// a transaction's commit (or prepare) is answered as soon as its Raft command
// is proposed, before the entry commits and applies, so a leader that is cut
// off or killed acknowledges writes that are then lost. False here: the
// normal build.
const mutAckBeforeCommit = false
