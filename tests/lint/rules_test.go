package lint

import (
	"fmt"
	"sort"
	"strings"
)

// Package patterns, relative to the module: "kv" is that package only,
// "kv/..." is kv and every package under it, "..." is every package.

// leaves are the packages everyone may import: wire types, key encoding,
// KV errors, SQLSTATE codes and the pgwire building blocks. A leaf imports
// only other leaves.
var leaves = []string{
	"kv/keys",
	"kv/keys/encoding",
	"kv/kverr",
	"rpc/rpcpb",
	"pgwire/pgcode",
	"pgwire/pgwirebase",
	"pgwire/pgtype",
	"pgwire/scram",
}

// rule says which ordo packages the packages matching pkgs (minus those
// matching except) may depend on, directly or not. An import is forbidden
// if allow is set and it matches no allow pattern, or if it matches a deny
// pattern and no denyExcept pattern.
type rule struct {
	why        string
	pkgs       []string
	except     []string
	allow      []string
	deny       []string
	denyExcept []string
}

// rules are the layers of docs/architecture.md: cmd → server → {pgwire,
// sql, kv, txn, range, rpc}, dependencies pointing down only. They apply to
// production code.
var rules = []rule{{
	why:  "cmd is the top layer: nothing imports it",
	pkgs: []string{"..."}, deny: []string{"cmd/..."},
}, {
	why:  "only cmd (and tests) may assemble a node: nothing below cmd imports server",
	pkgs: []string{"..."}, except: []string{"cmd/...", "server/...", "tests/..."},
	deny: []string{"server/..."},
}, {
	why:  "production code never imports tests/",
	pkgs: []string{"..."}, except: []string{"tests/...", "cmd/ordo"},
	deny: []string{"tests/..."},
}, {
	// ordo verify ships the client-side workloads, the checkers and the
	// nemeses of the local cluster it starts in the binary (issue 8):
	// cmd/ordo may import those, and nothing else under tests/.
	why:  "cmd/ordo imports from tests/ only the workloads, checkers and nemeses of ordo verify",
	pkgs: []string{"cmd/ordo"},
	deny: []string{"tests/..."}, denyExcept: []string{"tests/verify", "tests/checker/...", "tests/nemesis"},
}, {
	why:   "what ordo verify ships (tests/verify, tests/checker/...) imports no other ordo package: no harness, no node",
	pkgs:  []string{"tests/verify", "tests/checker/..."},
	allow: []string{"tests/verify", "tests/checker/..."},
}, {
	// The nemeses drive nodes from the outside, as an operator would:
	// processes (flags, signals, TCP proxies), HTTP, and the public admin
	// RPCs (lease transfers, splits: rpc and its wire types, the key
	// printer, the error decoder) — never as code; the failpoint names come
	// from kv/failpoint, a leaf. They record their events in a history.
	why:   "tests/nemesis (shipped by ordo verify) imports only tests/checker/history and the client side of rpc: no node, no harness",
	pkgs:  []string{"tests/nemesis"},
	allow: []string{"tests/checker/history", "rpc", "rpc/rpcpb", "kv/keys", "kv/keys/encoding", "kv/kverr", "kv/failpoint"},
}, {
	why:   "pgwire reaches no other layer: it imports only its own sub-packages and leaves",
	pkgs:  []string{"pgwire/..."},
	allow: append([]string{"pgwire/..."}, leaves...),
}, {
	why:  "sql never imports server or cmd",
	pkgs: []string{"sql/..."}, deny: []string{"server/...", "cmd/..."},
}, {
	why:  "nothing below sql knows SQL or the Postgres protocol",
	pkgs: []string{"txn/...", "kv/...", "range/...", "rpc/..."},
	deny: []string{"sql/...", "pgwire/..."},
}, {
	why:  "the kv client reaches replicas over rpc, never through range/ or server",
	pkgs: []string{"kv/..."}, deny: []string{"range/...", "server/..."},
}, {
	// kv itself is the client; kv/keys, kv/kverr, kv/storage and
	// kv/keys/encoding are the low packages range/ is built on. If replicas
	// come to run txn's pure cores (txn/locktable) directly, list them in
	// denyExcept.
	why:        "range/ is the server path: it uses no kv client, txn coordinator, sql, pgwire or server (replicas run txn's pure lock table)",
	pkgs:       []string{"range/..."},
	deny:       []string{"kv", "txn/...", "sql/...", "pgwire/...", "server/..."},
	denyExcept: []string{"txn/locktable", "txn/record"},
}, {
	why:   "rpc imports only leaves (rpc/rpcpb, kv/keys, kv/kverr)",
	pkgs:  []string{"rpc/..."},
	allow: []string{"rpc/rpcpb", "kv/keys", "kv/kverr"},
}, {
	why:   "the storage engine wrapper imports only leaves",
	pkgs:  []string{"kv/storage/..."},
	allow: leaves,
}, {
	why:   "a leaf imports only leaves",
	pkgs:  leaves,
	allow: leaves,
}}

