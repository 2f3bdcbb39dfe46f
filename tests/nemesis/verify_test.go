package nemesis_test

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
	"github.com/ordodb/ordo/tests/nemesis"
	"github.com/ordodb/ordo/tests/verify"
)

// `ordo verify` (the real binary) starts its own 3-process cluster and runs
// list-append and bank for 30 s each while partitions, kills and pauses
// come and go: both histories check clean, every fault is recorded and
// healed, and the workload succeeds again after every heal.
func TestOrdoVerifyUnderNemesis(t *testing.T) {
	bin := cluster.Binary(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "verify", "--workload", "list-append,bank",
		"--nemesis", "partition,kill,pause", "--nemesis-quiet", "3s", "--nemesis-hold", "4s",
		"--duration", "30s", "--seed", "11", "--out", out)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("ordo verify: %v\nstderr:\n%s", err, tail(stderr.String(), 4000))
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var reports []verify.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 {
		t.Fatalf("%d reports", len(reports))
	}
	for _, r := range reports {
		if !r.Valid || r.Nemesis != "partition,kill,pause" || r.Faults < 2 || len(r.Recovery) != r.Faults || r.Ok < 100 {
			t.Errorf("%s: valid %v, nemesis %q, %d faults, %d recoveries, %d ok", r.Workload, r.Valid, r.Nemesis, r.Faults, len(r.Recovery), r.Ok)
		}
		for _, rc := range r.Recovery {
			if rc.RecoveryMs < 0 || rc.RecoveryMs > 20000 {
				t.Errorf("%s: after %s at %.1f s: recovery %.0f ms", r.Workload, rc.Fault, rc.HealS, rc.RecoveryMs)
			}
		}
		ops, err := history.ReadFile(r.History)
		if err != nil {
			t.Fatal(err)
		}
		events := 0
		for _, op := range ops {
			if op.Process == history.NemesisProcess && (op.F == nemesis.EventStart || op.F == nemesis.EventEnd) {
				events++
			}
		}
		if events != 2*r.Faults {
			t.Errorf("%s: %d nemesis events in the history for %d faults", r.Workload, events, r.Faults)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
