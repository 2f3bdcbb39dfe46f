package sql_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPgxArrayColumns round-trips array columns through pgx: parameters
// in binary (pgx encodes the array types the server describes), NULL
// arrays and NULL elements, results in binary and in text.
func TestPgxArrayColumns(t *testing.T) {
	addr := startServer(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE a (id INT PRIMARY KEY, h INT[], t TEXT[], n NUMERIC(6,2)[], d DATE[], tz TIMESTAMPTZ[], v VARCHAR(2))`); err != nil {
		t.Fatal(err)
	}
	// The parameters are described as int4[], text[], ...: pgx sends them
	// in binary.
	one, two := int32(1), int32(2)
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	ins := `INSERT INTO a (id, h, t, n, d, tz) VALUES ($1, $2, $3, $4, $5, $6)`
	if _, err := conn.Exec(ctx, ins, 1, []*int32{&one, nil, &two}, []string{"a", "b c", ""}, []string{"1.5", "-2"},
		[]time.Time{day}, []time.Time{at}); err != nil {
		t.Fatalf("insert binary arrays: %v", err)
	}
	if _, err := conn.Exec(ctx, ins, 2, nil, []string{}, nil, nil, nil); err != nil {
		t.Fatalf("insert NULL and empty arrays: %v", err)
	}
	var h []*int32
	var txt []string
	var n []string
	var d, tz []time.Time
	q := `SELECT h, t, n::text[], d, tz FROM a WHERE id = $1`
	if err := conn.QueryRow(ctx, q, 1).Scan(&h, &txt, &n, &d, &tz); err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || *h[0] != 1 || h[1] != nil || *h[2] != 2 {
		t.Errorf("h = %v", h)
	}
	if fmt.Sprintf("%q %q", txt, n) != `["a" "b c" ""] ["1.50" "-2.00"]` {
		t.Errorf("t, n = %q %q", txt, n)
	}
	if len(d) != 1 || !d[0].Equal(day) || len(tz) != 1 || !tz[0].Equal(at) {
		t.Errorf("d, tz = %v %v", d, tz)
	}
	var hNull []int32
	var tEmpty []string
	if err := conn.QueryRow(ctx, `SELECT h, t FROM a WHERE id = 2`).Scan(&hNull, &tEmpty); err != nil {
		t.Fatal(err)
	}
	if hNull != nil || tEmpty == nil || len(tEmpty) != 0 {
		t.Errorf("NULL and empty: %#v %#v", hNull, tEmpty)
	}
	// An array parameter on the right of = ANY, and the text format.
	var id int
	if err := conn.QueryRow(ctx, `SELECT id FROM a WHERE $1 = ANY(h)`, 2).Scan(&id); err != nil || id != 1 {
		t.Errorf("= ANY(h): %d %v", id, err)
	}
	var s string
	err = conn.QueryRow(ctx, `SELECT h FROM a WHERE id = 1`, pgx.QueryExecModeSimpleProtocol).Scan(&s)
	if err != nil || s != "{1,NULL,2}" {
		t.Errorf("text format: %q %v", s, err)
	}
	// A parameter that does not fit its column's modifiers is refused, as
	// PostgreSQL refuses it, element by element for an array.
	for _, c := range []struct {
		col  string
		arg  any
		code string
	}{{"n", []string{"12345.1"}, "22003"}, {"v", "abc", "22001"}, {"h", "{1099511627776}", "22003"}, {"h", "{a}", "22P02"}} {
		_, err := conn.Exec(ctx, `INSERT INTO a (id, `+c.col+`) VALUES (3, $1)`, c.arg)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != c.code {
			t.Errorf("%s = %v: %v, want %s", c.col, c.arg, err, c.code)
		}
	}
}
