// Package lint holds tests that enforce ordo's code rules across the whole
// module; it has no production code.
//
// imports_test.go holds the layering of ../../docs/architecture.md and
// style.md rule 7 as a table (rules): for each package pattern, the ordo
// packages it may or may not import. It reads the module's import graph from
// `go list -json ./...`, checks every direct import of production code (and
// names the file and line), then every transitive dependency (and prints the
// chain), so an upward edge fails on the commit that adds it. Test files may
// assemble higher layers; the only rule for them is that of tests/: a test
// may import tests/testutil, and production code imports nothing under
// tests/.
//
// doc_test.go checks that every package with production code has a doc.go.
package lint
