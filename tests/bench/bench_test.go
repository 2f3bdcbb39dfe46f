package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/cluster"
)

// result is the part of `ordo bench --json` the test reads.
type result struct {
	Workload      string  `json:"workload"`
	Txns          int64   `json:"txns"`
	TPS           float64 `json:"tps"`
	P50Ms         float64 `json:"p50_ms"`
	Serialization int64   `json:"serialization_failures_40001"`
	UniqueViol    int64   `json:"unique_violations_23505"`
	OtherErrors   int64   `json:"other_errors"`
	FirstError    string  `json:"first_error"`
}

// Each workload runs for a second with its clients spread over the three
// nodes, in a different query mode each: it must commit transactions and
// report no error other than the 23505s registration provokes with a small
// name pool.
func TestBenchWorkloads(t *testing.T) {
	bin := cluster.Binary(t)
	c := cluster.StartInProcess(t, 3)
	var urls []string
	for _, a := range c.SQLAddrs {
		urls = append(urls, "postgres://root@"+a+"/defaultdb?sslmode=disable")
	}
	for _, tc := range []struct {
		args         []string
		wantConflict bool // 23505s expected
	}{
		{[]string{"registration", "--names", "500", "-M", "prepared"}, true},
		{[]string{"kv", "--keys", "500", "--zipf", "1.1", "--read-percent", "80", "-M", "extended"}, false},
		{[]string{"hot-row", "-M", "simple"}, false},
	} {
		args := append([]string{"bench"}, tc.args...)
		args = append(args, "--url", strings.Join(urls, ","), "--clients", "4",
			"--duration", "1s", "--warmup", "200ms", "--progress", "500ms", "--json")
		r, stderr := runBench(t, bin, args)
		t.Logf("%s: %d txns, %.0f tps, p50 %.2f ms, 40001 %d, 23505 %d, other %d",
			r.Workload, r.Txns, r.TPS, r.P50Ms, r.Serialization, r.UniqueViol, r.OtherErrors)
		if r.Txns == 0 || r.TPS <= 0 {
			t.Errorf("%s: no throughput: %+v\n%s", tc.args[0], r, stderr)
		}
		if r.OtherErrors != 0 {
			t.Errorf("%s: %d errors, first: %s", tc.args[0], r.OtherErrors, r.FirstError)
		}
		if tc.wantConflict && (r.UniqueViol == 0 || r.Serialization != 0) {
			t.Errorf("%s: want 23505s and no 40001: %+v", tc.args[0], r)
		}
		if !tc.wantConflict && r.UniqueViol != 0 {
			t.Errorf("%s: unexpected 23505s: %+v", tc.args[0], r)
		}
		if !strings.Contains(stderr, "tps") {
			t.Errorf("%s: no progress line on stderr:\n%s", tc.args[0], stderr)
		}
	}
}

func runBench(t *testing.T, bin string, args []string) (result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ordo %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	var r result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("ordo %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout.String())
	}
	return r, stderr.String()
}
