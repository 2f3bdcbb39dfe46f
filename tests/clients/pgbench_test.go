package clients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/cluster"
)

var (
	failedRe    = regexp.MustCompile(`number of failed transactions: (\d+)`)
	processedRe = regexp.MustCompile(`number of transactions actually processed: (\d+)`)
	tpsRe       = regexp.MustCompile(`tps = ([0-9.]+)`)
	retriedRe   = regexp.MustCompile(`number of transactions retried: (\d+)`)
	retriesRe   = regexp.MustCompile(`total number of retries: (\d+)`)
)

// pgbenchScripts are pgbench's built-in scripts and the options that pick
// them. simple-update does not touch tellers or branches, select-only
// changes nothing.
var pgbenchScripts = []struct {
	name string
	args []string
}{
	{"tpcb-like", nil},
	{"simple-update", []string{"-N"}},
	{"select-only", []string{"-S"}},
}

// pgbenchSeconds is the length of each timed run. Issue 7 asks for 20 s;
// nine runs of 20 s made TestPgbench take about 4 minutes of a CI run on
// the 2-core machine, so CI runs 8 s each (about 2 minutes in all) and
// ORDO_PGBENCH_SECONDS=20 gives the full length.
func pgbenchSeconds(t *testing.T) string {
	s := os.Getenv("ORDO_PGBENCH_SECONDS")
	if s == "" {
		return "8"
	}
	if n, err := strconv.Atoi(s); err != nil || n < 1 {
		t.Fatalf("ORDO_PGBENCH_SECONDS=%q: want a positive number of seconds", s)
	}
	return s
}

// pgbench -i -s 1 with server-side generation (-I dtGvp) and with the
// default steps, then a timed run of every built-in script in every query
// mode (-M simple|extended|prepared) with 4 clients on 2 threads, each
// through another node of a 3-node cluster: no failed transaction, and
// after each run the balances moved by exactly the history's deltas
// (tpcb-like: accounts, tellers and branches alike; simple-update:
// accounts only; select-only: nothing).
//
// The cluster ticks Raft every 100 ms, ordo's default, not the harness's
// 50 ms: under a loaded 2-core machine, init's COPY and ADD PRIMARY KEY
// delayed heartbeats past the 500 ms election timeout, a leader stepped
// down (CheckQuorum) and the commit came back ambiguous (40003).
func TestPgbench(t *testing.T) {
	c := cluster.StartInProcessWith(t, 3, func(c *cluster.InProcess) { c.TickInterval = 100 * time.Millisecond })
	conn := connect(t, ordoURL(c, 0))
	for _, steps := range [][]string{{"-I", "dtGvp"}, nil} {
		args := append([]string{"-i", "-s", "1"}, steps...)
		out := run(t, 5*time.Minute, "pgbench", append(args, ordoURL(c, 0))...)
		t.Logf("pgbench %v:\n%s", args, out)
		checkInitialized(t, conn, args)
	}
	secs := pgbenchSeconds(t)
	before := balances(t, conn)
	n := 0
	for _, s := range pgbenchScripts {
		for _, mode := range []string{"simple", "extended", "prepared"} {
			// -n: no vacuum, so pgbench_history is not truncated between runs.
			args := append([]string{"-n", "-c", "4", "-j", "2", "-T", secs, "-M", mode}, s.args...)
			out := run(t, 3*time.Minute, "pgbench", append(args, ordoURL(c, n%3))...)
			checkPgbench(t, s.name+" -M "+mode, out, true)
			after := balances(t, conn)
			checkMoved(t, s.name, before, after)
			before = after
			n++
		}
	}
}

