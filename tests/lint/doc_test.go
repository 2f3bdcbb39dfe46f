package lint

import (
	"slices"
	"testing"
)

// missingDocGo lists packages known to lack a doc.go, so the test holds
// every other package to the rule now. Remove a package from the list when
// it gets its doc.go (the test fails until you do); never add one.
var missingDocGo = []string{
	"rpc/rpcpb",
}

// TestEveryPackageHasDocGo checks style.md rule 14: every package with
// production code has a doc.go. Test-only packages (no production files,
// like an integration-test directory) are exempt.
func TestEveryPackageHasDocGo(t *testing.T) {
	g := loadGraph(t)
	for _, missing := range missingDocGo {
		if p := g[missing]; p == nil || p.docGo {
			t.Errorf("%s is in missingDocGo but has a doc.go or is gone: remove it from the list", missing)
		}
	}
	for _, name := range g.names() {
		p := g[name]
		if len(p.goFiles) == 0 || p.docGo || slices.Contains(missingDocGo, name) {
			continue
		}
		t.Errorf("%s has no doc.go: say what the package is, its loop and its invariants (style.md rule 14)", name)
	}
}

func TestDocGoListSorted(t *testing.T) {
	if !slices.IsSorted(missingDocGo) {
		t.Error("keep missingDocGo sorted")
	}
}
