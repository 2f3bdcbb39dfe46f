//go:build !mut_early_commit

package txn

import "context"

// commitEarly is a mutation for testing the checkers (docs/verify.md,
// "Mutations"; scripts/mutations.sh). In the normal build it does nothing
// and reports false: commit goes on with the two-phase protocol. Built with
// -tags mut_early_commit it commits at the anchor before the other
// participants prepare (mutation_early_commit_on.go).
func (t *Txn) commitEarly(context.Context, *participant, []*participant) (bool, error) {
	return false, nil
}
