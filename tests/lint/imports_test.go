package lint

import (
	"slices"
	"strings"
	"testing"
)

// TestImportLayers enforces the layering rules (rules_test.go) on the
// module as it is.
func TestImportLayers(t *testing.T) {
	g := loadGraph(t)
	for _, leaf := range leaves {
		if g[leaf] == nil {
			t.Errorf("leaf %s is not a package of the module: update leaves in rules_test.go", leaf)
		}
	}
	for _, v := range checkLayers(g, rules, testRules) {
		t.Error(v)
	}
}

// fake builds a graph from "pkg: dep dep ..." lines; a dependency written
// as "test:dep" is imported by a test file.
func fake(lines ...string) graph {
	g := graph{}
	for _, line := range lines {
		name, deps, _ := strings.Cut(line, ":")
		p := &pkg{}
		for _, d := range strings.Fields(deps) {
			if td, ok := strings.CutPrefix(d, "test:"); ok {
				p.tImports = append(p.tImports, td)
			} else {
				p.imports = append(p.imports, d)
			}
		}
		g[strings.TrimSpace(name)] = p
	}
	return g
}

// layered is a small module that follows every rule.
var layered = []string{
	"cmd/ordo: server kv",
	"server: pgwire sql kv txn/locktable range/store rpc kv/storage",
	"pgwire: pgwire/pgwirebase pgwire/pgcode",
	"pgwire/pgwirebase: pgwire/pgcode",
	"pgwire/pgcode:",
	"sql: kv txn/locktable pgwire/pgcode kv/keys/encoding",
	"kv: rpc kv/keys kv/kverr rpc/rpcpb test:tests/testutil",
	"kv/keys:",
	"kv/keys/encoding:",
	"kv/kverr: kv/keys rpc/rpcpb",
	"kv/storage: test:tests/testutil",
	"txn/locktable:",
	"range/store: range/replica kv/storage kv/kverr test:tests/testutil test:kv",
	"range/replica: kv/storage kv/keys kv/kverr rpc/rpcpb",
	"rpc: rpc/rpcpb kv/kverr",
	"rpc/rpcpb:",
	"tests/testutil:",
	"tests/cluster: server kv tests/testutil",
}

func TestImportRulesPassLayeredGraph(t *testing.T) {
	for _, v := range checkLayers(fake(layered...), rules, testRules) {
		t.Errorf("unexpected violation in a layered graph: %s", v)
	}
}

// replaceLine returns layered with the line of replace's package replaced.
func replaceLine(replace string) []string {
	name, _, _ := strings.Cut(replace, ":")
	lines := slices.Clone(layered)
	for i, l := range lines {
		if strings.HasPrefix(l, name+":") {
			lines[i] = replace
		}
	}
	return lines
}

func violationStrings(vs []violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out
}

// TestImportRulesCatchUpwardEdges feeds graphs with one bad edge each and
// checks that the checker reports exactly that edge: the chains through it
// from the packages above are not repeated.
func TestImportRulesCatchUpwardEdges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replace string // line replacing the one of the same package
		want    string
	}{
		{"leaf imports server", "kv/keys: server", "kv/keys imports server: a leaf imports only leaves"},
		{"leaf imports kv/storage", "kv/kverr: kv/keys kv/storage", "kv/kverr imports kv/storage: a leaf imports only leaves"},
		{"range imports the kv client", "range/replica: kv kv/storage", "range/replica imports kv: range/ is the server path"},
		{"range imports the txn coordinator", "range/replica: txn", "range/replica imports txn: range/ is the server path"},
		{"rpc imports range", "rpc: rpc/rpcpb range/store", "rpc imports range/store: rpc imports only leaves"},
		{"kv imports range", "kv: rpc range/replica", "kv imports range/replica: the kv client reaches replicas over rpc"},
		{"pgwire imports sql", "pgwire: sql pgwire/pgcode", "pgwire imports sql: pgwire reaches no other layer"},
		{"pgwire imports kv/keys is allowed, kv/storage is not", "pgwire: kv/keys kv/storage", "pgwire imports kv/storage: pgwire reaches no other layer"},
		{"kv imports sql", "kv: rpc sql", "kv imports sql: nothing below sql knows SQL"},
		{"txn imports pgwire/pgcode", "txn/locktable: pgwire/pgcode", "txn/locktable imports pgwire/pgcode: nothing below sql knows SQL"},
		{"sql imports server", "sql: server", "sql imports server: only cmd"},
		{"server imports cmd", "server: cmd/ordo", "server imports cmd/ordo: cmd is the top layer"},
		{"production code imports tests", "server: tests/testutil", "server imports tests/testutil: production code never imports tests/"},
		{"test imports a cluster harness", "kv/storage: test:tests/cluster", "kv/storage: a test file imports tests/cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := violationStrings(checkLayers(fake(replaceLine(tc.replace)...), rules, testRules))
			head, why, _ := strings.Cut(tc.want, ": ")
			if len(got) != 1 || !strings.HasPrefix(got[0], head) || !strings.Contains(got[0], why) {
				t.Errorf("want exactly %q; got:\n%s", tc.want, strings.Join(got, "\n"))
			}
		})
	}
}

// TestImportRulesCatchTransitiveHole drops the rpc rule, so rpc → range/store
// is allowed edge by edge; the kv rule must still catch kv reaching range/
// through rpc, and print the chain.
func TestImportRulesCatchTransitiveHole(t *testing.T) {
	var loose []rule
	for _, r := range rules {
		if !slices.Equal(r.pkgs, []string{"rpc/..."}) {
			loose = append(loose, r)
		}
	}
	if len(loose) != len(rules)-1 {
		t.Fatal("the rpc rule is gone from rules; update this test")
	}
	got := violationStrings(checkLayers(fake(replaceLine("rpc: rpc/rpcpb range/store")...), loose, testRules))
	for _, w := range []string{
		"kv depends on range/store through kv → rpc → range/store: the kv client",
		"kv depends on range/replica through kv → rpc → range/store → range/replica: the kv client",
	} {
		head, why, _ := strings.Cut(w, ": ")
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, head) && strings.Contains(g, why) }) {
			t.Errorf("missing %q; got:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

func TestPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"kv", "kv", true},
		{"kv", "kv/keys", false},
		{"kv/...", "kv", true},
		{"kv/...", "kv/keys/encoding", true},
		{"kv/...", "kvx", false},
		{"...", "anything/at/all", true},
		{"range/...", "rangecache", false},
	} {
		if got := match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

// TestImportSite checks that a direct violation in the real tree would name
// the file and line of the import.
func TestImportSite(t *testing.T) {
	g := loadGraph(t)
	for _, name := range g.names() {
		for _, dep := range g[name].imports {
			site := g.importSite(name, dep)
			if !strings.HasPrefix(site, name+"/") || !strings.Contains(site, ".go:") {
				t.Errorf("importSite(%s, %s) = %q, want %s/FILE.go:LINE", name, dep, site, name)
			}
		}
	}
}
