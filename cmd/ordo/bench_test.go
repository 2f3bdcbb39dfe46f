package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestParseBenchArgs(t *testing.T) {
	const u = "postgres://root@127.0.0.1:26258/defaultdb"
	for _, tc := range []struct {
		args  []string
		check func(*benchConfig) error
		err   string // substring of the error, "" for none
	}{
		{args: []string{"kv", "--url", u}, check: func(c *benchConfig) error {
			if c.workload != "kv" || c.clients != 8 || c.mode != pgx.QueryExecModeSimpleProtocol || c.label != "kv" ||
				c.duration != 10*time.Second || c.readPercent != 50 || len(c.urls) != 1 {
				return fmt.Errorf("defaults: %+v", c)
			}
			return nil
		}},
		{args: []string{"--url", u + "," + u + ", ", "-c", "16", "-M", "prepared", "tpcb"}, check: func(c *benchConfig) error {
			if c.workload != "tpcb" || c.clients != 16 || c.mode != pgx.QueryExecModeCacheStatement || len(c.urls) != 2 {
				return fmt.Errorf("flags first: %+v", c)
			}
			return nil
		}},
		{args: []string{"registration", "--url", u, "-M", "extended", "--names", "50", "--duration", "1s", "--warmup", "0s", "--json", "--label", "reg"},
			check: func(c *benchConfig) error {
				if c.mode != pgx.QueryExecModeExec || c.names != 50 || c.duration != time.Second || c.warmup != 0 || !c.json || c.label != "reg" {
					return fmt.Errorf("registration: %+v", c)
				}
				return nil
			}},
		{args: []string{"kv", "--url", u, "--zipf", "1.2", "--read-percent", "0"}, check: func(c *benchConfig) error {
			if c.zipf != 1.2 || c.readPercent != 0 {
				return fmt.Errorf("kv: %+v", c)
			}
			return nil
		}},
		{args: []string{"hot-row", "--hosts", "127.0.0.1:1,127.0.0.1:2"}, check: func(c *benchConfig) error {
			if len(c.urls) != 2 || c.urls[1] != "postgres://root@127.0.0.1:2/defaultdb?sslmode=disable" {
				return fmt.Errorf("--hosts: %q", c.urls)
			}
			return nil
		}},
		{args: []string{"--url", u}, err: "name a workload"},
		{args: []string{"tpcc", "--url", u}, err: "unknown workload"},
		{args: []string{"kv"}, err: "--url or --hosts is required"},
		{args: []string{"kv", "--url", u, "-M", "fast"}, err: "-M"},
		{args: []string{"kv", "--url", u, "--clients", "0"}, err: "--clients"},
		{args: []string{"kv", "--url", u, "--duration", "0s"}, err: "--duration"},
		{args: []string{"kv", "--url", u, "--read-percent", "101"}, err: "--read-percent"},
		{args: []string{"kv", "--url", u, "--zipf", "0.5"}, err: "--zipf"},
		{args: []string{"kv", "--url", u, "--keys", "0"}, err: "--keys"},
		{args: []string{"kv", "--url", u, "--ranges", "4", "--admin", "127.0.0.1:1"}, check: func(c *benchConfig) error {
			if c.ranges != 4 || c.admin != "127.0.0.1:1" {
				return fmt.Errorf("--ranges: %+v", c)
			}
			return nil
		}},
		{args: []string{"kv", "--url", u, "--ranges", "4"}, err: "--admin"},
		{args: []string{"tpcb", "--url", u, "--ranges", "4", "--admin", "127.0.0.1:1"}, err: "kv workload"},
		{args: []string{"kv", "--url", u, "--ranges", "-1"}, err: "--ranges"},
		{args: []string{"kv", "--url", u, "extra"}, err: "unexpected argument"},
		{args: []string{"kv", "--url", u, "--no-such-flag"}, err: "not defined"},
	} {
		cfg, err := parseBenchArgs(tc.args, io.Discard)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.err == "":
			if err := tc.check(cfg); err != nil {
				t.Errorf("%q: %v", tc.args, err)
			}
		}
	}
}

