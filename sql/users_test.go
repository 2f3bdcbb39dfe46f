package sql

import (
	"context"
	"strings"
	"testing"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/pgwire/scram"
	"github.com/ordodb/ordo/sql/kvmem"
)

func userSession(t *testing.T, e *Executor, user string, superuser bool) *Session {
	t.Helper()
	s, err := e.NewSession(context.Background(), pgwirebase.SessionArgs{User: user, Database: "defaultdb", Superuser: superuser})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.(*Session)
}

// lookup returns the user as authentication sees it.
func lookup(t *testing.T, e *Executor, name string) (pgwirebase.UserInfo, bool) {
	t.Helper()
	u, found, err := e.LookupUser(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u, found
}

// A new cluster has root (superuser, no password) before any session.
func TestRootExistsOnNewCluster(t *testing.T) {
	e := NewExecutor(Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1})
	u, found := lookup(t, e, "root")
	if !found || !u.Superuser || !u.CanLogin || u.Verifier != "" {
		t.Fatalf("root: %+v found=%v", u, found)
	}
	if _, found := lookup(t, e, "nobody"); found {
		t.Fatal("nobody found")
	}
}

// The mock authentication secret is the cluster's: two executors (nodes)
// over one store see the same one.
func TestMockAuthSecretIsClusterWide(t *testing.T) {
	db := kvmem.New(kvmem.Config{})
	a, err := NewExecutor(Config{DB: db, NodeID: 1}).MockAuthSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewExecutor(Config{DB: db, NodeID: 2}).MockAuthSecret(context.Background())
	if err != nil || len(a) != 32 || string(a) != string(b) {
		t.Fatalf("secrets %x and %x (%v)", a, b, err)
	}
}

// Role statements: what they store (a SCRAM verifier, never the password),
// their errors' SQLSTATEs and who may run them.
func TestRoleStatements(t *testing.T) {
	e := NewExecutor(Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1})
	root := userSession(t, e, "root", true)
	steps := []struct {
		s    *Session
		sql  string
		code pgcode.Code // "" = success
		tag  string
	}{
		{root, "CREATE USER alice WITH PASSWORD 's3cret'", "", "CREATE ROLE"},
		{root, "CREATE USER alice", "42710", ""},
		{root, "CREATE ROLE Alice", "42710", ""}, // identifiers fold to lower case
		{root, "CREATE ROLE reader", "", "CREATE ROLE"},
		{root, "CREATE ROLE pg_x", "42939", ""},
		{root, "CREATE ROLE x LOGIN NOLOGIN", "42601", ""},
		{root, "CREATE ROLE x CREATEDB", "0A000", ""},
		{root, "CREATE ROLE x PASSWORD 'md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'", "0A000", ""},
		{root, "ALTER USER nobody PASSWORD 'x'", "42704", ""},
		{root, "DROP USER nobody", "42704", ""},
		{root, "DROP USER IF EXISTS nobody", "", "DROP ROLE"},
		{root, "DROP USER root", "55006", ""},
		{root, "ALTER USER root NOSUPERUSER", "42501", ""},
		{root, "BEGIN; CREATE USER tmp; ROLLBACK", "", "ROLLBACK"},
	}
	for _, st := range steps {
		r := &recorder{}
		err := st.s.Query(context.Background(), st.sql, r)
		if got := pgcode.Of(err); err != nil && string(got) != string(st.code) || err == nil && st.code != "" {
			t.Fatalf("%s: got %v (%s), want %s", st.sql, err, got, st.code)
		}
		if st.code == "" && !strings.HasSuffix(strings.TrimSpace(r.out.String()), st.tag) {
			t.Fatalf("%s: output %q, want tag %s", st.sql, r.out.String(), st.tag)
		}
	}
	alice, found := lookup(t, e, "alice")
	if !found || !alice.CanLogin || alice.Superuser {
		t.Fatalf("alice: %+v", alice)
	}
	checkVerifier(t, alice.Verifier, "s3cret")
	if reader, _ := lookup(t, e, "reader"); reader.CanLogin {
		t.Fatal("CREATE ROLE must default to NOLOGIN")
	}
	if _, found := lookup(t, e, "tmp"); found {
		t.Fatal("rolled back CREATE USER is visible")
	}
	testNonSuperuser(t, e)
	mustQuery(t, root, "ALTER USER alice WITH PASSWORD NULL")
	if a, _ := lookup(t, e, "alice"); a.Verifier != "" {
		t.Fatalf("PASSWORD NULL kept %q", a.Verifier)
	}
	mustQuery(t, root, "DROP USER alice, reader")
	if _, found := lookup(t, e, "alice"); found {
		t.Fatal("alice still there after DROP USER")
	}
}

