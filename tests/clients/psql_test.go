package clients

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/pgtest"
)

// psqlSchema is the schema the meta-command outputs are compared on: a
// serial primary key, UNIQUE, NOT NULL, CHECK, defaults, a secondary
// index, a bigserial (sequences), numeric and varchar modifiers, array columns, and a
// view (a join with GROUP BY: not automatically updatable in PostgreSQL
// either, so information_schema agrees).
var psqlSchema = []string{
	"CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL UNIQUE, age int CHECK (age >= 0), created timestamptz DEFAULT now())",
	"CREATE INDEX users_created_idx ON users (created)",
	"CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int NOT NULL, amount numeric(10,2) NOT NULL DEFAULT 0, note varchar(40))",
	"CREATE TABLE notes (body text, tags text[] NOT NULL, codes varchar(10)[], scores int[])",
	"CREATE VIEW user_orders AS SELECT u.name, count(o.id) AS orders FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.name",
	"CREATE ROLE alice LOGIN",
}

// psqlCommands are compared verbatim (aligned output, headers, footers).
var psqlCommands = []string{
	`\l postgres`, `\dt`, `\d`, `\d users`, `\d+ users`, `\d orders`, `\d+ orders`, `\d notes`,
	`\d users_pkey`, `\d users_name_key`, `\d users_id_seq`, `\d orders_id_seq`, `\d nosuch`,
	`\d user_orders`, `\d+ user_orders`,
	`\di`, `\dn`, `\du alice`, `\dv`, `\ds`, `\df`, `\dT`, `\dx`, `\dp`, `\dp users`, `\conninfo`,
	`\x on \\ \d users`, `\timing on \\ \dt`,
}

// psql 15's meta-commands print the same against ordo as against
// PostgreSQL 15 for the same schema. Both sides connect as a superuser
// named postgres to the database postgres, so owners and \conninfo agree;
// only the port (in \conninfo) and timings are normalised. PostgreSQL's
// plpgsql extension is dropped first: ordo has no extensions. \du is
// compared for a created role: the bootstrap superusers' attributes differ
// (ordo has no replication or RLS bypass).
func TestPsqlMetaCommandsMatchPostgres(t *testing.T) {
	pgURL, ordo := startPsqlPair(t)
	runPsql(t, pgURL, "DROP EXTENSION plpgsql")
	comparePsql(t, pgURL, ordo, psqlCommands)
}

// infoSchemaQueries read every information_schema view ordo serves.
var infoSchemaQueries = []string{
	"SELECT catalog_name, schema_name, schema_owner FROM information_schema.schemata WHERE schema_name <> 'pg_toast' ORDER BY 2",
	"SELECT table_catalog, table_schema, table_name, table_type, is_insertable_into, is_typed FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 3",
	"SELECT table_name, column_name, ordinal_position, column_default, is_nullable, data_type, character_maximum_length, " +
		"character_octet_length, numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision, udt_schema, udt_name, " +
		"dtd_identifier, is_identity, is_generated, is_updatable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 3",
	"SELECT constraint_catalog, constraint_schema, constraint_name, table_name, constraint_type, is_deferrable, initially_deferred, enforced, nulls_distinct " +
		"FROM information_schema.table_constraints WHERE table_schema = 'public' AND constraint_name NOT LIKE '%not_null' ORDER BY 3",
	"SELECT table_name, count(*) FROM information_schema.table_constraints WHERE table_schema = 'public' AND constraint_name LIKE '%not_null' GROUP BY 1 ORDER BY 1",
	"SELECT constraint_name, table_name, column_name, ordinal_position, position_in_unique_constraint FROM information_schema.key_column_usage WHERE table_schema = 'public' ORDER BY 1, 4",
	"SELECT count(*) FROM information_schema.referential_constraints WHERE constraint_schema = 'public'",
	"SELECT sequence_schema, sequence_name, data_type, numeric_precision, numeric_precision_radix, numeric_scale, start_value, minimum_value, maximum_value, increment, cycle_option FROM information_schema.sequences ORDER BY 2",
	"SELECT count(*) FROM information_schema.views WHERE table_schema = 'public'",
	"SELECT c.column_name, c.data_type FROM information_schema.key_column_usage k JOIN information_schema.columns c " +
		"ON c.table_name = k.table_name AND c.column_name = k.column_name WHERE k.constraint_name = 'users_pkey'",
}

// information_schema answers the same as PostgreSQL 15's for the same
// schema.
func TestInformationSchemaMatchesPostgres(t *testing.T) {
	pgURL, ordo := startPsqlPair(t)
	comparePsql(t, pgURL, ordo, infoSchemaQueries)
}

// startPsqlPair starts PostgreSQL 15 and a three-node ordo cluster, gives
// ordo a superuser named postgres, and creates psqlSchema on both. It
// returns both servers' URLs for database postgres as user postgres.
func startPsqlPair(t *testing.T) (pgURL, ordo string) {
	pg := pgtest.Start(t)
	c := cluster.StartInProcess(t, 3)
	root := ordoURL(c, 2)
	runPsql(t, root, "CREATE USER postgres SUPERUSER")
	ordo = strings.Replace(strings.Replace(root, "root@", "postgres@", 1), "/defaultdb", "/postgres", 1)
	for _, url := range []string{pg.URL(), ordo} {
		for _, stmt := range psqlSchema {
			runPsql(t, url, stmt)
		}
	}
	return pg.URL(), ordo
}

// comparePsql runs each command through psql against both servers and
// compares the outputs.
func comparePsql(t *testing.T, pgURL, ordo string, cmds []string) {
	t.Helper()
	for _, cmd := range cmds {
		want := normalisePsql(psqlAligned(t, pgURL, cmd), pgURL)
		got := normalisePsql(psqlAligned(t, ordo, cmd), ordo)
		if got != want {
			t.Errorf("%s:\nordo:\n%s\npostgres:\n%s", cmd, got, want)
		}
	}
}

// Notices reach psql as PostgreSQL sends them.
func TestPsqlNoticesMatchPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	c := cluster.StartInProcess(t, 1)
	ordo := ordoURL(c, 0)
	script := []string{
		"CREATE TABLE t (a int)",
		"CREATE TABLE IF NOT EXISTS t (a int)",
		"DROP TABLE IF EXISTS nosuch",
		"DROP INDEX IF EXISTS nosuch_idx",
		"BEGIN; BEGIN; COMMIT; COMMIT",
	}
	for _, s := range script {
		want := runPsql(t, pg.URL(), s)
		if got := runPsql(t, ordo, s); got != want {
			t.Errorf("%s:\nordo:     %q\npostgres: %q", s, got, want)
		}
	}
}

func runPsql(t *testing.T, url, stmt string) string {
	t.Helper()
	return run(t, time.Minute, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-c", stmt, url)
}

// psqlAligned runs one meta-command (several separated by \\) with psql's
// default aligned output; errors are part of the output.
func psqlAligned(t *testing.T, url, cmd string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, clientBin(t, "psql"), "-X", "-c", cmd, url)
	c.Env = append(os.Environ(), "PGTZ=Etc/UTC", "LC_ALL=C.UTF-8", "PGCONNECT_TIMEOUT=10")
	out, err := c.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("psql -c %s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

var timingRE = regexp.MustCompile(`Time: [0-9.]+ ms`)

// normalisePsql removes what legitimately differs between two servers:
// the port (\conninfo) and timings.
func normalisePsql(out, rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		out = strings.ReplaceAll(out, `port "`+u.Port()+`"`, `port "PORT"`)
	}
	return timingRE.ReplaceAllString(out, "Time: T ms")
}
