package verify_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/verify"
)

// `ordo verify` (the real binary) against a healthy 3-node cluster: both
// workloads pass for 10 s each, and results.json and the histories are
// written.
func TestOrdoVerify(t *testing.T) {
	bin := cluster.Binary(t)
	c := cluster.StartInProcess(t, 3)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "verify", "--hosts", strings.Join(c.SQLAddrs, ","),
		"--workload", "list-append,bank", "--duration", "10s", "--clients", "8", "--seed", "42", "--out", out)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("ordo verify: %v\nstderr:\n%s", err, tail(stderr.String(), 3000))
	}
	if !strings.Contains(stderr.String(), "list-append:") {
		t.Errorf("no progress line on stderr:\n%s", tail(stderr.String(), 3000))
	}
	reports := readResults(t, out)
	if len(reports) != 2 || reports[0].Workload != "list-append" || reports[1].Workload != "bank" {
		t.Fatalf("results.json: %+v", reports)
	}
	for _, r := range reports {
		if !r.Valid || r.Seed != 42 || r.Nodes != 3 || r.Ok < 50 {
			t.Errorf("%s: valid=%v seed=%d nodes=%d ok=%d", r.Workload, r.Valid, r.Seed, r.Nodes, r.Ok)
		}
		if !strings.Contains(stdout.String(), "PASS: "+r.Workload+":") {
			t.Errorf("no summary line for %s", r.Workload)
		}
		ops, err := history.ReadFile(r.History)
		if err != nil || len(ops) != r.Invoked {
			t.Errorf("%s: history %s: %d ops, %v; report says %d", r.Workload, r.History, len(ops), err, r.Invoked)
		}
	}
}

func readResults(t *testing.T, dir string) []verify.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reports []verify.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	return reports
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// `ordo verify` against a healthy 3-node cluster with every other workload
// (register, sets, g2, registration, counter, comments), 4 s each: all
// pass, each with ok operations and a summary line.
func TestOrdoVerifyWorkloads(t *testing.T) {
	bin := cluster.Binary(t)
	c := cluster.StartInProcess(t, 3)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "verify", "--hosts", strings.Join(c.SQLAddrs, ","),
		"--workload", strings.Join(newWorkloads, ","), "--duration", "4s", "--clients", "8", "--seed", "43", "--out", out)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("ordo verify: %v\nstderr:\n%s", err, tail(stderr.String(), 3000))
	}
	reports := readResults(t, out)
	if len(reports) != len(newWorkloads) {
		t.Fatalf("results.json has %d reports, want %d", len(reports), len(newWorkloads))
	}
	for i, r := range reports {
		if r.Workload != newWorkloads[i] || !r.Valid || r.Ok < 20 || r.Nodes != 3 {
			t.Errorf("%s: valid=%v ok=%d nodes=%d", r.Workload, r.Valid, r.Ok, r.Nodes)
		}
		if !strings.Contains(stdout.String(), "PASS: "+r.Workload+":") {
			t.Errorf("no summary line for %s", r.Workload)
		}
	}
}
