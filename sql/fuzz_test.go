package sql

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// fuzzSchema is the schema every generated statement runs against: the
// types of the issue, a secondary and a unique index, a foreign key, a
// check constraint, a sequence, a view.
var fuzzSchema = []string{
	`CREATE TABLE t1 (a INT PRIMARY KEY, b TEXT, c FLOAT8, d NUMERIC(10,2), e BOOL, f TIMESTAMPTZ, g JSONB, i BYTEA, j DATE, k INTERVAL, u UUID)`,
	`CREATE INDEX t1_b ON t1 (b)`,
	`CREATE TABLE t2 (id BIGSERIAL PRIMARY KEY, a INT REFERENCES t1 (a) ON DELETE CASCADE, name VARCHAR(20) UNIQUE, n INT2 CHECK (n >= 0) DEFAULT 0)`,
	`CREATE SEQUENCE s1`,
	`INSERT INTO t1 VALUES (1, 'x', 1.5, 2.25, true, '2024-01-01 00:00:00+00', '{"k": [1, 2]}', '\x0102', '2024-02-29', '1 day', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), (3, 'yy', -0.0, -1, false, now(), '[]', '', '1970-01-01', '-1 year', gen_random_uuid())`,
	`INSERT INTO t2 (a, name, n) VALUES (1, 'one', 1), (3, 'three', 3), (NULL, 'none', 0)`,
	`CREATE VIEW v1 AS SELECT a, b FROM t1 WHERE a > 1`,
}

// fuzzGen builds random statements over fuzzSchema.
type fuzzGen struct{ r *rand.Rand }

