package clients

import (
	"github.com/ordodb/ordo/tests/pgtest"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/cluster"
)

// psqlSchema is the schema the meta-command outputs are compared on.
var psqlSchema = []string{
	"CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL UNIQUE, created timestamptz DEFAULT now())",
	"CREATE INDEX users_created_idx ON users (created)",
	"CREATE TABLE notes (body text)",
}

// psql 15's listing meta-commands print the same against ordo as against
// PostgreSQL 15 for the same schema (owner names normalised: ordo's
// session user is root, PostgreSQL's postgres). \l is left out: the
// databases differ (template0/1 vs defaultdb).
func TestPsqlListingsMatchPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	c := cluster.StartInProcess(t, 3)
	ordo := ordoURL(c, 2)
	for _, url := range []string{pg.URL(), ordo} {
		for _, stmt := range psqlSchema {
			run(t, time.Minute, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", stmt, url)
		}
	}
	for _, cmd := range []string{`\dt`, `\dn`, `\di`, `\d`, `\ds`} {
		want := psql(t, pg.URL(), cmd)
		got := strings.ReplaceAll(psql(t, ordo, cmd), "|root|", "|postgres|")
		got = strings.ReplaceAll(got, "|root\n", "|postgres\n")
		if got != want {
			t.Errorf("%s:\nordo:\n%s\npostgres:\n%s", cmd, got, want)
		}
	}
}

// psql runs one meta-command with unaligned output.
func psql(t *testing.T, url, cmd string) string {
	t.Helper()
	return run(t, time.Minute, "psql", "-X", "-A", "-v", "ON_ERROR_STOP=1", "-c", cmd, url)
}
