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
	Workload      string   `json:"workload"`
	Txns          int64    `json:"txns"`
	TPS           float64  `json:"tps"`
	P50Ms         float64  `json:"p50_ms"`
	Serialization int64    `json:"serialization_failures_40001"`
	UniqueViol    int64    `json:"unique_violations_23505"`
	OtherErrors   int64    `json:"other_errors"`
	FirstError    string   `json:"first_error"`
	Ranges        int      `json:"ranges"`
	Leaseholders  []uint64 `json:"leaseholders"`
}

// Each workload runs for 3 seconds with its clients spread over the three
// nodes, in a different query mode each: it must commit transactions and
// report no error other than the 23505s registration provokes with a small
// name pool. tpcb and select-only run on pgbench's tables loaded at scale 1
// by ordo bench tpcb --init; kv also runs on its table split into 4 ranges
// with their leases spread (--ranges). Together these are every workload of
// ordo bench.
func TestBenchWorkloads(t *testing.T) {
	bin := cluster.Binary(t)
	c := cluster.StartInProcess(t, 3)
	var urls []string
	for _, a := range c.SQLAddrs {
		urls = append(urls, "postgres://root@"+a+"/defaultdb?sslmode=disable")
	}
	url := strings.Join(urls, ",")
	initCmd := exec.Command(bin, "bench", "tpcb", "--init", "--scale", "1", "--url", url)
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("ordo bench tpcb --init: %v\n%s", err, out)
	} else {
		t.Logf("tpcb --init: %s", bytes.TrimSpace(out))
	}
	ranges := 0
	for _, tc := range []struct {
		args         []string
		wantConflict bool // 23505s expected
	}{
		{[]string{"tpcb", "-M", "prepared"}, false},
		{[]string{"select-only", "-M", "extended"}, false},
		{[]string{"registration", "--names", "500", "-M", "prepared"}, true},
		{[]string{"kv", "--keys", "500", "--zipf", "1.1", "--read-percent", "80", "-M", "extended"}, false},
		{[]string{"kv", "--keys", "500", "--read-percent", "0", "--ranges", "4", "--admin", c.Addrs[0], "-M", "prepared"}, false},
		{[]string{"hot-row", "-M", "simple"}, false},
	} {
		args := append([]string{"bench"}, tc.args...)
		args = append(args, "--url", url, "--clients", "4",
			"--duration", "3s", "--warmup", "500ms", "--progress", "1s", "--json")
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
		if r.Ranges != 0 {
			ranges++
			if r.Ranges != 4 || len(r.Leaseholders) != 4 {
				t.Errorf("kv --ranges 4: %d ranges, leaseholders %v", r.Ranges, r.Leaseholders)
			}
			if !strings.Contains(stderr, "split into 4 range(s)") {
				t.Errorf("kv --ranges 4: no split line on stderr:\n%s", stderr)
			}
		}
	}
	if ranges != 1 {
		t.Errorf("%d results reported ranges, want 1 (kv --ranges 4)", ranges)
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