func (g fuzzGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

var fuzzLiterals = []string{"NULL", "0", "1", "-1", "2147483647", "9223372036854775807", "-9223372036854775808",
	"99999999999999999999999", "1.5", "'NaN'::float8", "'Infinity'::float8", "1e308", "1e-320", "0.1::numeric", "'x'", "''",
	"'2024-02-30'", "'2024-01-01'::date", "'1 mon'::interval", "true", "'{\"a\": 1}'::jsonb", "ARRAY[1, NULL, 3]",
	"'\\xff'::bytea", "now()", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", "'not a uuid'", "32767", "-32768"}

var fuzzColumns = []string{"a", "b", "c", "d", "e", "f", "g", "i", "j", "k", "u", "ARRAY[a, 2]"}

var fuzzFuncs = []string{"lower(%s)", "upper(%s)", "length(%s)", "abs(%s)", "round(%s)", "floor(%s)", "ceil(%s)",
	"coalesce(%s, 0)", "nullif(%s, 1)", "concat(%s, 'z')", "substr(%s, 2)", "replace(%s, 'x', 'y')", "trim(%s)",
	"date_trunc('day', %s)", "extract(year from %s)", "to_char(%s, 'YYYY-MM-DD')", "%s::text", "%s::int", "%s::float8",
	"%s::numeric", "%s::bool", "%s::date", "%s::timestamptz", "%s::jsonb", "array_length(%s, 1)", "%s -> 'k'", "%s ->> 'k'",
	"%s @> '{}'", "mod(%s, 0)", "%s || 'q'", "%s IS NULL", "NOT %s", "-%s", "%s::int2", "%s::varchar(2)", "%s::char(3)",
	"greatest(%s, 1)", "(%s)[1]", "cardinality(%s)", "repeat(%s::text, 3)", "lpad(%s::text, 5)", "%s::text[]", "ARRAY[%s]",
	"sqrt(%s)", "power(%s, 2)", "trunc(%s)", "sign(%s)", "%s + interval '1 day'", "%s - 1", "%s * 2", "length(%s::text)"}

// fuzzAggs appear in select lists only (aggregates are not allowed in
// WHERE).
var fuzzAggs = []string{"string_agg(%s::text, ',')", "count(%s)", "sum(%s)", "avg(%s)", "min(%s)", "max(%s)",
	"bool_and(%s)", "array_agg(%s)", "count(DISTINCT %s)", "sum(%s) FILTER (WHERE a > 1)"}

// fuzzCmps make predicates.
var fuzzCmps = []string{"=", "<>", "<", ">=", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"}

var fuzzOps = []string{"+", "-", "*", "/", "%", "||", "=", "<>", "<", ">=", "AND", "OR", "LIKE", "IS DISTINCT FROM"}

// pred is a boolean expression, most often well typed.
func (g fuzzGen) pred() string {
	switch g.r.IntN(5) {
	case 0:
		return g.expr(3)
	case 1:
		return g.expr(2) + g.pick(" IS NULL", " IS NOT NULL")
	}
	return g.expr(2) + " " + g.pick(fuzzCmps...) + " " + g.expr(2)
}

// item is a select-list item: an expression, or an aggregate of one.
func (g fuzzGen) item() string {
	if g.r.IntN(4) == 0 {
		return fmt.Sprintf(g.pick(fuzzAggs...), g.expr(2))
	}
	return g.expr(3)
}

// lit is an expression of literals only (VALUES lists).
func (g fuzzGen) lit() string {
	if g.r.IntN(3) == 0 {
		return fmt.Sprintf(g.pick(fuzzFuncs...), g.pick(fuzzLiterals...))
	}
	return g.pick(fuzzLiterals...)
}

func (g fuzzGen) expr(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		if g.r.IntN(2) == 0 {
			return g.pick(fuzzColumns...)
		}
		return g.pick(fuzzLiterals...)
	}
	switch g.r.IntN(6) {
	case 0, 1:
		return "(" + g.expr(depth-1) + " " + g.pick(fuzzOps...) + " " + g.expr(depth-1) + ")"
	case 2, 3:
		return fmt.Sprintf(g.pick(fuzzFuncs...), g.expr(depth-1))
	case 4:
		return "CASE WHEN " + g.expr(depth-1) + " THEN " + g.expr(depth-1) + " ELSE " + g.expr(depth-1) + " END"
	default:
		return g.pick("(SELECT max(a) FROM t2)", "EXISTS (SELECT 1 FROM t2 WHERE t2.a = t1.a)", "a IN (SELECT a FROM t2)",
			"(SELECT b FROM t1 LIMIT 1)", "a = ANY(ARRAY[1, a])", "a BETWEEN 1 AND 2")
	}
}

func (g fuzzGen) stmt() string {
	e := func() string { return g.expr(3) }
	switch g.r.IntN(10) {
	case 0, 1, 2:
		q := "SELECT " + g.item() + ", " + g.item() + " FROM t1"
		if g.r.IntN(2) == 0 {
			q += g.pick(" JOIN t2 ON t1.a = t2.a", " LEFT JOIN t2 USING (a)", " FULL JOIN v1 USING (a)", " CROSS JOIN generate_series(1, 3) gs")
		}
		if g.r.IntN(2) == 0 {
			q += " WHERE " + g.pred()
		}
		if g.r.IntN(3) == 0 {
			q += " GROUP BY 1, 2 HAVING count(*) > 0"
		}
		if g.r.IntN(2) == 0 {
			q += " ORDER BY 1 " + g.pick("NULLS FIRST", "DESC NULLS LAST", "") + " LIMIT " + g.pick("0", "1", "ALL", "-1") + " OFFSET " + g.pick("0", "1", "5")
		}
		return q
	case 3:
		return "SELECT " + e() + " FROM t1" + g.pick(" UNION ", " UNION ALL ", " INTERSECT ", " EXCEPT ALL ", " EXCEPT ") +
			"SELECT " + e() + g.pick(" FROM t1", " FROM t2 JOIN t1 USING (a)", "") + g.pick("", " ORDER BY 1", " LIMIT 2")
	case 4:
		return "WITH w AS (SELECT a, " + e() + " AS x FROM t1) SELECT DISTINCT x FROM w WHERE " + g.pred() + " ORDER BY 1"
	case 5:
		return fmt.Sprintf("INSERT INTO t1 (a, b, c, d, e) VALUES (%d, %s, %s, %s, %s) ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b || 'u' RETURNING *",
			g.r.IntN(6), g.lit(), g.lit(), g.lit(), g.lit())
	case 6:
		return "UPDATE t1 SET " + g.pick("b", "c", "d", "e", "g", "j", "k", "u", "i", "f") + " = " + e() + " WHERE " + g.pred() + " RETURNING a, " + e()
	case 7:
		return "INSERT INTO t2 (a, name, n) VALUES (" + g.pick("1", "2", "3", "NULL", "99") + ", " + g.lit() + ", " + g.lit() + ") RETURNING id"
	case 8:
		return "DELETE FROM " + g.pick("t1", "t2") + " WHERE " + g.pred() + " RETURNING *"
	default:
		return g.pick("SELECT nextval('s1'), currval('s1')", "SELECT setval('s1', "+g.pick(fuzzLiterals...)+")",
			"SELECT * FROM v1 WHERE "+g.pred(), "EXPLAIN SELECT * FROM t1 WHERE "+g.pred(), "SELECT "+e()+" FROM t1 FOR UPDATE",
			"SAVEPOINT sp", "ROLLBACK TO SAVEPOINT sp", "BEGIN", "COMMIT", "ROLLBACK", "SELECT generate_series(1, "+e()+")")
	}
}

// runFuzz runs n generated statements from seed against a fresh schema; a
// panic fails the test (through the fuzz engine), as does an internal
// error (XX000) or a statement that does not return within 10 s. Any other
// error is a legitimate answer to a random statement (57014 for one whose
// client cancelled it after 100,000 rows).
func runFuzz(t *testing.T, seed uint64, n int) {
	s := newTestSession(t)
	defer s.Close()
	ctx := context.Background()
	for _, q := range fuzzSchema {
		if err := s.Query(ctx, q, &recorder{}); err != nil {
			t.Fatalf("schema: %s: %v", q, err)
		}
	}
	g := fuzzGen{rand.New(rand.NewPCG(seed, 0x5eed))}
	for range n {
		q := g.stmt()
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		// A result streams (a generate_series of 2^62 rows runs until the
		// client stops it): this client cancels after 100,000 rows.
		w := &countingWriter{atRow: 100_000, onRow: cancel}
		err := s.Query(qctx, q, w)
		timedOut := errors.Is(qctx.Err(), context.DeadlineExceeded)
		cancel()
		if err == nil {
			continue
		}
		code := pgcode.Of(err)
		if code == pgcode.Internal || timedOut {
			t.Fatalf("%s\n→ %s: %v", q, code, err)
		}
		if strings.HasPrefix(string(code), "25") { // an aborted block: end it
			_ = s.Query(ctx, "ROLLBACK", &recorder{})
		}
	}
}

// FuzzSQL: parse → plan → execute of generated statements never panics,
// never fails with an internal error and never hangs. `go test` runs the
// seeds; `go test -fuzz FuzzSQL ./sql` explores.
func FuzzSQL(f *testing.F) {
	for seed := range uint64(40) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { runFuzz(t, seed, 60) })
}
