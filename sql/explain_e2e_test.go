package sql_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EXPLAIN over the extended protocol, as pgx sends it: Describe gives one
// text column named QUERY PLAN, parameters are typed from the explained
// statement, EXPLAIN ANALYZE of an INSERT writes the row, and errors carry
// the explained statement's SQLSTATE.
func TestExplainExtendedProtocol(t *testing.T) {
	addr := startServer(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE users (id INT PRIMARY KEY, name TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	sd, err := conn.Prepare(ctx, "explain_by_name", `EXPLAIN SELECT * FROM users WHERE name = $1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Fields) != 1 || sd.Fields[0].Name != "QUERY PLAN" || sd.Fields[0].DataTypeOID != 25 {
		t.Fatalf("Describe: %+v", sd.Fields)
	}
	if len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != 25 {
		t.Fatalf("parameter types: %v", sd.ParamOIDs)
	}
	plan := queryPlan(t, conn, `EXPLAIN SELECT * FROM users WHERE name = $1`, "alice")
	if want := "Index Scan using users_name_key on users\n  Index Cond: (name = $1)"; plan != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", plan, want)
	}
	plan = queryPlan(t, conn, `EXPLAIN ANALYZE INSERT INTO users VALUES ($1, $2)`, 1, "alice")
	if !strings.HasPrefix(plan, "Insert on users  (actual time=") || !strings.Contains(plan, "Rows Inserted: 1") {
		t.Fatalf("EXPLAIN ANALYZE INSERT:\n%s", plan)
	}
	var name string
	if err := conn.QueryRow(ctx, `SELECT name FROM users WHERE id = 1`).Scan(&name); err != nil || name != "alice" {
		t.Fatalf("the row EXPLAIN ANALYZE inserted: %q %v", name, err)
	}
	var pe *pgconn.PgError
	_, err = conn.Exec(ctx, `EXPLAIN ANALYZE INSERT INTO users VALUES ($1, $2)`, 2, "alice")
	if !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("duplicate through EXPLAIN ANALYZE: %v", err)
	}
	_, err = conn.Exec(ctx, `EXPLAIN SELECT * FROM nope`)
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("EXPLAIN of a missing table: %v", err)
	}
}

func queryPlan(t *testing.T, conn *pgx.Conn, q string, args ...any) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if rows.CommandTag().String() != "EXPLAIN" {
		t.Fatalf("%s: tag %q", q, rows.CommandTag())
	}
	out := strings.Join(lines, "\n")
	if i := strings.Index(out, "\nPlanning Time"); i >= 0 {
		out = out[:i]
	}
	return out
}
