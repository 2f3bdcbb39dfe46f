package sql

import (
	"context"
	"testing"

	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/kvmem"
	"github.com/ordodb/ordo/sql/parser"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStatementType(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT 1":                             StmtSelect,
		"INSERT INTO t VALUES (1)":             StmtInsert,
		"UPDATE t SET a = 1":                   StmtUpdate,
		"DELETE FROM t":                        StmtDelete,
		"CREATE TABLE t (a INT)":               StmtDDL,
		"ALTER TABLE t ADD COLUMN b INT":       StmtDDL,
		"DROP TABLE t":                         StmtDDL,
		"CREATE INDEX i ON t (a)":              StmtDDL,
		"CREATE SEQUENCE s":                    StmtDDL,
		"TRUNCATE t":                           StmtDDL,
		"BEGIN":                                StmtTransaction,
		"COMMIT":                               StmtTransaction,
		"COPY t FROM STDIN":                    StmtCopy,
		"SET application_name = 'x'":           StmtOther,
		"SHOW search_path":                     StmtOther,
		"EXPLAIN SELECT 1":                     StmtOther,
		"WITH x AS (SELECT 1) SELECT * FROM x": StmtSelect,
	} {
		stmts, err := parser.Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if got := StatementType(stmts[0].AST); got != want {
			t.Errorf("StatementType(%q) = %q, want %q", sql, got, want)
		}
	}
}

// TestSessionMetrics: statements are counted by type through both
// protocols, errors by SQLSTATE (a syntax error, a unique violation).
func TestSessionMetrics(t *testing.T) {
	ctx := context.Background()
	m := NewMetrics()
	e := NewExecutor(Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1, Metrics: m})
	sess, err := e.NewSession(ctx, pgwirebase.SessionArgs{User: "root", Database: "defaultdb"})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	s := sess.(*Session)
	w := &recorder{}
	for _, q := range []string{"CREATE TABLE t (a INT PRIMARY KEY)", "INSERT INTO t VALUES (1)", "SELECT * FROM t; SELECT 2"} {
		if err := s.Query(ctx, q, w); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.Query(ctx, "INSERT INTO t VALUES (1)", w); err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	if err := s.Query(ctx, "SELEC 1", w); err == nil {
		t.Fatal("syntax error accepted")
	}
	st, err := s.Prepare(ctx, "SELECT a FROM t WHERE a = $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Bind(ctx, pgwirebase.BindArgs{Params: [][]byte{[]byte("1")}, ParamFormats: []pgwirebase.FormatCode{0}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Execute(ctx, 0, w); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prepare(ctx, "SELEC", nil); err == nil {
		t.Fatal("syntax error accepted by Prepare")
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"ddl", testutil.ToFloat64(m.Statements.WithLabelValues(StmtDDL)), 1},
		{"insert", testutil.ToFloat64(m.Statements.WithLabelValues(StmtInsert)), 2},
		{"select", testutil.ToFloat64(m.Statements.WithLabelValues(StmtSelect)), 3},
		{"23505", testutil.ToFloat64(m.Errors.WithLabelValues("23505")), 1},
		{"42601", testutil.ToFloat64(m.Errors.WithLabelValues("42601")), 2},
		{"error series", float64(testutil.CollectAndCount(m.Errors)), 2},
		{"latency series", float64(testutil.CollectAndCount(m.Latency)), 3},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}
