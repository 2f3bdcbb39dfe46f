package server

import (
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// docMetric is one row of the table in docs/monitoring.md.
type docMetric struct{ typ, labels string }

// documentedMetrics parses the metrics table of docs/monitoring.md: rows
// whose first cell is a backquoted metric name (or a prefix ending in *).
func documentedMetrics(t *testing.T) map[string]docMetric {
	b, err := os.ReadFile("../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| `([a-z0-9_]+\\*?)` \\| ([a-z]*) *\\| ([^|]*)\\|")
	out := map[string]docMetric{}
	for _, line := range strings.Split(string(b), "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("docs/monitoring.md lists %s twice", m[1])
		}
		labels := strings.Fields(strings.NewReplacer("`", " ", ",", " ").Replace(m[3]))
		sort.Strings(labels)
		out[m[1]] = docMetric{typ: m[2], labels: strings.Join(labels, ",")}
	}
	return out
}

var (
	descRE  = regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \[(.*)\]}$`)
	labelRE = regexp.MustCompile(`\{([a-zA-Z_][a-zA-Z0-9_]*)[ }]`)
)

// exportedMetrics describes every collector the node registered: name →
// labels (a vector with no series yet is described all the same).
func exportedMetrics(t *testing.T, all []prometheus.Collector) map[string]string {
	out := map[string]string{}
	ch := make(chan *prometheus.Desc, 1024)
	for _, c := range all {
		c.Describe(ch)
	}
	close(ch)
	for d := range ch {
		m := descRE.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read %s", d)
		}
		var labels []string // printed as [{name <nil>} ...]
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			labels = append(labels, l[1])
		}
		sort.Strings(labels)
		out[m[1]] = strings.Join(labels, ",")
	}
	return out
}

func newUnstartedServer(t *testing.T) *Server {
	s, err := New(Config{StoreDir: "/n1", FS: vfs.NewMem(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// TestMetricsDocumented holds docs/monitoring.md to the registry: every
// metric the node exports is in the table with its type and labels, and
// every row names a metric the node exports.
func TestMetricsDocumented(t *testing.T) {
	s := newUnstartedServer(t)
	docs := documentedMetrics(t)
	exported := exportedMetrics(t, s.metrics.all)
	if len(exported) < 30 {
		t.Fatalf("only %d metrics described", len(exported))
	}
	families, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, f := range families {
		types[f.GetName()] = strings.ToLower(f.GetType().String())
	}
	matched := map[string]bool{}
	for name, labels := range exported {
		row, ok := docs[name]
		if !ok {
			if p := wildcardFor(docs, name); p != "" {
				matched[p] = true
				continue
			}
			t.Errorf("%s is exported but not documented in docs/monitoring.md", name)
			continue
		}
		matched[name] = true
		if row.labels != labels {
			t.Errorf("%s: documented labels %q, exported %q", name, row.labels, labels)
		}
		if typ, ok := types[name]; ok && row.typ != typ {
			t.Errorf("%s: documented as a %s, exported as a %s", name, row.typ, typ)
		}
	}
	for name := range docs {
		if !matched[name] {
			t.Errorf("docs/monitoring.md lists %s, which the node does not export", name)
		}
	}
}

func wildcardFor(docs map[string]docMetric, name string) string {
	for p := range docs {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(name, prefix) {
			return p
		}
	}
	return ""
}

// TestMetricsLint runs promlint over the node's own metrics.
func TestMetricsLint(t *testing.T) {
	s := newUnstartedServer(t)
	problems, err := testutil.GatherAndLint(s.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "ordo_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
}

// TestMetricsPerServer: two nodes in one process have separate registries.
func TestMetricsPerServer(t *testing.T) {
	a, b := newUnstartedServer(t), newUnstartedServer(t)
	a.metrics.txn.Commits.Inc()
	if got := testutil.ToFloat64(b.metrics.txn.Commits); got != 0 {
		t.Errorf("a commit on one node shows on the other: %v", got)
	}
	if a.Registry() == b.Registry() {
		t.Error("two servers share a registry")
	}
}
