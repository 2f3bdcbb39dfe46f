package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// module is ordo's module path. Packages in a graph are named relative to
// it ("kv/keys"); imports of other modules are dropped.
const module = "github.com/ordodb/ordo"

// pkg is one package of the module: its ordo imports, relative names.
type pkg struct {
	dir      string
	goFiles  []string // production files (GoFiles and CgoFiles), base names
	imports  []string // production imports
	tImports []string // imports of _test.go files (in-package and external)
	docGo    bool     // dir holds a doc.go
}

// graph maps relative package names to their packages.
type graph map[string]*pkg

// listedPackage holds the fields of `go list -json` we read.
type listedPackage struct {
	ImportPath   string
	Dir          string
	GoFiles      []string
	CgoFiles     []string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// loadGraph runs `go list -e -json ./...` at the module root and returns the
// module's import graph. Every package is listed with its direct imports, so
// the transitive closure is computed here and needs no -deps.
func loadGraph(t *testing.T) graph {
	t.Helper()
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-e", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v\n%s", err, stderr.String())
	}
	g, err := decodeGraph(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(g) == 0 {
		t.Fatal("go list found no packages")
	}
	return g
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == devNull {
		t.Fatal("not inside a Go module")
	}
	return filepath.Dir(gomod)
}

// devNull is what `go env GOMOD` prints outside any module.
const devNull = "/dev/null"

func decodeGraph(r io.Reader) (graph, error) {
	g := graph{}
	dec := json.NewDecoder(r)
	for {
		var lp listedPackage
		err := dec.Decode(&lp)
		if errors.Is(err, io.EOF) {
			return g, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		if lp.Error != nil {
			return nil, fmt.Errorf("go list: %s: %s", lp.ImportPath, lp.Error.Err)
		}
		name, ok := relative(lp.ImportPath)
		if !ok {
			continue
		}
		g[name] = &pkg{
			dir:      lp.Dir,
			goFiles:  append(append([]string{}, lp.GoFiles...), lp.CgoFiles...),
			imports:  ordoImports(name, lp.Imports),
			tImports: ordoImports(name, append(append([]string{}, lp.TestImports...), lp.XTestImports...)),
			docGo:    contains(lp.GoFiles, "doc.go"),
		}
	}
}

// relative returns an import path relative to the module, or false for a
// package of another module.
func relative(importPath string) (string, bool) {
	if importPath == module {
		return ".", true
	}
	return strings.CutPrefix(importPath, module+"/")
}

// ordoImports keeps the imports of the module, relative, sorted, without
// name itself (an external test imports the package it tests).
func ordoImports(name string, imports []string) []string {
	var out []string
	for _, imp := range imports {
		if rel, ok := relative(imp); ok && rel != name && !contains(out, rel) {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// names returns the graph's packages in order.
func (g graph) names() []string {
	out := make([]string, 0, len(g))
	for n := range g {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// importSite names the file and line where name imports dep, for error
// messages; "" if it cannot tell (a fake graph, a parse error).
func (g graph) importSite(name, dep string) string {
	p := g[name]
	if p == nil || p.dir == "" {
		return ""
	}
	fset := token.NewFileSet()
	for _, f := range p.goFiles {
		file, err := parser.ParseFile(fset, filepath.Join(p.dir, f), nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, spec := range file.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil || path != module+"/"+dep {
				continue
			}
			pos := fset.Position(spec.Pos())
			return fmt.Sprintf("%s:%d", filepath.Join(name, f), pos.Line)
		}
	}
	return ""
}
