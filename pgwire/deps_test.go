package pgwire

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules holds the layering: pgwire never imports sql or anything
// below it, and its leaf packages import only the standard library (and
// each other).
func TestImportRules(t *testing.T) {
	const mod = "github.com/ordodb/ordo/"
	leaves := map[string]bool{"pgwire/pgcode": true, "pgwire/pgwirebase": true, "pgwire/pgtype": true, "pgwire/scram": true}
	for _, pkg := range []string{"pgwire", "pgwire/pgcode", "pgwire/pgwirebase", "pgwire/pgtype", "pgwire/scram"} {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			own, ours := strings.CutPrefix(dep, mod)
			switch {
			case ours && own != pkg && !strings.HasPrefix(own, "pgwire/"):
				t.Errorf("%s imports %s: pgwire must not depend on other ordo layers", pkg, dep)
			case leaves[pkg] && ours && own != pkg && !leaves[own]:
				t.Errorf("leaf %s imports %s", pkg, dep)
			case leaves[pkg] && !ours && strings.Contains(strings.Split(dep, "/")[0], "."):
				t.Errorf("leaf %s imports non-standard %s", pkg, dep)
			}
		}
	}
}