// pgbench -c 8 --max-tries=10 (tpcb-like) against real processes while
// the node holding the most leases is killed (SIGKILL) and restarted.
// pgbench connects to another node: its connections to the killed node
// itself would die with it, and pgbench aborts a client whose connection
// is lost. Conflicts come back as 40001/40P01, which pgbench retries;
// transactions that still fail after 10 tries are reported, not fatal.
// A commit whose anchor range's leaseholder dies under it has an unknown
// outcome and comes back as 40003, on which pgbench aborts that client
// (it retries only 40001 and 40P01): such aborts are allowed, any other
// error is not. Afterwards, whatever those commits did,
// sum(abalance) = sum(delta) = sum(tbalance) = sum(bbalance).
func TestPgbenchNodeKill(t *testing.T) {
	p := cluster.StartSQLProcesses(t, 3)
	url := func(i int) string {
		return fmt.Sprintf("postgresql://root@%s/defaultdb?sslmode=disable", p.SQLAddrs[i])
	}
	out := run(t, 5*time.Minute, "pgbench", "-i", "-s", "1", url(0))
	t.Logf("pgbench -i -s 1:\n%s", out)
	victim := mostLeases(t, p)
	target := (victim + 1) % 3
	t.Logf("pgbench through node %d; node %d (most leases) is killed", target+1, victim+1)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"-n", "-c", "8", "-j", "2", "-T", "40", "--max-tries=10", "-M", "prepared", url(target)}
	done := make(chan runResult, 1)
	clientBin(t, "pgbench")
	go func() { done <- runCtx(ctx, "pgbench", args...) }()
	waitOrDone(t, 10*time.Second, done)
	t.Logf("SIGKILL node %d", victim+1)
	p.Kill(victim)
	waitOrDone(t, 5*time.Second, done)
	t.Logf("restart node %d", victim+1)
	p.Start(victim)
	p.WaitHealthy(victim)
	r := <-done
	if aborted := checkAborts(t, r); aborted > 0 {
		t.Logf("%d pgbench clients aborted on a commit whose outcome was unknown (40003)", aborted)
	}
	checkPgbench(t, "tpcb-like -c 8 --max-tries=10 across a node kill", r.out, false)
	conn := connect(t, url(target))
	s := balances(t, conn)
	if s.account != s.delta || s.delta != s.teller || s.teller != s.branch {
		t.Errorf("after the run: sum(abalance) = %d, sum(delta) = %d, sum(tbalance) = %d, sum(bbalance) = %d",
			s.account, s.delta, s.teller, s.branch)
	}
}

// mostLeases returns the index of the process holding the most leases.
func mostLeases(t *testing.T, p *cluster.SQLProcesses) int {
	counts, err := p.LeaseCounts()
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for i, n := range counts {
		if n > counts[best] {
			best = i
		}
	}
	t.Logf("leases per node: %v", counts)
	return best
}

// abortRe matches pgbench's report of an aborted client.
var abortRe = regexp.MustCompile(`client \d+ script \d+ aborted in command (\d+) query \d+: ERROR:  (.*)`)

// checkAborts fails the test unless pgbench exited cleanly or its only
// errors were aborted clients on END (command 10 of tpcb-like) with an
// unknown outcome (40003). It returns how many clients aborted.
func checkAborts(t *testing.T, r runResult) int {
	t.Helper()
	if r.err == nil {
		return 0
	}
	aborts := abortRe.FindAllStringSubmatch(r.out, -1)
	if len(aborts) == 0 {
		t.Fatalf("pgbench: %v\n%s", r.err, r.out)
	}
	for _, a := range aborts {
		if a[1] != "10" || !strings.HasPrefix(a[2], "result of the transaction is unknown") {
			t.Errorf("pgbench client aborted in command %s: %s", a[1], a[2])
		}
	}
	return len(aborts)
}

// waitOrDone waits d, failing if the background client exits before.
func waitOrDone(t *testing.T, d time.Duration, done chan runResult) {
	select {
	case r := <-done:
		t.Fatalf("pgbench ended early: %v\n%s", r.err, r.out)
	case <-time.After(d):
	}
}

// checkPgbench checks a run's report: transactions were processed and,
// if noFailures, none failed. It logs the counts, retries and tps.
func checkPgbench(t *testing.T, what, out string, noFailures bool) {
	t.Helper()
	failed, processed, tps := failedRe.FindStringSubmatch(out), processedRe.FindStringSubmatch(out), tpsRe.FindStringSubmatch(out)
	if failed == nil || processed == nil || tps == nil {
		t.Fatalf("pgbench %s: unexpected output:\n%s", what, out)
	}
	if noFailures && failed[1] != "0" {
		t.Errorf("pgbench %s: %s failed transactions:\n%s", what, failed[1], out)
	}
	if n, _ := strconv.Atoi(processed[1]); n == 0 {
		t.Errorf("pgbench %s: no transaction processed:\n%s", what, out)
	}
	retried, retries := "0", "0"
	if m := retriedRe.FindStringSubmatch(out); m != nil {
		retried = m[1]
	}
	if m := retriesRe.FindStringSubmatch(out); m != nil {
		retries = m[1]
	}
	t.Logf("pgbench %s: %s transactions, %s failed, %s retried (%s retries), tps %s",
		what, processed[1], failed[1], retried, retries, tps[1])
}

// sums are pgbench's balance totals.
type sums struct{ account, delta, teller, branch int64 }

