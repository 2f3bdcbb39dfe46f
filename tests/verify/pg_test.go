package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	t.Log(r.Summary())
	return r
}
