package verify_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/pgtest"
	"github.com/ordodb/ordo/tests/verify"
)

// The positive control (testing.md §3.2): the same list-append workload
// against PostgreSQL 15. At REPEATABLE READ (snapshot isolation) the checker
// must find G-single or G2-item; at SERIALIZABLE the history must be clean.
// PostgreSQL missing is a failure, never a skip (pgtest).
func TestPostgresPositiveControl(t *testing.T) {
	pg := pgtest.Start(t)
	t.Run("repeatable-read", func(t *testing.T) {
		// Rounds of a few seconds until the anomaly shows (almost always the
		// first), at most 15 s.
		for round := range 5 {
			r := runPG(t, pg.URL(), pgx.RepeatableRead, uint64(round+1), 3*time.Second)
			if r.Anomalies["G-single"]+r.Anomalies["G2-item"] > 0 {
				if r.Valid || r.Level != "not serializable" || !strings.Contains(r.Explanation, "G") {
					t.Fatalf("flagged but %v %q:\n%s", r.Valid, r.Level, r.Explanation)
				}
				return
			}
		}
		t.Fatal("REPEATABLE READ produced no G-single or G2-item in 15 s: the checker or the workload is blind")
	})
	t.Run("serializable", func(t *testing.T) {
		r := runPG(t, pg.URL(), pgx.Serializable, 7, 10*time.Second)
		if !r.Valid || r.Ok < 100 {
			t.Fatalf("SERIALIZABLE: valid=%v with %d ok txns\n%s", r.Valid, r.Ok, r.Explanation)
		}
	})
}

func runPG(t *testing.T, url string, level pgx.TxIsoLevel, seed uint64, d time.Duration) *verify.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+60*time.Second)
	defer cancel()
	r, _, err := verify.Run(ctx, verify.Config{URLs: []string{url}, Duration: d, Seed: seed, Isolation: level},
		verify.NewListAppend(verify.ListAppendConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\nnot ok by class: %v", r.Summary(), r.Errors)
	return r
}

// The failure path of the real binary: ordo verify against PostgreSQL at
// REPEATABLE READ exits 1 and prints a FAIL summary, the seed, and the
// anomalous cycles explained (list-append) or the pairs that both inserted
// (g2); results.json records the verdicts.
func TestOrdoVerifyReportsAnomaly(t *testing.T) {
	bin := cluster.Binary(t)
	pg := pgtest.Start(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "verify", "--url", pg.URL(), "--isolation", "repeatable-read",
		"--workload", "list-append,g2", "--duration", "4s", "--seed", "5", "--out", out)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("stdout:\n%s", tail(stdout.String(), 4000))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\nstderr:\n%s", err, tail(stderr.String(), 2000))
	}
	s := stdout.String()
	for _, want := range []string{"FAIL: list-append:", "seed 5", "--seed 5", "not serializable", "G2-item",
		"FAIL: g2:", "G2: key", "both transactions committed an insert"} {
		if !strings.Contains(s, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	reports := readResults(t, out)
	if len(reports) != 2 || reports[0].Valid || reports[0].Anomalies["G2-item"]+reports[0].Anomalies["G-single"] == 0 ||
		reports[1].Valid || reports[1].Anomalies["G2"] == 0 {
		t.Fatalf("results.json: %+v", reports)
	}
}