// testRules apply to the imports of _test.go files. Tests may assemble
// higher layers (an external test package may import anything above it
// without a cycle), so only the tests/ boundary holds for them.
var testRules = []rule{{
	why:  "tests of production code may import tests/testutil and tests/pgtest, nothing else under tests/",
	pkgs: []string{"..."}, except: []string{"tests/..."},
	deny: []string{"tests/..."}, denyExcept: []string{"tests/testutil", "tests/pgtest"},
}}

// match reports whether package name matches pattern.
func match(pattern, name string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return name == base || strings.HasPrefix(name, base+"/")
	}
	return name == pattern
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if match(p, name) {
			return true
		}
	}
	return false
}

func (r rule) appliesTo(name string) bool {
	return matchAny(r.pkgs, name) && !matchAny(r.except, name)
}

// forbids reports whether the rule forbids a dependency on dep.
func (r rule) forbids(dep string) bool {
	if len(r.allow) > 0 && !matchAny(r.allow, dep) {
		return true
	}
	return matchAny(r.deny, dep) && !matchAny(r.denyExcept, dep)
}

// violation is one forbidden dependency.
type violation struct {
	pkg, dep string
	path     []string // pkg → ... → dep; two elements for a direct import
	site     string   // file:line of a direct import, if known
	test     bool     // imported by a _test.go file
	why      string
}

func (v violation) direct() bool { return len(v.path) == 2 }

func (v violation) String() string {
	switch {
	case v.test:
		return fmt.Sprintf("%s: a test file imports %s: %s", v.pkg, v.dep, v.why)
	case v.direct():
		at := ""
		if v.site != "" {
			at = " (" + v.site + ")"
		}
		return fmt.Sprintf("%s imports %s%s: %s", v.pkg, v.dep, at, v.why)
	}
	return fmt.Sprintf("%s depends on %s through %s: %s", v.pkg, v.dep, strings.Join(v.path, " → "), v.why)
}

// forbidding returns why the rules that apply to name forbid a dependency
// on dep, joined; ok is false if none does.
func forbidding(rules []rule, name, dep string) (why string, ok bool) {
	var whys []string
	for _, r := range rules {
		if r.appliesTo(name) && r.forbids(dep) {
			whys = append(whys, r.why)
		}
	}
	return strings.Join(whys, "; "), len(whys) > 0
}

// checkLayers returns every forbidden dependency in g: first each direct
// production import a rule forbids, with its file and line; then each
// transitive dependency a rule forbids that is reached through allowed
// imports only (a hole in the rules: every step is allowed but the whole is
// not), with its chain; then imports of test files. A chain through a
// forbidden import is not reported again: fixing that import fixes it.
func checkLayers(g graph, rules, testRules []rule) []violation {
	var out []violation
	bad := map[[2]string]bool{}
	for _, name := range g.names() {
		for _, dep := range g[name].imports {
			if why, ok := forbidding(rules, name, dep); ok {
				bad[[2]string{name, dep}] = true
				out = append(out, violation{pkg: name, dep: dep, path: []string{name, dep}, site: g.importSite(name, dep), why: why})
			}
		}
	}
	for _, name := range g.names() {
		for dep, path := range g.reachable(name, bad) {
			if len(path) == 2 {
				continue
			}
			if why, ok := forbidding(rules, name, dep); ok {
				out = append(out, violation{pkg: name, dep: dep, path: path, why: why})
			}
		}
		for _, dep := range g[name].tImports {
			if why, ok := forbidding(testRules, name, dep); ok {
				out = append(out, violation{pkg: name, dep: dep, path: []string{name, dep}, test: true, why: why})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.pkg != b.pkg {
			return a.pkg < b.pkg
		}
		if len(a.path) != len(b.path) {
			return len(a.path) < len(b.path)
		}
		return a.dep < b.dep
	})
	return out
}

// reachable returns every package name depends on through production
// imports not in skip, each with a shortest chain from name (breadth-first
// search).
func (g graph) reachable(name string, skip map[[2]string]bool) map[string][]string {
	paths := map[string][]string{}
	queue := []string{name}
	seen := map[string]bool{name: true}
	parent := map[string]string{}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		p := g[cur]
		if p == nil {
			continue
		}
		for _, dep := range p.imports {
			if seen[dep] || skip[[2]string{cur, dep}] {
				continue
			}
			seen[dep] = true
			parent[dep] = cur
			queue = append(queue, dep)
			paths[dep] = chain(parent, name, dep)
		}
	}
	return paths
}

func chain(parent map[string]string, from, to string) []string {
	path := []string{to}
	for n := to; n != from; {
		n = parent[n]
		path = append(path, n)
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}
