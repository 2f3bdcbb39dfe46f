package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/checker/history"
	"github.com/ordodb/ordo/tests/pgtest"
	"github.com/ordodb/ordo/tests/verify"
)

// slowCommit is the list-append workload on a table whose deferred trigger
// sleeps at COMMIT whenever an appended value ends in 0: the client's
// deadline passes while COMMIT is in flight, and the server may still
// commit afterwards.
type slowCommit struct{ *verify.ListAppend }

func (w slowCommit) Setup(ctx context.Context, conn *pgx.Conn) error {
	if err := w.ListAppend.Setup(ctx, conn); err != nil {
		return err
	}
	for _, s := range []string{
		`CREATE OR REPLACE FUNCTION verify_slow() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN IF right(NEW.v, 1) = '0' THEN PERFORM pg_sleep(1.5); END IF; RETURN NULL; END $$`,
		`CREATE CONSTRAINT TRIGGER verify_slow AFTER INSERT OR UPDATE ON verify_append
		 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION verify_slow()`,
	} {
		if _, err := conn.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// A deadline during COMMIT is info (ambiguous), the client continues under
// a new process id, and the checker still finds the history serializable
// whichever way those commits went.
func TestInfoOnCommitTimeout(t *testing.T) {
	pg := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := verify.Config{URLs: []string{pg.URL()}, Clients: 4, Duration: 4 * time.Second, Seed: 3, Timeout: 500 * time.Millisecond}
	r, ops, err := verify.Run(ctx, cfg, slowCommit{verify.NewListAppend(verify.ListAppendConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r.Summary())
	if r.Info == 0 {
		t.Fatalf("no info result: %v", r.Errors)
	}
	last := map[int]history.Op{} // each process's last op
	for _, op := range ops {
		if prev, ok := last[op.Process]; ok && prev.Status == history.Info {
			t.Fatalf("process %d continued after info op %d: op %d", op.Process, prev.ID, op.ID)
		}
		last[op.Process] = op
	}
	if !r.Valid {
		t.Fatalf("not valid:\n%s", r.Explanation)
	}
}