func balances(t *testing.T, conn *pgx.Conn) sums {
	t.Helper()
	var s sums
	for q, v := range map[string]*int64{
		"SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts": &s.account,
		"SELECT coalesce(sum(delta), 0) FROM pgbench_history":     &s.delta,
		"SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers":  &s.teller,
		"SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches": &s.branch,
	} {
		if err := conn.QueryRow(context.Background(), q).Scan(v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return s
}

// checkMoved checks that a run of script moved the balances by the
// history's deltas.
func checkMoved(t *testing.T, script string, before, after sums) {
	t.Helper()
	d := sums{after.account - before.account, after.delta - before.delta, after.teller - before.teller, after.branch - before.branch}
	want := d.delta
	switch script {
	case "simple-update":
		want = 0 // tellers and branches stay
	case "select-only":
		if d.delta != 0 {
			t.Errorf("%s: history moved by %d", script, d.delta)
		}
	}
	if d.account != d.delta || d.teller != want || d.branch != want {
		t.Errorf("%s moved sum(abalance) by %d, sum(delta) by %d, sum(tbalance) by %d, sum(bbalance) by %d",
			script, d.account, d.delta, d.teller, d.branch)
	}
}

// checkInitialized checks the tables pgbench -i -s 1 made.
func checkInitialized(t *testing.T, conn *pgx.Conn, args []string) {
	t.Helper()
	for table, want := range map[string]int64{"pgbench_accounts": 100000, "pgbench_tellers": 10, "pgbench_branches": 1, "pgbench_history": 0} {
		var n int64
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != want {
			t.Errorf("pgbench %v: %s has %d rows (%v), want %d", args, table, n, err, want)
		}
	}
	if s := balances(t, conn); s != (sums{}) {
		t.Errorf("pgbench %v: balances not zero: %+v", args, s)
	}
}

// runResult is a client binary's combined output and exit error.
type runResult struct {
	out string
	err error
}

// runCtx runs a client binary (which must exist) until it exits or ctx
// ends, for use off the test goroutine.
func runCtx(ctx context.Context, name string, args ...string) runResult {
	cmd := exec.CommandContext(ctx, "/usr/bin/"+name, args...)
	cmd.Env = append(os.Environ(), "PGTZ=Etc/UTC", "LC_ALL=C.UTF-8", "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	return runResult{string(out), err}
}

// pgbench -i -s 1 on a 3-node cluster whose transactions spill past
// 64 KiB (kv.transaction.spill_bytes, 4 MiB by default), so the load's
// one transaction (100,000 accounts rows) and ADD PRIMARY KEY's rewrite
// take the path pgbench -i -s 10 takes at the default: their writes are
// batched, replicated in chunks as provisional writes and moved into
// place at commit. Both the default steps (COPY, dtgvp) and server-side
// generation (INSERT ... SELECT generate_series, -I dtGvp), each checked
// (row counts, zero balances, and that spills happened), then a 5-second
// tpcb-like run and the consistency check sum(abalance) = sum(delta) =
// sum(tbalance) = sum(bbalance).
func TestPgbenchInitSpills(t *testing.T) {
	c := cluster.StartInProcessWith(t, 3, func(c *cluster.InProcess) { c.TickInterval = 100 * time.Millisecond })
	conn := connect(t, ordoURL(c, 0))
	if _, err := conn.Exec(context.Background(), "SET CLUSTER SETTING kv.transaction.spill_bytes = '64KiB'"); err != nil {
		t.Fatal(err)
	}
	for _, steps := range []string{"dtGvp", "dtgvp"} {
		before := spills(t, c)
		args := []string{"-i", "-s", "1", "-I", steps}
		out := run(t, 5*time.Minute, "pgbench", append(args, ordoURL(c, 0))...)
		t.Logf("pgbench %v:\n%s", args, out)
		checkInitialized(t, conn, args)
		// The load and ADD PRIMARY KEY each write about 10 MiB.
		if n := spills(t, c) - before; n < 50 {
			t.Errorf("pgbench %v: %v spills, want the load and ADD PRIMARY KEY to spill (at least 50)", args, n)
		} else {
			t.Logf("pgbench %v: %v spills", args, n)
		}
	}
	out := run(t, 3*time.Minute, "pgbench", "-n", "-c", "4", "-j", "2", "-T", "5", ordoURL(c, 1))
	checkPgbench(t, "tpcb-like after a spilled load", out, true)
	s := balances(t, conn)
	if s.account != s.delta || s.teller != s.delta || s.branch != s.delta {
		t.Errorf("after pgbench -T 5: sum(abalance) %d, sum(delta) %d, sum(tbalance) %d, sum(bbalance) %d: want all equal",
			s.account, s.delta, s.teller, s.branch)
	}
}

// spills is ordo_txn_spills_total summed over the nodes.
func spills(t *testing.T, c *cluster.InProcess) float64 {
	t.Helper()
	total := 0.0
	for i := range c.SQLAddrs {
		mfs, err := c.Node(i).Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "ordo_txn_spills_total" {
				for _, m := range mf.GetMetric() {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return total
}
