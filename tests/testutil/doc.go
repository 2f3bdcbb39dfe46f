// Package testutil holds helpers shared by tests in every layer: waiting on a
// condition with a deadline instead of sleeping for synchronisation.
package testutil
