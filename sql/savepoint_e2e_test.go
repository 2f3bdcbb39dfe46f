package sql_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestSavepointPgx runs savepoints over the extended protocol: pgx's
// nested transactions (SAVEPOINT / RELEASE / ROLLBACK TO), recovery from
// 23505 inside a block, and the SQLSTATEs of misuse.
func TestSavepointPgx(t *testing.T) {
	addr := startServer(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE sp (id INT PRIMARY KEY, v TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec := func(db interface {
		Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	}, q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(tx, `INSERT INTO sp VALUES ($1, $2)`, 1, "a")
	nested, err := tx.Begin(ctx) // SAVEPOINT sp_1
	if err != nil {
		t.Fatal(err)
	}
	mustExec(nested, `INSERT INTO sp VALUES ($1, $2)`, 2, "b")
	_, err = nested.Exec(ctx, `INSERT INTO sp VALUES ($1, $2)`, 3, "a")
	if code := sqlstate(err); code != "23505" {
		t.Fatalf("duplicate in nested transaction: %v", err)
	}
	if err := nested.Rollback(ctx); err != nil { // ROLLBACK TO SAVEPOINT sp_1
		t.Fatal(err)
	}
	kept, err := tx.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(kept, `INSERT INTO sp VALUES ($1, $2)`, 4, "d")
	if err := kept.Commit(ctx); err != nil { // RELEASE SAVEPOINT
		t.Fatal(err)
	}
	mustExec(tx, `INSERT INTO sp VALUES ($1, $2)`, 2, "b2") // the rolled-back key is free
	_, err = tx.Exec(ctx, `ROLLBACK TO SAVEPOINT nope`)
	if code := sqlstate(err); code != "3B001" {
		t.Fatalf("unknown savepoint: %v", err)
	}
	_ = tx.Rollback(ctx)

	tx, err = conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(tx, `INSERT INTO sp VALUES ($1, $2)`, 1, "a")
	mustExec(tx, `SAVEPOINT s`)
	mustExec(tx, `INSERT INTO sp VALUES ($1, $2)`, 2, "b")
	mustExec(tx, `UPDATE sp SET v = $1 WHERE id = $2`, "z", 1)
	_, err = tx.Exec(ctx, `INSERT INTO sp VALUES ($1, $2)`, 1, "again")
	if code := sqlstate(err); code != "23505" {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = tx.Exec(ctx, `SELECT $1::int`, 1)
	if code := sqlstate(err); code != "25P02" {
		t.Fatalf("in failed block: %v", err)
	}
	mustExec(tx, `ROLLBACK TO SAVEPOINT s`)
	mustExec(tx, `INSERT INTO sp VALUES ($1, $2)`, 3, "c")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rows(t, conn, `SELECT id, v FROM sp ORDER BY id`); got != "1 a; 3 c" {
		t.Fatalf("after commit: %s", got)
	}
	_, err = conn.Exec(ctx, `SAVEPOINT outside`)
	if code := sqlstate(err); code != "25P01" {
		t.Fatalf("savepoint outside a block: %v", err)
	}
}

// TestSavepointPsqlOnErrorRollback: psql with ON_ERROR_ROLLBACK=on wraps
// each statement of a block in SAVEPOINT pg_psql_temporary_savepoint /
// RELEASE, and rolls back to it when the statement fails, so the block
// commits the statements that succeeded.
func TestSavepointPsqlOnErrorRollback(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql (PostgreSQL 15 client) is needed: apt-get install postgresql-client-15")
	}
	addr := startServer(t)
	host, port, _ := net.SplitHostPort(addr)
	script := `CREATE TABLE kv (k INT PRIMARY KEY, v TEXT UNIQUE);
BEGIN;
INSERT INTO kv VALUES (1, 'a');
INSERT INTO kv VALUES (2, 'a');
SELECT 1 / 0;
INSERT INTO kv VALUES (2, 'b');
COMMIT;
SELECT k, v FROM kv ORDER BY k;
`
	cmd := exec.Command(psql, "-h", host, "-p", port, "-U", "root", "-d", "defaultdb", "-X", "-A", "-t",
		"-v", "VERBOSITY=verbose", "-v", "ON_ERROR_ROLLBACK=on")
	cmd.Stdin = strings.NewReader(script)
	out, _ := cmd.CombinedOutput()
	want := []string{"ERROR:  23505", "ERROR:  22012", "COMMIT", "1|a\n2|b"}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("psql output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "25P02") || strings.Contains(string(out), "ROLLBACK") {
		t.Errorf("the block did not recover:\n%s", out)
	}
}

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return fmt.Sprint(err)
}

func rows(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	rs, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id int
		var v string
		if err := rs.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s", id, v))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "; ")
}
