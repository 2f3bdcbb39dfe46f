package clients

import (
	"context"
	dsql "database/sql"
	"errors"
	"fmt"
	"github.com/ordodb/ordo/tests/pgtest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/ordodb/ordo/tests/cluster"
)

// lib/pq, psycopg2 and psql -f scripts give the same results against ordo
// (a node of a 3-node cluster) as against PostgreSQL 15.
func TestDriversMatchPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	c := cluster.StartInProcess(t, 3)
	targets := []struct{ name, url string }{{"postgres", pg.URL()}, {"ordo", ordoURL(c, 1)}}
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, url string) string
	}{
		{"lib/pq", libpqScenario},
		{"psycopg2", psycopg2Scenario},
		{"psql -f", psqlFileScenario},
		{"psql -c multi-statement", psqlMultiScenario},
	} {
		t.Run(sc.name, func(t *testing.T) {
			want, got := sc.run(t, targets[0].url), sc.run(t, targets[1].url)
			if got != want {
				t.Errorf("ordo:\n%s\npostgres:\n%s", got, want)
			} else if testing.Verbose() {
				t.Logf("both:\n%s", got)
			}
		})
	}
}

// libpqScenario runs statements through database/sql and lib/pq and
// returns what each gave.
func libpqScenario(t *testing.T, url string) string {
	db, err := dsql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	note := func(what string, err error) { fmt.Fprintf(&out, "%s: %s\n", what, pqCode(err)) }
	_, err = db.Exec("CREATE TABLE lp (id int PRIMARY KEY, name text UNIQUE, n int8)")
	note("create", err)
	for i, name := range []string{"alice", "'; DROP TABLE lp; --", "$$x$$ E'\\\\' /* -- */", "alice"} {
		_, err := db.Exec("INSERT INTO lp VALUES ($1, $2, $3)", i+1, name, -int64(i))
		note("insert "+name, err)
	}
	libpqTxns(t, db, note)
	rows, err := db.Query("SELECT id, name, n FROM lp WHERE n <= $1 ORDER BY id", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n int64
		var name string
		if err := rows.Scan(&id, &name, &n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "row %d %q %d\n", id, name, n)
	}
	note("rows", rows.Err())
	return out.String()
}

// libpqTxns runs a rolled-back and a committed transaction.
func libpqTxns(t *testing.T, db *dsql.DB, note func(string, error)) {
	for _, commit := range []bool{false, true} {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec("UPDATE lp SET n = n + 10 WHERE id = $1", 1)
		note(fmt.Sprintf("update (commit %v)", commit), err)
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		note("end", err)
	}
}

func pqCode(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// psycopg2Script exercises psycopg2 (Debian's python3-psycopg2): parameters
// (including injection-looking strings), a unique violation raised as
// psycopg2.errors.UniqueViolation, transactions and the status it tracks.
const psycopg2Script = `
import sys, psycopg2, psycopg2.errors
conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()
cur.execute("CREATE TABLE py (id int PRIMARY KEY, name text NOT NULL, score float8)")
conn.commit()
cur.execute("INSERT INTO py (id, name, score) VALUES (%s, %s, %s)", (1, "alice", 1.5))
cur.executemany("INSERT INTO py VALUES (%s, %s, %s)", [(2, "bob's", None), (3, "'; DROP TABLE py; --", 3.25)])
print("inserted", cur.rowcount)
conn.commit()
try:
    cur.execute("INSERT INTO py VALUES (%s, %s, %s)", (1, "dup", 0))
except psycopg2.errors.UniqueViolation as e:
    print("unique violation", e.pgcode)
print("status after error", conn.get_transaction_status())
conn.rollback()
cur.execute("UPDATE py SET score = score + 1 WHERE id = %s", (1,))
print("updated", cur.rowcount)
conn.rollback()
with conn:
    with conn.cursor() as c2:
        c2.execute("UPDATE py SET score = 10 WHERE id = %s", (3,))
cur.execute("SELECT id, name, score FROM py ORDER BY id")
for r in cur.fetchall():
    print(r)
print("status in transaction", conn.get_transaction_status())
conn.commit()
conn.autocommit = True
cur.execute("SELECT %s::text, %s::int8, %s::bool, %s", ("x", 42, True, None))
print(cur.fetchone())
try:
    cur.execute("SELECT 1/0")
except psycopg2.errors.DivisionByZero as e:
    print("division by zero", e.pgcode)
print("status autocommit", conn.get_transaction_status())
conn.close()
`

// python is Debian's interpreter, which python3-psycopg2 installs into.
const python = "/usr/bin/python3"

func psycopg2Scenario(t *testing.T, url string) string {
	script := filepath.Join(t.TempDir(), "scenario.py")
	if err := os.WriteFile(script, []byte(psycopg2Script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, url).CombinedOutput()
	if err != nil {
		t.Fatalf("psycopg2 (install the Debian package python3-psycopg2): %v\n%s", err, out)
	}
	return string(out)
}

// psqlScript has a failing statement in the middle, outside and inside a
// transaction block.
const psqlScript = `CREATE TABLE :t (id int PRIMARY KEY, v text);
INSERT INTO :t VALUES (1, 'a');
INSERT INTO :t VALUES (1, 'duplicate');
INSERT INTO :t VALUES (2, 'b');
BEGIN;
INSERT INTO :t VALUES (3, 'c');
SELECT 1/0;
INSERT INTO :t VALUES (4, 'd');
COMMIT;
SELECT id, v FROM :t ORDER BY id;
`

// psqlFileScenario runs the script with ON_ERROR_STOP off (every statement
// runs, exit 0) and on (psql stops at the first error, exit 3).
func psqlFileScenario(t *testing.T, url string) string {
	file := filepath.Join(t.TempDir(), "script.sql")
	if err := os.WriteFile(file, []byte(psqlScript), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for i, stop := range []string{"0", "1"} {
		text, code := runExit(t, "psql", "-X", "-v", "VERBOSITY=sqlstate", "-v", "ON_ERROR_STOP="+stop,
			"-v", fmt.Sprintf("t=pf%d", i), "-f", file, url)
		fmt.Fprintf(&out, "ON_ERROR_STOP=%s exit %d\n%s", stop, code, strings.ReplaceAll(text, file, "script.sql"))
	}
	return out.String()
}

// psqlMultiScenario sends multi-statement strings as one simple Query: a
// failing statement rolls back the whole implicit transaction.
func psqlMultiScenario(t *testing.T, url string) string {
	var out strings.Builder
	for _, q := range []string{
		"CREATE TABLE pm (id int PRIMARY KEY); INSERT INTO pm VALUES (1)",
		"INSERT INTO pm VALUES (2); INSERT INTO pm VALUES (1); INSERT INTO pm VALUES (3)",
		"SELECT count(*) FROM pm; SELECT max(id) FROM pm",
	} {
		text, code := runExit(t, "psql", "-X", "-v", "VERBOSITY=sqlstate", "-c", q, url)
		fmt.Fprintf(&out, "%s: exit %d\n%s", q, code, text)
	}
	return out.String()
}

// runExit runs a client binary and returns its output and exit code.
func runExit(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBin(t, name), args...)
	cmd.Env = append(os.Environ(), "PGTZ=Etc/UTC", "LC_ALL=C.UTF-8", "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%s: %v", name, err)
	return "", 0
}
