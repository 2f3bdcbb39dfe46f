//go:build mut_ack_before_commit

package replica

// mutAckBeforeCommit: THIS BUILD IS BROKEN ON PURPOSE (-tags
// mut_ack_before_commit). Commits are acknowledged before their Raft entry
// commits. See mutation_ack_before_commit_off.go.
const mutAckBeforeCommit = true
