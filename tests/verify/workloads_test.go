package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/pgtest"
	"github.com/ordodb/ordo/tests/verify"
)

// newWorkloads are the workloads beyond list-append and bank.
var newWorkloads = []string{verify.BankMultiTableName, verify.SequentialName, verify.RegisterName, verify.SetsName, verify.G2Name,
	verify.RegistrationName, verify.CounterName, verify.CommentsName}

// Every workload against PostgreSQL 15 at SERIALIZABLE comes out clean (the
// SQL is PostgreSQL's and the checkers raise no false alarm on a
// serializable database); the g2 workload at REPEATABLE READ (snapshot
// isolation, which allows write skew over a predicate) is flagged: the
// negative control that shows the g2 checker can see.
func TestPostgresWorkloads(t *testing.T) {
	pg := pgtest.Start(t)
	for i, name := range newWorkloads {
		t.Run(name, func(t *testing.T) {
			w, err := verify.New(name)
			if err != nil {
				t.Fatal(err)
			}
			r := runWorkload(t, pg.URL(), pgx.Serializable, uint64(i+1), 2*time.Second, w)
			if !r.Valid || r.Ok < 20 {
				t.Fatalf("SERIALIZABLE: valid=%v with %d ok\n%s", r.Valid, r.Ok, r.Explanation)
			}
		})
	}
	t.Run("g2-repeatable-read", func(t *testing.T) {
		for round := range 5 {
			r := runWorkload(t, pg.URL(), pgx.RepeatableRead, uint64(round+1), 2*time.Second, verify.NewG2(verify.G2Config{}))
			if r.Anomalies["G2"] > 0 {
				if r.Valid || r.Level != "invalid" {
					t.Fatalf("flagged but valid=%v level %q", r.Valid, r.Level)
				}
				t.Logf("explanation:\n%s", tail(r.Explanation, 1500))
				return
			}
		}
		t.Fatal("REPEATABLE READ produced no G2 in 10 s: the g2 checker or workload is blind")
	})
}

func runWorkload(t *testing.T, url string, level pgx.TxIsoLevel, seed uint64, d time.Duration, w verify.Workload) *verify.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+90*time.Second)
	defer cancel()
	r, _, err := verify.Run(ctx, verify.Config{URLs: []string{url}, Duration: d, Seed: seed, Isolation: level}, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\nnot ok by class: %v", r.Summary(), r.Errors)
	return r
}
