package clients

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/pgtest"
	"github.com/ordodb/ordo/tests/testutil"
)

// whoBlocksWhom is the PostgreSQL wiki's lock monitoring query
// (wiki.postgresql.org/wiki/Lock_Monitoring), as is.
const whoBlocksWhom = `SELECT blocked_locks.pid AS blocked_pid,
       blocked_activity.usename AS blocked_user,
       blocking_locks.pid AS blocking_pid,
       blocking_activity.usename AS blocking_user,
       blocked_activity.query AS blocked_statement,
       blocking_activity.query AS current_statement_in_blocking_process
  FROM pg_catalog.pg_locks blocked_locks
  JOIN pg_catalog.pg_stat_activity blocked_activity ON blocked_activity.pid = blocked_locks.pid
  JOIN pg_catalog.pg_locks blocking_locks
       ON blocking_locks.locktype = blocked_locks.locktype
      AND blocking_locks.database IS NOT DISTINCT FROM blocked_locks.database
      AND blocking_locks.relation IS NOT DISTINCT FROM blocked_locks.relation
      AND blocking_locks.page IS NOT DISTINCT FROM blocked_locks.page
      AND blocking_locks.tuple IS NOT DISTINCT FROM blocked_locks.tuple
      AND blocking_locks.virtualxid IS NOT DISTINCT FROM blocked_locks.virtualxid
      AND blocking_locks.transactionid IS NOT DISTINCT FROM blocked_locks.transactionid
      AND blocking_locks.classid IS NOT DISTINCT FROM blocked_locks.classid
      AND blocking_locks.objid IS NOT DISTINCT FROM blocked_locks.objid
      AND blocking_locks.objsubid IS NOT DISTINCT FROM blocked_locks.objsubid
      AND blocking_locks.pid != blocked_locks.pid
  JOIN pg_catalog.pg_stat_activity blocking_activity ON blocking_activity.pid = blocking_locks.pid
 WHERE NOT blocked_locks.granted`

const (
	holdStmt = "UPDATE acct SET balance = 1 WHERE id = 1"
	waitStmt = "UPDATE acct SET balance = 2 WHERE id = 1"
)

