package clients

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/cluster"
)

var (
	failedRe    = regexp.MustCompile(`number of failed transactions: (\d+)`)
	processedRe = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	tpsRe       = regexp.MustCompile(`tps = ([0-9.]+)`)
)

// pgbench -i with the default steps, then short runs of the built-in
// scripts in every query mode through different nodes: no failed
// transaction, and the balances agree with the history afterwards.
func TestPgbench(t *testing.T) {
	c := cluster.StartInProcess(t, 3)
	out := run(t, 3*time.Minute, "pgbench", "-i", "-s", "1", ordoURL(c, 0))
	t.Logf("pgbench -i -s 1:\n%s", out)
	runs := []struct {
		node int
		args []string
	}{
		{1, []string{"-M", "simple"}},
		{2, []string{"-M", "extended"}},
		{0, []string{"-M", "prepared"}},
		{1, []string{"-S", "-M", "prepared"}},
		{2, []string{"-N", "-M", "extended"}},
	}
	for _, r := range runs {
		// -n: no vacuum, so pgbench_history is not truncated between runs.
		args := append([]string{"-n", "-c", "4", "-T", "3"}, r.args...)
		out := run(t, 2*time.Minute, "pgbench", append(args, ordoURL(c, r.node))...)
		checkPgbench(t, r.args, out)
	}
	checkBalances(t, c)
}

func checkPgbench(t *testing.T, args []string, out string) {
	t.Helper()
	failed, processed, tps := failedRe.FindStringSubmatch(out), processedRe.FindStringSubmatch(out), tpsRe.FindStringSubmatch(out)
	if failed == nil || processed == nil || tps == nil {
		t.Fatalf("pgbench %v: unexpected output:\n%s", args, out)
	}
	if failed[1] != "0" {
		t.Errorf("pgbench %v: %s failed transactions:\n%s", args, failed[1], out)
	}
	if n, _ := strconv.Atoi(processed[1]); n == 0 {
		t.Errorf("pgbench %v: no transaction processed:\n%s", args, out)
	}
	t.Logf("pgbench %v: %s transactions, tps %s", args, processed[1], tps[1])
}

func checkBalances(t *testing.T, c *cluster.InProcess) {
	conn := connect(t, ordoURL(c, 0))
	var sums [4]int64
	for i, q := range []string{
		"SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts",
		"SELECT coalesce(sum(delta), 0) FROM pgbench_history",
		"SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers",
		"SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches",
	} {
		if err := conn.QueryRow(context.Background(), q).Scan(&sums[i]); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if sums[0] != sums[1] {
		t.Errorf("sum(abalance) = %d, sum(delta) = %d", sums[0], sums[1])
	}
	if sums[2] != sums[3] {
		t.Errorf("sum(tbalance) = %d, sum(bbalance) = %d", sums[2], sums[3])
	}
	var count int64
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pgbench_accounts").Scan(&count); err != nil || count != 100000 {
		t.Errorf("pgbench_accounts has %d rows (%v), want 100000", count, err)
	}
}
