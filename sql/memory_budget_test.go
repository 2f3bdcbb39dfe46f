package sql

import (
	"context"
	"strings"
	"testing"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/kvmem"
)

// newBudgetSession is a session whose statements may hold *budget bytes.
func newBudgetSession(t *testing.T, budget *int64) *Session {
	t.Helper()
	e := NewExecutor(Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1, MemoryBudget: func() int64 { return *budget }})
	s, err := e.NewSession(context.Background(), pgwirebase.SessionArgs{User: "root", Database: "defaultdb"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.(*Session)
}

// TestMemoryBudget: a statement whose materialising operator passes
// sql.query.memory_budget fails with 53200 (a result that streams holds no
// rows: TestStreamingResults), its DETAIL naming the operator
// and the budget; the session goes on. Each query is built so that one
// operator holds far more than the others (sizes are estimates).
func TestMemoryBudget(t *testing.T) {
	budget := int64(0) // no bound while the tables are loaded
	s := newBudgetSession(t, &budget)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE t (k INT PRIMARY KEY, v INT)`,
		`INSERT INTO t SELECT g, g % 10 FROM generate_series(1, 1000) g`,
		`CREATE TABLE w (k INT PRIMARY KEY, s TEXT)`,
		`INSERT INTO w SELECT g, repeat('x', 10000) || g FROM generate_series(1, 100) g`,
	} {
		if err := s.Query(ctx, q, &recorder{}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const mib = 1 << 20
	for _, tc := range []struct {
		q      string
		budget int64
		op     string
	}{
		{`SELECT generate_series(1, 9223372036854775807) ORDER BY 1`, 1 * mib, "generate_series"},
		{`SELECT count(*) FROM generate_series(1, 9223372036854775807)`, 1 * mib, "generate_series"},
		{`SELECT * FROM t a, t b`, 1 * mib, "join"},
		{`SELECT * FROM w a JOIN w b ON a.s = b.s`, 5 * mib / 2, "hash join"},
		{`SELECT repeat('y', 10000) || k FROM t ORDER BY 1`, 1 * mib, "sort"},
		{`SELECT repeat('y', 10000) || k FROM (SELECT k FROM t) s`, 1 * mib, "result"},
		{`SELECT repeat('y', 10000) || k, count(*) FROM t GROUP BY 1`, 1 * mib, "hash aggregation"},
		{`SELECT string_agg(repeat('y', 10000), ',') FROM t`, 1 * mib, "aggregation"},
		{`SELECT DISTINCT s FROM w`, 5 * mib / 2, "DISTINCT"},
		{`SELECT s FROM w INTERSECT SELECT s FROM w`, 9 * mib / 2, "INTERSECT"},
		{`SELECT * FROM w ORDER BY k`, 512 << 10, "scan"},
	} {
		budget = tc.budget
		err := s.Query(ctx, tc.q, &recorder{})
		var e *pgcode.Error
		if !errorsAs(err, &e) || e.Code != pgcode.OutOfMemory || e.Message != "out of memory" {
			t.Errorf("%s: got %v, want 53200 out of memory", tc.q, err)
			continue
		}
		if !strings.HasPrefix(e.Detail, tc.op+" needs more memory") || !strings.Contains(e.Detail, "sql.query.memory_budget") {
			t.Errorf("%s: DETAIL %q does not name %s and the setting", tc.q, e.Detail, tc.op)
		}
	}
	budget = 1 * mib
	rec := &recorder{}
	if err := s.Query(ctx, `SELECT count(*) FROM t a JOIN t b ON a.k = b.k`, rec); err != nil {
		t.Fatalf("a statement within the budget: %v", err)
	}
	if got := rec.out.String(); got != "1000\n-- SELECT 1\n" {
		t.Errorf("got %q", got)
	}
}

// TestMemoryBudgetDetail: the DETAIL as a client sees it.
func TestMemoryBudgetDetail(t *testing.T) {
	budget := int64(1 << 20)
	s := newBudgetSession(t, &budget)
	err := s.Query(context.Background(), `SELECT generate_series(1, 9223372036854775807) ORDER BY 1`, &recorder{})
	var e *pgcode.Error
	if !errorsAs(err, &e) {
		t.Fatalf("got %v", err)
	}
	const want = "generate_series needs more memory than the statement's budget of 1 MiB (sql.query.memory_budget)."
	if e.Detail != want {
		t.Errorf("DETAIL %q, want %q", e.Detail, want)
	}
}
