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

	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/sql"
	"github.com/ordodb/ordo/sql/kvmem"
)

// startServer serves the SQL executor over pgwire on a loopback port.
func startServer(t *testing.T) string {
	t.Helper()
	srv, err := pgwire.NewServer(pgwire.Config{Executor: sql.NewExecutor(sql.Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1})})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func TestPgxEndToEnd(t *testing.T) {
	addr := startServer(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	mustExec := func(q string, args ...any) pgconn.CommandTag {
		t.Helper()
		tag, err := conn.Exec(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return tag
	}
	mustExec(`CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL, balance NUMERIC(10,2) DEFAULT 0, created TIMESTAMPTZ DEFAULT now())`)
	for _, n := range []string{"alice", "bob", "carol"} {
		if tag := mustExec(`INSERT INTO users (name) VALUES ($1)`, n); tag.String() != "INSERT 0 1" {
			t.Fatalf("tag %q", tag)
		}
	}
	_, err = conn.Exec(ctx, `INSERT INTO users (name) VALUES ($1)`, "alice")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23505" || pe.Detail != "Key (name)=(alice) already exists." {
		t.Fatalf("duplicate insert: %v", err)
	}
	var id int64
	var bal string
	if err := conn.QueryRow(ctx, `SELECT id, balance::text FROM users WHERE name = $1`, "bob").Scan(&id, &bal); err != nil {
		t.Fatal(err)
	}
	if id != 2 || bal != "0.00" {
		t.Fatalf("bob: id %d balance %s", id, bal)
	}
	if tag := mustExec(`UPDATE users SET balance = balance + $1 WHERE id = $2`, "12.5", int64(2)); tag.String() != "UPDATE 1" {
		t.Fatalf("tag %q", tag)
	}
	if tag := mustExec(`DELETE FROM users WHERE name = 'carol'`); tag.String() != "DELETE 1" {
		t.Fatalf("tag %q", tag)
	}
	rows, err := conn.Query(ctx, `SELECT name, balance::text FROM users ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name string
		var b pgtypeNumeric
		if err := rows.Scan(&name, &b.s); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+"="+b.s)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if strings.Join(got, ",") != "alice=0.00,bob=12.50" {
		t.Fatalf("rows: %v", got)
	}
	// Arrays in binary (pgx asks for binary results of the types it knows).
	var ints []int32
	var texts []string
	var withNull []*int64
	if err := conn.QueryRow(ctx, `SELECT ARRAY[1, 2, 3]::INT4[], ARRAY['a', 'b'], ARRAY[10, NULL]::INT8[]`).Scan(&ints, &texts, &withNull); err != nil {
		t.Fatalf("arrays in binary: %v", err)
	}
	if fmt.Sprint(ints) != "[1 2 3]" || fmt.Sprint(texts) != "[a b]" || len(withNull) != 2 || *withNull[0] != 10 || withNull[1] != nil {
		t.Fatalf("arrays: %v %v %v", ints, texts, withNull)
	}
	// And as binary parameters.
	var back []int32
	if err := conn.QueryRow(ctx, `SELECT $1::INT4[]`, []int32{4, 5}).Scan(&back); err != nil || fmt.Sprint(back) != "[4 5]" {
		t.Fatalf("array parameter: %v %v", back, err)
	}
	// A failed statement aborts an explicit transaction until ROLLBACK.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1/0`); err == nil {
		t.Fatal("expected division by zero")
	}
	_, err = tx.Exec(ctx, `SELECT 1`)
	if !errors.As(err, &pe) || pe.Code != "25P02" {
		t.Fatalf("in failed txn: %v", err)
	}
	_ = tx.Rollback(ctx)
}

type pgtypeNumeric struct{ s string }

func TestPsqlEndToEnd(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql (PostgreSQL 15 client) is needed: apt-get install postgresql-client-15")
	}
	addr := startServer(t)
	host, port, _ := net.SplitHostPort(addr)
	script := `CREATE TABLE kv (k INT PRIMARY KEY, v TEXT UNIQUE);
INSERT INTO kv VALUES (1, 'a'), (2, 'b');
INSERT INTO kv VALUES (3, 'a');
SELECT * FROM kv ORDER BY k;
UPDATE kv SET v = 'c' WHERE k = 2;
DELETE FROM kv WHERE k = 1;
SELECT k, v FROM kv;
`
	cmd := exec.Command(psql, "-h", host, "-p", port, "-U", "root", "-d", "defaultdb", "-X", "-A", "-t", "-v", "VERBOSITY=verbose")
	cmd.Stdin = strings.NewReader(script)
	out, _ := cmd.CombinedOutput()
	want := []string{"CREATE TABLE", "INSERT 0 2", "ERROR:  23505: duplicate key value violates unique constraint \"kv_v_key\"",
		"DETAIL:  Key (v)=(a) already exists.", "1|a\n2|b", "UPDATE 1", "DELETE 1", "2|c"}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("psql output lacks %q:\n%s", w, out)
		}
	}
}