func ds(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ds(7), 50, 7 * time.Millisecond},
		{ds(7), 99.9, 7 * time.Millisecond},
		{ds(1, 2), 50, 1 * time.Millisecond},
		{ds(1, 2), 51, 2 * time.Millisecond},
		{ds(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ds(1, 2, 3, 4), 75, 3 * time.Millisecond},
		{ds(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ds(hundred...), 50, 50 * time.Millisecond},
		{ds(hundred...), 99, 99 * time.Millisecond},
		{ds(hundred...), 99.9, 100 * time.Millisecond},
		{ds(hundred...), 0.5, 1 * time.Millisecond},
		{ds(hundred...), 0, 1 * time.Millisecond},
	} {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(tc.sorted), tc.p, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errClass
	}{
		{nil, classOK},
		{&pgconn.PgError{Code: "40001"}, classSerialization},
		{fmt.Errorf("commit: %w", &pgconn.PgError{Code: "40001"}), classSerialization},
		{&pgconn.PgError{Code: "23505"}, classUniqueViolation},
		{fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), classUniqueViolation},
		{&pgconn.PgError{Code: "40P01"}, classOther},
		{&pgconn.PgError{Code: "23502"}, classOther},
		{pgx.ErrNoRows, classOther},
		{errors.New("connection reset"), classOther},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestBenchStats(t *testing.T) {
	var a, b benchStats
	a.record(3*time.Millisecond, nil)
	a.record(time.Millisecond, &pgconn.PgError{Code: "23505"})
	a.record(time.Millisecond, errors.New("first"))
	b.record(time.Millisecond, nil)
	b.record(time.Millisecond, &pgconn.PgError{Code: "40001"})
	b.record(time.Millisecond, errors.New("second"))
	total := &benchStats{}
	total.merge(&a)
	total.merge(&b)
	total.sort()
	if total.n != [numClasses]int64{2, 1, 1, 2} || total.firstErr != "first" {
		t.Errorf("counts %v, first error %q", total.n, total.firstErr)
	}
	if p50, max := total.percentile(50), total.percentile(100); p50 != time.Millisecond || max != 3*time.Millisecond {
		t.Errorf("p50 %v, max %v: only successes count", p50, max)
	}
	cfg := &benchConfig{workload: "kv", label: "kv", modeName: "simple", clients: 2, urls: []string{"a"}}
	r := newBenchResult(cfg, total, 2*time.Second)
	if r.TPS != 1 || r.Txns != 2 || r.Serialization != 1 || r.UniqueViol != 1 || r.OtherErrors != 2 || r.P50Ms != 1 {
		t.Errorf("result %+v", r)
	}
	line := progressLine(3*time.Second, time.Second, total, true)
	for _, want := range []string{"tps       2.0", "40001 1", "23505 1", "errors 2", "(warm-up)"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
}

func TestBenchReport(t *testing.T) {
	in := strings.Join([]string{
		`{"target":"postgres","label":"kv","clients":16,"tps":1000,"p50_ms":1,"p99_ms":4}`,
		`{"target":"ordo-3","label":"kv","clients":16,"tps":500,"p50_ms":2,"p99_ms":4,"unique_violations_23505":3}`,
		`{"target":"ordo-1","label":"kv","clients":16,"tps":750,"p50_ms":1.5,"p99_ms":2}`,
		`{"target":"postgres","label":"hot-row","clients":8,"tps":200,"p50_ms":10,"p99_ms":20}`,
		``,
	}, "\n")
	results, err := readBenchResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := buildBenchReport(results, []string{"ordo-3/postgres", "ordo-1/ordo-3"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Labels, ",") != "kv,hot-row" || strings.Join(rep.Targets, ",") != "postgres,ordo-3,ordo-1" {
		t.Errorf("labels %v, targets %v", rep.Labels, rep.Targets)
	}
	want := []benchRatio{
		{Label: "kv", Numerator: "ordo-3", Denominator: "postgres", TPS: 0.5, P50: 2, P99: 1},
		{Label: "kv", Numerator: "ordo-1", Denominator: "ordo-3", TPS: 1.5, P50: 0.75, P99: 0.5},
	}
	if fmt.Sprint(rep.Ratios) != fmt.Sprint(want) {
		t.Errorf("ratios %v, want %v", rep.Ratios, want)
	}
	var out strings.Builder
	printBenchReport(&out, rep)
	for _, s := range []string{"ordo-3/postgres", "0.50x", "1.50x", "0/3/0", "hot-row"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	if _, err := buildBenchReport(results, []string{"ordo-3"}); err == nil {
		t.Error("a ratio without / must be an error")
	}
	if _, err := readBenchResults(strings.NewReader("{not json")); err == nil {
		t.Error("bad JSON must be an error")
	}
}

func TestBenchGoals(t *testing.T) {
	in := strings.Join([]string{
		`{"target":"postgres","label":"tpcb","clients":32,"tps":1000,"p50_ms":1,"p99_ms":4}`,
		`{"target":"ordo-3","label":"tpcb","clients":32,"tps":400,"p50_ms":3,"p99_ms":4}`,
		`{"target":"postgres","label":"commit","clients":1,"tps":1000,"p50_ms":1,"p99_ms":2}`,
		`{"target":"ordo-3","label":"commit","clients":1,"tps":500,"p50_ms":1.5,"p99_ms":4}`,
		`{"target":"ordo-3","label":"w1","clients":16,"tps":100,"p50_ms":1,"p99_ms":1}`,
		`{"target":"ordo-3","label":"w4","clients":16,"tps":300,"p50_ms":1,"p99_ms":1}`,
		`{"target":"postgres","label":"load-s1","workload":"load","seconds":2}`,
		`{"target":"ordo-3","label":"load-s1","workload":"load","seconds":5}`,
	}, "\n")
	results, err := readBenchResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := buildBenchReport(results, []string{"ordo-3/postgres"})
	if err != nil {
		t.Fatal(err)
	}
	rep.Goals, err = parseBenchGoals([]string{
		"tpcb@ordo-3/tpcb@postgres:tps>=0.5",
		"commit@ordo-3/commit@postgres:p50<=2",
		"w4@ordo-3/w1@ordo-3:tps>=2.5",
		"gone@ordo-3/gone@postgres:tps>=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	rep.evalGoals()
	type got struct {
		measured, met bool
		ratio, missed float64
	}
	want := []got{{true, false, 0.4, 1.25}, {true, true, 1.5, 0}, {true, true, 3, 0}, {false, false, 0, 0}}
	for i, g := range rep.Goals {
		if w := want[i]; g.Measured != w.measured || g.Met != w.met ||
			math.Abs(g.Ratio-w.ratio) > 1e-9 || math.Abs(g.MissedBy-w.missed) > 1e-9 {
			t.Errorf("goal %s: %+v, want %+v", g.Name, *g, w)
		}
	}
	if rep.Goals[2].Name != "w4/w1 on ordo-3" || rep.Goals[0].Name != "tpcb ordo-3/postgres" {
		t.Errorf("names %q, %q", rep.Goals[0].Name, rep.Goals[2].Name)
	}
	var out strings.Builder
	printBenchReport(&out, rep)
	for _, s := range []string{"goals: 2 of 4 met", "0.40x (goal >= 0.50x): missed by 1.25x", "ordo-3/postgres >= 0.50x: missed by 1.25x",
		"1.50x (goal <= 2.00x): met", "w4/w1 >= 2.50x: met", "not measured", "seconds", "2.50x"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	for _, bad := range []string{"a@x/b@y", "a/b:tps>=1", "a@x/b@y:tps=1", "a@x/b@y:lat>=1", "a@x/b@y:tps>=0", "a@x/b@y:tps>=z"} {
		if _, err := parseBenchGoals([]string{bad}); err == nil {
			t.Errorf("goal %q: no error", bad)
		}
	}
}
