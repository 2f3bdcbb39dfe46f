package sql

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/pgtest"
)

var rewrite = flag.Bool("rewrite", false, "replace the expected rows of every query with PostgreSQL's")

// scripts returns the test files, optionally narrowed by ORDO_SQL_FILES
// (a comma-separated list of base names without .test).
func scripts(t *testing.T) []*Script {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.test")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	only := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("ORDO_SQL_FILES"), ",") {
		if n != "" {
			only[n] = true
		}
	}
	var out []*Script
	for _, p := range paths {
		if len(only) > 0 && !only[strings.TrimSuffix(filepath.Base(p), ".test")] {
			continue
		}
		s, err := ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func connect(t *testing.T, url string) *pgconn.PgConn {
	t.Helper()
	conn, err := connector(url)()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// connector returns a function opening a connection to url.
func connector(url string) func() (*pgconn.PgConn, error) {
	return func() (*pgconn.PgConn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		conn, err := pgconn.Connect(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("connect %s: %w", url, err)
		}
		return conn, nil
	}
}

func report(t *testing.T, fails []Failure) {
	t.Helper()
	for _, f := range fails {
		t.Error(f.Error())
	}
}

// TestLogicPostgres runs every script against PostgreSQL 15, each in a
// database of its own: this proves the expectations are PostgreSQL's.
// With -rewrite it records PostgreSQL's rows as the expectations.
func TestLogicPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	admin := connect(t, srv.URL())
	ctx := context.Background()
	for i, s := range scripts(t) {
		name := strings.TrimSuffix(filepath.Base(s.Path), ".test")
		t.Run(name, func(t *testing.T) {
			db := fmt.Sprintf("logic_%d", i)
			if o := Exec(ctx, admin, "CREATE DATABASE "+db); o.Err != nil {
				t.Fatal(o.Err)
			}
			url := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", srv.User, srv.Addr(), db)
			report(t, s.Run(ctx, connector(url), *rewrite))
			if *rewrite {
				if err := s.Rewrite(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestLogicOrdo runs every script against a fresh single-node ordo
// cluster.
func TestLogicOrdo(t *testing.T) {
	if *rewrite {
		t.Skip("-rewrite records PostgreSQL's results only")
	}
	ctx := context.Background()
	for _, s := range scripts(t) {
		name := strings.TrimSuffix(filepath.Base(s.Path), ".test")
		t.Run(name, func(t *testing.T) {
			c := cluster.StartInProcess(t, 1)
			url := fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", c.SQLAddrs[0])
			report(t, s.Run(ctx, connector(url), false))
		})
	}
}

// TestCheck shows the runner rejects each kind of wrong outcome.
func TestCheck(t *testing.T) {
	recs, err := Parse("statement ok\nSELECT 1\n\nstatement error 23505\nINSERT\n\nquery IT rowsort\nSELECT\n----\n2 b\n1 a\n\nquery I\nSELECT\n----\n1\n2\n\nstatement error 23505 dup  key\nINSERT\n")
	if err != nil {
		t.Fatal(err)
	}
	ok, stErr, q, ordered, msgErr := recs[0], recs[1], recs[2], recs[3], recs[4]
	fail := Outcome{Code: "42P01", Err: fmt.Errorf("boom")}
	rows := Outcome{Cols: 2, Lines: []string{"1 a", "2  b"}}
	cases := []struct {
		r    *Record
		o    Outcome
		pass bool
	}{
		{ok, Outcome{}, true},
		{ok, fail, false},
		{stErr, Outcome{Code: "23505", Err: fmt.Errorf("dup")}, true},
		{stErr, fail, false},
		{stErr, Outcome{}, false},
		{q, rows, true},
		{q, Outcome{Cols: 2, Lines: []string{"1 a"}}, false},
		{q, Outcome{Cols: 1, Lines: []string{"1 a", "2 b"}}, false},
		{q, fail, false},
		{ordered, Outcome{Cols: 1, Lines: []string{"1", "2"}}, true},
		{ordered, Outcome{Cols: 1, Lines: []string{"2", "1"}}, false},
		{ordered, Outcome{Cols: 1, Lines: []string{"1", "NULL"}}, false},
		{msgErr, Outcome{Code: "23505", Msg: "dup  key", Err: fmt.Errorf("dup")}, true},
		{msgErr, Outcome{Code: "23505", Msg: "dup key", Err: fmt.Errorf("dup")}, false},
		{msgErr, Outcome{Code: "23514", Msg: "dup  key", Err: fmt.Errorf("dup")}, false},
	}
	for i, c := range cases {
		if got := c.r.Check(c.o) == ""; got != c.pass {
			t.Errorf("case %d: pass=%v, want %v", i, got, c.pass)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, text := range []string{
		"statement okay\nSELECT 1\n",
		"statement error 235\nSELECT 1\n",
		"query X\nSELECT 1\n----\n1\n",
		"query I\nSELECT 1\n",
		"query I\n----\n",
		"statement ok\nSELECT 1\n----\n",
		"query I sometimes\nSELECT 1\n----\n1\n",
	} {
		if _, err := Parse(text); err == nil {
			t.Errorf("no error for %q", text)
		}
	}
}
