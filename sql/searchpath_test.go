package sql

import (
	"context"
	"strings"
	"testing"

	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// A prepared statement resolves unqualified names through search_path
// when it runs, as PostgreSQL re-plans after search_path changes: after
// SET search_path = s, public the same statement reads s.t, not public.t.
func TestPreparedStatementFollowsSearchPath(t *testing.T) {
	ctx := context.Background()
	s := newTestSession(t)
	defer s.Close()
	w := &recorder{}
	for _, q := range []string{
		"CREATE TABLE t (a TEXT PRIMARY KEY)", "INSERT INTO t VALUES ('public')",
		"CREATE SCHEMA s", "CREATE TABLE s.t (a TEXT PRIMARY KEY)", "INSERT INTO s.t VALUES ('in s')",
	} {
		if err := s.Query(ctx, q, w); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st, err := s.Prepare(ctx, "SELECT a FROM t", nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func() string {
		t.Helper()
		out := &recorder{}
		p, err := st.Bind(ctx, pgwirebase.BindArgs{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Execute(ctx, 0, out); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		return out.out.String()
	}
	if got := run(); !strings.Contains(got, "public") || strings.Contains(got, "in s") {
		t.Fatalf("before SET search_path: %q", got)
	}
	if err := s.Query(ctx, "SET search_path = s, public", w); err != nil {
		t.Fatal(err)
	}
	if got := run(); !strings.Contains(got, "in s") {
		t.Fatalf("after SET search_path = s, public the prepared statement read %q; want s.t's row", got)
	}
}
