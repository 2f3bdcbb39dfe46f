package cluster

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
	"github.com/ordodb/ordo/txn"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// scrape fetches a node's /metrics and parses the Prometheus text format.
func scrape(addr string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("GET /metrics: content type %q", ct)
	}
	var p expfmt.TextParser
	return p.TextToMetricFamilies(resp.Body)
}

// metricValue sums the series of family name whose labels include want: a
// counter's or gauge's value, a histogram's sample count. A family that is
// absent is -1.
func metricValue(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	sum := 0.0
	for _, m := range f.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.GetHistogram() != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			sum += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

// hasLabels reports whether m carries every name=value pair of want.
func hasLabels(m *dto.Metric, want []string) bool {
	for _, kv := range want {
		name, value, _ := strings.Cut(kv, "=")
		found := false
		for _, l := range m.GetLabel() {
			found = found || (l.GetName() == name && l.GetValue() == value)
		}
		if !found {
			return false
		}
	}
	return true
}

// TestMetricsEndpoint: KV writes, a transaction and SQL statements through
// node 1 (one a unique violation, one a syntax error) show in the nodes'
// /metrics; each node reports its own.
func TestMetricsEndpoint(t *testing.T) {
	httpAddrs := map[int]string{}
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.Configure = func(i int, cfg *server.Config) {
			if httpAddrs[i] == "" {
				httpAddrs[i] = FreeAddr(t)
			}
			cfg.HTTPAddr = httpAddrs[i]
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 5 {
		if err := c.Node(0).DB().Put(ctx, []byte(fmt.Sprintf("metrics/kv%d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	err := c.Node(0).Txns().Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
		return tx.Put(ctx, []byte("metrics/txn"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	conns := []*pgx.Conn{c.pgConn(t, 0), c.pgConn(t, 0)}
	for _, q := range []string{
		`CREATE TABLE m (id INT PRIMARY KEY, v TEXT)`,
		`INSERT INTO m VALUES (1, 'a')`,
		`INSERT INTO m VALUES (2, 'b')`,
		`SELECT count(*) FROM m`,
	} {
		if _, err := conns[0].Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := conns[1].Exec(ctx, `INSERT INTO m VALUES (1, 'again')`); sqlState(err) != "23505" {
		t.Fatalf("duplicate key: %v, want 23505", err)
	}
	if _, err := conns[1].Exec(ctx, `SELEC 1`); sqlState(err) != "42601" {
		t.Fatalf("syntax error: %v, want 42601", err)
	}

	n1, err := scrape(c.Node(0).HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		what  string
		value float64
		ok    func(float64) bool
	}{
		{"SQL inserts", metricValue(n1, "ordo_sql_statements_total", "type=insert"), atLeast(3)},
		{"SQL selects", metricValue(n1, "ordo_sql_statements_total", "type=select"), atLeast(1)},
		{"SQL ddl", metricValue(n1, "ordo_sql_statements_total", "type=ddl"), atLeast(1)},
		{"insert latencies", metricValue(n1, "ordo_sql_statement_duration_seconds", "type=insert"), atLeast(3)},
		{"unique violations", metricValue(n1, "ordo_sql_errors_total", "sqlstate=23505"), equal(1)},
		{"syntax errors", metricValue(n1, "ordo_sql_errors_total", "sqlstate=42601"), equal(1)},
		{"open pgwire connections", metricValue(n1, "ordo_pgwire_connections"), equal(float64(len(conns)))},
		{"pgwire connections accepted", metricValue(n1, "ordo_pgwire_connections_total"), atLeast(float64(len(conns)))},
		{"txn commits", metricValue(n1, "ordo_txn_commits_total"), atLeast(4)},
		{"replicas", metricValue(n1, "ordo_replicas"), atLeast(1)},
		{"raft log entries", metricValue(n1, "ordo_raft_log_entries"), atLeast(1)},
		{"disk usage", metricValue(n1, "ordo_storage_disk_usage_bytes"), atLeast(1)},
		{"WAL fsyncs", metricValue(n1, "ordo_storage_wal_fsync_duration_seconds"), atLeast(1)},
		{"read amplification", metricValue(n1, "ordo_storage_read_amplification"), atLeast(0)},
		{"go runtime", metricValue(n1, "go_goroutines"), atLeast(1)},
	} {
		if !e.ok(e.value) {
			t.Errorf("node 1: %s = %v", e.what, e.value)
		}
	}

	// Raft and range metrics are the leaseholders': summed over the nodes.
	sum := map[string]float64{}
	for i := range 3 {
		fams, err := scrape(c.Node(i).HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"ordo_raft_proposals_total", "ordo_raft_commit_latency_seconds",
			"ordo_raft_leader_changes_total", "ordo_ranges", "ordo_ranges_unavailable", "ordo_replicas_leaseholders"} {
			sum[name] += metricValue(fams, name)
		}
		if i > 0 {
			if v := metricValue(fams, "ordo_sql_statements_total", "type=insert"); v != 0 {
				t.Errorf("node %d counts %v inserts sent to node 1", i+1, v)
			}
			if v := metricValue(fams, "ordo_pgwire_connections"); v != 0 {
				t.Errorf("node %d: %v open connections, want 0", i+1, v)
			}
		}
	}
	for _, name := range []string{"ordo_raft_proposals_total", "ordo_raft_commit_latency_seconds",
		"ordo_raft_leader_changes_total", "ordo_ranges", "ordo_replicas_leaseholders"} {
		if sum[name] <= 0 {
			t.Errorf("cluster-wide %s = %v, want > 0", name, sum[name])
		}
	}
	if sum["ordo_ranges_unavailable"] != 0 {
		t.Errorf("%v ranges unavailable in a healthy cluster", sum["ordo_ranges_unavailable"])
	}

	// The connections gauge follows a closed connection.
	conns[1].Close(ctx)
	testutil.SucceedsSoon(t, func() error {
		fams, err := scrape(c.Node(0).HTTPAddr())
		if err != nil {
			return err
		}
		if v := metricValue(fams, "ordo_pgwire_connections"); v != 1 {
			return fmt.Errorf("%v open connections after closing one of two", v)
		}
		return nil
	})
}

func atLeast(min float64) func(float64) bool { return func(v float64) bool { return v >= min } }
func equal(want float64) func(float64) bool  { return func(v float64) bool { return v == want } }