// testNonSuperuser: alice may change her own password and nothing else.
func testNonSuperuser(t *testing.T, e *Executor) {
	alice := userSession(t, e, "alice", false)
	for _, q := range []string{"CREATE USER z", "DROP USER reader", "ALTER USER reader PASSWORD 'x'",
		"ALTER USER alice SUPERUSER", "ALTER USER root PASSWORD 'x'", "ALTER USER alice NOLOGIN"} {
		if err := alice.Query(context.Background(), q, &recorder{}); pgcode.Of(err) != "42501" {
			t.Fatalf("alice: %s: %v, want 42501", q, err)
		}
	}
	mustQuery(t, alice, "ALTER USER CURRENT_USER PASSWORD 'n3w'")
	a, _ := lookup(t, e, "alice")
	checkVerifier(t, a.Verifier, "n3w")
	// A verifier given as the password (psql's \password) is stored as is.
	v, err := scram.NewVerifier("other", []byte("0123456789abcdef"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	mustQuery(t, alice, "ALTER USER alice PASSWORD '"+v.String()+"'")
	if a, _ := lookup(t, e, "alice"); a.Verifier != v.String() {
		t.Fatalf("verifier %q, want %q", a.Verifier, v.String())
	}
}

func mustQuery(t *testing.T, s *Session, q string) {
	t.Helper()
	if err := s.Query(context.Background(), q, &recorder{}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// checkVerifier checks PostgreSQL's stored form and that it accepts pw.
func checkVerifier(t *testing.T, stored, pw string) {
	t.Helper()
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") || strings.Contains(stored, pw) {
		t.Fatalf("stored secret %q", stored)
	}
	v, err := scram.ParseVerifier(stored)
	if err != nil || !v.CheckPassword(pw) || v.CheckPassword(pw+"x") {
		t.Fatalf("verifier %q does not check %q: %v", stored, pw, err)
	}
}

// The users are listed by pg_roles and pg_user, passwords masked. (psql's
// \du reads pg_roles too, but needs ARRAY(subquery), which sem does not
// support yet.)
func TestRoleViews(t *testing.T) {
	e := NewExecutor(Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1})
	root := userSession(t, e, "root", true)
	mustQuery(t, root, "CREATE USER alice PASSWORD 'pw'; CREATE ROLE reader")
	for q, want := range map[string]string{
		"SELECT rolname, rolsuper, rolcanlogin, rolpassword, oid::int8 > 0 FROM pg_catalog.pg_roles ORDER BY rolname": "alice | f | t | ******** | t\nreader | f | f | NULL | t\nroot | t | t | NULL | t\n",
		"SELECT usename, usesuper, passwd FROM pg_user ORDER BY 1":                                                    "alice | f | ********\nroot | t | NULL\n",
		"SELECT r.oid FROM pg_roles r WHERE rolname = 'root'":                                                         "10\n",
	} {
		r := &recorder{}
		if err := root.Query(context.Background(), q, r); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := strings.Join(strings.SplitAfter(r.out.String(), "\n")[:strings.Count(want, "\n")], ""); got != want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", q, r.out.String(), want)
		}
	}
}
