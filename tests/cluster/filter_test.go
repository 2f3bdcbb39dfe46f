package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
)

// pdRow is a row of the pushdown test table, as the test's model holds it.
type pdRow struct {
	id, grp int64
	name    string
	f       *float64 // NULL when nil
}

// pdTable creates pd (id, grp, name, f) with n rows over three ranges whose
// leases are spread over the nodes, and returns its model.
func pdTable(t *testing.T, c *InProcess, conn *pgx.Conn, n int) map[int64]pdRow {
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE TABLE pd (id INT PRIMARY KEY, grp INT, name TEXT, f FLOAT8)`); err != nil {
		t.Fatal(err)
	}
	model := map[int64]pdRow{}
	var vals []string
	for i := int64(1); i <= int64(n); i++ {
		r := pdRow{id: i, grp: i % 7, name: fmt.Sprintf("n%d", i%5)}
		f := "NULL"
		if i%4 != 0 {
			v := float64(i%10) / 2
			r.f, f = &v, fmt.Sprint(v)
		}
		model[i] = r
		vals = append(vals, fmt.Sprintf("(%d, %d, '%s', %s)", r.id, r.grp, r.name, f))
	}
	if _, err := conn.Exec(ctx, `INSERT INTO pd VALUES `+strings.Join(vals, ", ")); err != nil {
		t.Fatal(err)
	}
	var tid uint64
	if err := conn.QueryRow(ctx, `SELECT oid::int8 FROM pg_class WHERE relname = 'pd'`).Scan(&tid); err != nil {
		t.Fatal(err)
	}
	var splits []string
	for _, id := range []int64{int64(n) / 3, 2 * int64(n) / 3} {
		splits = append(splits, string(encoding.AppendInt(keys.IndexPrefix(tid, 1), id, encoding.Ascending)))
	}
	c.splitAt(t, splits...)
	c.spreadLeases(t, splits...)
	return model
}

// ids returns the sorted ids of the model's rows that keep passes.
func ids(model map[int64]pdRow, keep func(pdRow) bool) []int64 {
	var out []int64
	for _, r := range model {
		if keep(r) {
			out = append(out, r.id)
		}
	}
	slices.Sort(out)
	return out
}

func queryIDs(t *testing.T, q pgx.Tx, sql string, args ...any) []int64 {
	t.Helper()
	rows, err := q.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// Filters pushed to the leaseholders of a table over three ranges give the
// rows the model says, with NULLs, parameters and a limit, and inside a
// transaction whose own uncommitted writes in the span are filtered by
// their new values.
func TestFilterPushdownAcrossRanges(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx := context.Background()
	n1, n2 := c.pgConn(t, 0), c.pgConn(t, 1)
	model := pdTable(t, c, n1, 300)
	f := func(r pdRow) float64 { return *r.f }
	cases := []struct {
		sql  string
		args []any
		keep func(pdRow) bool
	}{
		{`SELECT id FROM pd WHERE grp = 3 ORDER BY id`, nil, func(r pdRow) bool { return r.grp == 3 }},
		{`SELECT id FROM pd WHERE grp = $1 AND f > $2 ORDER BY id`, []any{int64(2), 1.5}, func(r pdRow) bool { return r.grp == 2 && r.f != nil && f(r) > 1.5 }},
		{`SELECT id FROM pd WHERE NOT (f >= 2) ORDER BY id`, nil, func(r pdRow) bool { return r.f != nil && f(r) < 2 }},
		{`SELECT id FROM pd WHERE f IS NULL AND name IN ('n1', 'n2') ORDER BY id`, nil, func(r pdRow) bool { return r.f == nil && (r.name == "n1" || r.name == "n2") }},
		{`SELECT id FROM pd WHERE grp = 1 OR f = 4.5 ORDER BY id`, nil, func(r pdRow) bool { return r.grp == 1 || (r.f != nil && f(r) == 4.5) }},
		{`SELECT id FROM pd WHERE id > 50 AND name <> 'n0' AND length(name) = 2 ORDER BY id`, nil, func(r pdRow) bool { return r.id > 50 && r.name != "n0" }},
	}
	check := func(q pgx.Tx, model map[int64]pdRow) {
		t.Helper()
		for _, tc := range cases {
			if got, want := queryIDs(t, q, tc.sql, tc.args...), ids(model, tc.keep); !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", tc.sql, got, want)
			}
		}
	}
	tx, err := n2.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check(tx, model)
	// The limit counts matching rows: the first five of grp 6 in key order.
	if got := queryIDs(t, tx, `SELECT id FROM pd WHERE grp = 6 LIMIT 5`); !slices.Equal(got, []int64{6, 13, 20, 27, 34}) {
		t.Errorf("LIMIT 5 of grp 6: %v", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Uncommitted writes of the transaction, in every range.
	tx, err = n1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own := map[int64]pdRow{}
	for k, v := range model {
		own[k] = v
	}
	for _, st := range []string{
		`UPDATE pd SET grp = 3, f = NULL WHERE id IN (1, 150, 299)`,
		`UPDATE pd SET grp = 0 WHERE id IN (3, 157, 283)`,
		`DELETE FROM pd WHERE id IN (10, 164)`,
		`INSERT INTO pd VALUES (1000, 3, 'n1', NULL), (0, 2, 'n2', 2)`,
	} {
		if _, err := tx.Exec(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
	for _, id := range []int64{1, 150, 299} {
		r := own[id]
		r.grp, r.f = 3, nil
		own[id] = r
	}
	for _, id := range []int64{3, 157, 283} {
		r := own[id]
		r.grp = 0
		own[id] = r
	}
	delete(own, 10)
	delete(own, 164)
	two := 2.0
	own[1000] = pdRow{id: 1000, grp: 3, name: "n1"}
	own[0] = pdRow{id: 0, grp: 2, name: "n2", f: &two}
	check(tx, own)
	var cnt int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM pd WHERE grp = 3`).Scan(&cnt); err != nil || cnt != int64(len(ids(own, func(r pdRow) bool { return r.grp == 3 }))) {
		t.Errorf("count of grp 3 in the transaction: %d %v", cnt, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err = n1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check(tx, model)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func explainAnalyze(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `EXPLAIN (ANALYZE, TIMING OFF) `+q)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// EXPLAIN ANALYZE of a count over a pushed filter: the leaseholders read
// every row and return only the matching ones. With a LIMIT they stop
// after the first matches: the first range's leaseholder reads up to the
// second row of grp 6 (id 13, to tell there is more), and no other range
// is read.
func TestFilterPushdownExplainAnalyze(t *testing.T) {
	c := StartInProcess(t, 3)
	conn := c.pgConn(t, 0)
	model := pdTable(t, c, conn, 300)
	match := len(ids(model, func(r pdRow) bool { return r.grp == 3 }))
	plan := explainAnalyze(t, conn, `SELECT count(*) FROM pd WHERE grp = 3`)
	for _, want := range []string{
		fmt.Sprintf("Full Scan on pd  (actual rows=%d loops=1)", match),
		"Filter Pushed Down: yes (evaluated by the leaseholders)",
		"KV Rows Read: 300",
		fmt.Sprintf("Rows Removed by Filter: %d", 300-match),
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	plan = explainAnalyze(t, conn, `SELECT * FROM pd WHERE grp = 6 LIMIT 1`)
	for _, want := range []string{
		"Full Scan on pd  (actual rows=1 loops=1)",
		"Limit Pushed Down: 1 rows",
		"KV Rows Read: 13",
		"Rows Removed by Filter: 12",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
}