// pg_stat_activity, pg_locks and pg_prepared_xacts on a 3-node cluster:
// a session holding a row lock in an open transaction, another blocked on
// it, and a third one watching both.
func TestActivityAndLocks(t *testing.T) {
	c := cluster.StartInProcess(t, 3)
	ctx := context.Background()
	setup := connect(t, ordoURL(c, 0))
	mustExec(t, setup, "CREATE TABLE acct (id INT PRIMARY KEY, balance INT)")
	mustExec(t, setup, "INSERT INTO acct VALUES (1, 100), (2, 100)")

	holder := connect(t, ordoURL(c, 0)+"&application_name=holder")
	waiter := connect(t, ordoURL(c, 0))
	watch := connect(t, ordoURL(c, 0))
	mustExec(t, holder, "BEGIN")
	mustExec(t, holder, holdStmt)
	done := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, waitStmt)
		done <- err
	}()
	hp, wp := int64(holder.PgConn().PID()), int64(waiter.PgConn().PID())

	t.Run("pg_stat_activity", func(t *testing.T) {
		testutil.SucceedsWithin(t, 10*time.Second, func() error {
			got := activity(t, watch)
			want := map[int64]string{
				hp: "idle in transaction|" + holdStmt + "|",
				wp: "active|" + waitStmt + "|Lock",
			}
			for pid, w := range want {
				if got[pid] != w {
					return fmt.Errorf("pid %d: got %q, want %q (all: %v)", pid, got[pid], w, got)
				}
			}
			return nil
		})
		var app, state string
		var self int64
		row := watch.QueryRow(ctx, "SELECT application_name, pg_backend_pid() FROM pg_stat_activity WHERE pid = $1", hp)
		if err := row.Scan(&app, &self); err != nil || app != "holder" || self != int64(watch.PgConn().PID()) {
			t.Fatalf("application_name %q, pg_backend_pid %d (want holder, %d): %v", app, self, watch.PgConn().PID(), err)
		}
		// client_addr is an inet in binary: pgx decodes it.
		var addr netip.Prefix
		var port int32
		row = watch.QueryRow(ctx, "SELECT state, client_addr, client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()")
		if err := row.Scan(&state, &addr, &port); err != nil || state != "active" ||
			addr != netip.MustParsePrefix("127.0.0.1/32") || port <= 0 {
			t.Fatalf("own row: state %q client %v:%d: %v", state, addr, port, err)
		}
	})

	t.Run("pg_locks", func(t *testing.T) {
		var pid int64
		var locktype, mode string
		row := watch.QueryRow(ctx, "SELECT pid, locktype, mode FROM pg_locks WHERE NOT granted")
		if err := row.Scan(&pid, &locktype, &mode); err != nil || pid != wp || locktype != "transactionid" || mode != "ShareLock" {
			t.Fatalf("waiter: pid %d locktype %q mode %q (want %d transactionid ShareLock): %v", pid, locktype, mode, wp, err)
		}
		// The waiter waits on the holder's transactionid (an xid, binary).
		var waitXID, holdXID uint32
		row = watch.QueryRow(ctx, "SELECT transactionid FROM pg_locks WHERE NOT granted")
		if err := row.Scan(&waitXID); err != nil {
			t.Fatal(err)
		}
		row = watch.QueryRow(ctx, "SELECT transactionid FROM pg_locks WHERE locktype = 'transactionid' AND granted AND pid = $1", hp)
		if err := row.Scan(&holdXID); err != nil || holdXID != waitXID {
			t.Fatalf("holder's xid %d, waited for %d: %v", holdXID, waitXID, err)
		}
		var n int
		row = watch.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE pid = $1 AND granted AND locktype = 'tuple' AND mode = 'ExclusiveLock' AND relation = 'acct'::regclass`, hp)
		if err := row.Scan(&n); err != nil || n != 1 {
			t.Fatalf("holder's row lock: %d rows: %v", n, err)
		}
		// Another node sees the same lock table, without the pids of
		// sessions it does not serve.
		other := connect(t, ordoURL(c, 1))
		row = other.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IS NULL")
		if err := row.Scan(&n); err != nil || n != 1 {
			t.Fatalf("waiter seen from node 2: %d rows: %v", n, err)
		}
	})

	t.Run("who blocks whom", func(t *testing.T) {
		rows, err := watch.Query(ctx, whoBlocksWhom)
		if err != nil {
			t.Fatal(err)
		}
		type pair struct {
			blocked, blocking       int64
			blockedQ, blockingQ, by string
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
			var p pair
			var blockedUser string
			err := r.Scan(&p.blocked, &blockedUser, &p.blocking, &p.by, &p.blockedQ, &p.blockingQ)
			return p, err
		})
		want := []pair{{blocked: wp, blocking: hp, blockedQ: waitStmt, blockingQ: holdStmt, by: "root"}}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v: %v", got, want, err)
		}
	})

	t.Run("pg_prepared_xacts", func(t *testing.T) {
		var n int
		if err := watch.QueryRow(ctx, "SELECT count(*) FROM pg_prepared_xacts").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows: %v", n, err)
		}
	})

	t.Run("psql", func(t *testing.T) {
		out := run(t, 30*time.Second, "psql", "-X", "-At", ordoURL(c, 0), "-c",
			fmt.Sprintf("SELECT state, wait_event_type, query FROM pg_stat_activity WHERE pid = %d", wp), "-c",
			"SELECT locktype, mode, granted FROM pg_locks WHERE NOT granted", "-c", "SELECT * FROM pg_prepared_xacts")
		want := "active|Lock|" + waitStmt + "\ntransactionid|ShareLock|f\n"
		if out != want {
			t.Fatalf("psql printed\n%s\nwant\n%s", out, want)
		}
		// Every column prints (xid, inet, timestamptz in text).
		out = run(t, 30*time.Second, "psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", ordoURL(c, 0),
			"-c", "SELECT * FROM pg_stat_activity", "-c", "SELECT * FROM pg_locks")
		if !strings.Contains(out, "|127.0.0.1||") || !strings.Contains(out, "transactionid|") {
			t.Fatalf("psql printed\n%s", out)
		}
	})

	mustExec(t, holder, "COMMIT")
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	testutil.SucceedsWithin(t, 10*time.Second, func() error {
		got := activity(t, watch)
		if got[hp] != "idle|COMMIT|" || got[wp] != "idle|"+waitStmt+"|" {
			return fmt.Errorf("after commit: %v", got)
		}
		var n int
		if err := watch.QueryRow(ctx, "SELECT count(*) FROM pg_locks WHERE NOT granted").Scan(&n); err != nil || n != 0 {
			return fmt.Errorf("waits after commit: %d: %v", n, err)
		}
		return nil
	})
}

// activity maps each pid of pg_stat_activity to "state|query|wait_event_type".
func activity(t *testing.T, conn *pgx.Conn) map[int64]string {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT pid, state, query, wait_event_type FROM pg_stat_activity")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for rows.Next() {
		var pid int64
		var state, query string
		var wait *string
		if err := rows.Scan(&pid, &state, &query, &wait); err != nil {
			t.Fatal(err)
		}
		w := ""
		if wait != nil {
			w = *wait
		}
		out[pid] = state + "|" + query + "|" + w
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The three views have PostgreSQL 15's columns: names and types, as a
// driver sees them in the RowDescription.
func TestSystemViewColumnsMatchPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	c := cluster.StartInProcess(t, 1)
	ordo, postgres := connect(t, ordoURL(c, 0)), connect(t, pg.URL())
	for _, view := range []string{"pg_stat_activity", "pg_locks", "pg_prepared_xacts"} {
		q := "SELECT * FROM pg_catalog." + view + " LIMIT 0"
		if got, want := describe(t, ordo, q), describe(t, postgres, q); got != want {
			t.Errorf("%s columns:\nordo:       %s\npostgres15: %s", view, got, want)
		}
	}
}

// describe lists a query's result columns as "name:typeoid".
func describe(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, fmt.Sprintf("%s:%d", f.Name, f.DataTypeOID))
	}
	return strings.Join(cols, " ")
}
