package clients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/ordodb/ordo/tests/pgtest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ordodb/ordo/tests/cluster"
)

// COPY in every format through pgx against ordo and against PostgreSQL 15:
// the tags, the data read back and the SQLSTATEs of bad input must match.
func TestCopyMatchesPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	c := cluster.StartInProcess(t, 3)
	want := copyScenario(t, connect(t, pg.URL()))
	got := copyScenario(t, connect(t, ordoURL(c, 1)))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d:\nordo:\n%s\npostgres:\n%s", i, got[i], want[i])
		}
	}
}

// copyScenario runs the COPY steps and returns what each produced.
func copyScenario(t *testing.T, conn *pgx.Conn) []string {
	ctx := context.Background()
	mustExec(t, conn, "DROP TABLE IF EXISTS ct")
	mustExec(t, conn, `CREATE TABLE ct (id int PRIMARY KEY, name text, score float8, ok bool, born timestamptz, data bytea, note varchar(10))`)
	var out []string
	born := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	rows := [][]any{
		{int32(1), "alice", 1.5, true, born, []byte{0, 1, 0xff}, "x"},
		{int32(2), "tab\there\nnew \\ back", nil, false, nil, nil, ""},
		{int32(3), `comma, "quote"`, -0.25, nil, born.Add(time.Hour), []byte{}, nil},
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"ct"}, []string{"id", "name", "score", "ok", "born", "data", "note"}, pgx.CopyFromRows(rows))
	out = append(out, fmt.Sprintf("pgx.CopyFrom: %d %v", n, err))
	for _, in := range []struct{ sql, data string }{
		{"COPY ct (id, name) FROM STDIN", "4\tfour\n5\t\\N\n\\.\n"},
		{"COPY ct (id, name, note) FROM STDIN WITH (FORMAT csv, HEADER true)", "id,name,note\n6,\"six, 6\",\n7,\"\",q\n"},
		{"COPY ct (id, name) FROM STDIN WITH DELIMITER AS '|' NULL AS 'NULL'", "8|NULL\n9|a\\|b\n"},
		{"COPY ct (id, name) FROM STDIN", "10\ttoo\tmany\n"},
		{"COPY ct (id, name) FROM STDIN", "11\n"},
		{"COPY ct (id, name) FROM STDIN", "x\ty\n"},
		{"COPY ct (id, name) FROM STDIN WITH (FORMAT csv)", "12,\"open\n"},
		{"COPY ct (id, note) FROM STDIN", "13\tthis is too long\n"},
		{"COPY ct (id) FROM STDIN", "1\n"},
	} {
		tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(in.data), in.sql)
		out = append(out, fmt.Sprintf("%s: %s %s", in.sql, tag, sqlState(err)))
	}
	for _, q := range []string{
		"COPY ct TO STDOUT",
		"COPY ct TO STDOUT WITH (FORMAT csv, HEADER)",
		"COPY ct (id, note) TO STDOUT WITH CSV",
		"COPY (SELECT id, name, score FROM ct WHERE id > 3 ORDER BY id) TO STDOUT WITH (FORMAT binary)",
		"COPY ct TO STDOUT WITH (FORMAT binary)",
		"COPY (SELECT 1 / 0) TO STDOUT",
	} {
		var buf bytes.Buffer
		tag, err := conn.PgConn().CopyTo(ctx, &buf, q)
		out = append(out, fmt.Sprintf("%s: %s %s\n%q", q, tag, sqlState(err), buf.String()))
	}
	return out
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
