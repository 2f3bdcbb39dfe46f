package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/tests/testutil"
)

// Cluster settings through SQL: set on one node, shown by every node,
// validated with PostgreSQL-style SQLSTATEs, and acted on: lowering
// kv.range_max_bytes makes a table split.
func TestClusterSettingsSQL(t *testing.T) {
	c := StartInProcessWith(t, 3, func(c *InProcess) {
		c.Configure = func(_ int, cfg *server.Config) { cfg.SplitInterval = 200 * time.Millisecond }
	})
	ctx := context.Background()
	n1, n3 := c.pgConn(t, 0), c.pgConn(t, 2)
	show := func(name string) string {
		var v string
		if err := n3.QueryRow(ctx, "SHOW CLUSTER SETTING "+name).Scan(&v); err != nil {
			t.Fatalf("SHOW CLUSTER SETTING %s: %v", name, err)
		}
		return v
	}
	if v := show("kv.range_max_bytes"); v != "64 MiB" {
		t.Fatalf("default kv.range_max_bytes = %q", v)
	}
	for _, tc := range []struct{ stmt, code string }{
		{`SET CLUSTER SETTING kv.no_such_thing = 1`, "42704"},
		{`SET CLUSTER SETTING kv.range_max_bytes = 'lots'`, "22023"},
		{`SET CLUSTER SETTING kv.replication_factor = 0`, "22023"},
		{`SHOW CLUSTER SETTING kv.no_such_thing`, "42704"},
	} {
		if _, err := n1.Exec(ctx, tc.stmt); sqlState(err) != tc.code {
			t.Errorf("%s: %v; want SQLSTATE %s", tc.stmt, err, tc.code)
		}
	}
	// Only a superuser changes cluster settings.
	if _, err := n1.Exec(ctx, `CREATE USER bob`); err != nil {
		t.Fatal(err)
	}
	bob, err := pgx.Connect(ctx, fmt.Sprintf("postgres://bob@%s/defaultdb?sslmode=disable", c.SQLAddrs[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close(ctx)
	if _, err := bob.Exec(ctx, `SET CLUSTER SETTING kv.replication_factor = 1`); sqlState(err) != "42501" {
		t.Errorf("SET CLUSTER SETTING as a non-superuser: %v; want 42501", err)
	}
	tx, err := n1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SET CLUSTER SETTING server.time_until_dead = '1m'`); sqlState(err) != "25001" {
		t.Errorf("in a transaction block: %v; want 25001", err)
	}
	_ = tx.Rollback(ctx)

	if _, err := n1.Exec(ctx, `SET CLUSTER SETTING server.time_until_dead = '15s'`); err != nil {
		t.Fatal(err)
	}
	if v := show("server.time_until_dead"); v != "15s" {
		t.Fatalf("server.time_until_dead through n3 = %q", v)
	}
	rows, err := n3.Query(ctx, `SHOW CLUSTER SETTINGS`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for rows.Next() {
		var name, value, typ, desc string
		if err := rows.Scan(&name, &value, &typ, &desc); err != nil {
			t.Fatal(err)
		}
		seen[name] = value
	}
	if rows.Err() != nil || seen["server.time_until_dead"] != "15s" || seen["kv.replication_factor"] != "3" {
		t.Fatalf("SHOW CLUSTER SETTINGS: %v %v", seen, rows.Err())
	}
	if _, err := n1.Exec(ctx, `RESET CLUSTER SETTING server.time_until_dead`); err != nil {
		t.Fatal(err)
	}
	if v := show("server.time_until_dead"); v != "5m" {
		t.Fatalf("after RESET: %q", v)
	}

	// Acted on: kv.lock_timeout bounds a lock wait when the session sets
	// no lock_timeout (else it would wait the default 10 s, past this
	// statement's 5 s context).
	if _, err := n1.Exec(ctx, `SET CLUSTER SETTING kv.lock_timeout = '200ms'`); err != nil {
		t.Fatal(err)
	}
	// Every node reloads settings each second; SHOW reloads them at once.
	if v := show("kv.lock_timeout"); v != "200ms" {
		t.Fatalf("kv.lock_timeout through n3 = %q", v)
	}
	if _, err := n1.Exec(ctx, `CREATE TABLE locked (id INT PRIMARY KEY, v INT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.Exec(ctx, `INSERT INTO locked VALUES (1, 0)`); err != nil {
		t.Fatal(err)
	}
	holder, err := n1.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, `UPDATE locked SET v = 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancelWait := context.WithTimeout(ctx, 5*time.Second)
	_, err = n3.Exec(waitCtx, `UPDATE locked SET v = 2 WHERE id = 1`)
	cancelWait()
	_ = holder.Rollback(ctx)
	if sqlState(err) != "55P03" {
		t.Fatalf("a lock wait under kv.lock_timeout = 200ms: %v; want SQLSTATE 55P03", err)
	}

	// Acted on: sql.defaults.statement_timeout is a new session's
	// statement_timeout (RESET returns to it; SET overrides it).
	if _, err := n1.Exec(ctx, `SET CLUSTER SETTING sql.defaults.statement_timeout = '300ms'`); err != nil {
		t.Fatal(err)
	}
	if v := show("sql.defaults.statement_timeout"); v != "300ms" {
		t.Fatalf("sql.defaults.statement_timeout through n3 = %q", v)
	}
	fresh := c.pgConn(t, 2)
	var st string
	if err := fresh.QueryRow(ctx, `SHOW statement_timeout`).Scan(&st); err != nil || st != "300ms" {
		t.Fatalf("a new session's statement_timeout = %q, %v; want 300ms", st, err)
	}
	if _, err := fresh.Exec(ctx, `SELECT pg_sleep(2)`); sqlState(err) != "57014" {
		t.Fatalf("pg_sleep(2) under the cluster's 300ms statement_timeout: %v; want 57014", err)
	}
	if _, err := fresh.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Exec(ctx, `RESET statement_timeout`); err != nil {
		t.Fatal(err)
	}
	if err := fresh.QueryRow(ctx, `SHOW statement_timeout`).Scan(&st); err != nil || st != "300ms" {
		t.Fatalf("statement_timeout after RESET = %q, %v; want 300ms", st, err)
	}
	if _, err := n1.Exec(ctx, `RESET CLUSTER SETTING sql.defaults.statement_timeout`); err != nil {
		t.Fatal(err)
	}

	// Acted on: a lower range size splits a table of ~100 KB.
	before, _, _ := c.rangesOn(t, 0)
	if _, err := n1.Exec(ctx, `SET CLUSTER SETTING kv.range_max_bytes = '16 KiB'`); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.Exec(ctx, `CREATE TABLE t (id INT PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.Exec(ctx, `INSERT INTO t SELECT g, repeat('y', 100) FROM generate_series(1, 1000) AS g`); err != nil {
		t.Fatal(err)
	}
	testutil.SucceedsWithin(t, 30*time.Second, func() error {
		after, _, _ := c.rangesOn(t, 0)
		if len(after) < len(before)+4 {
			return fmt.Errorf("%d ranges (was %d)", len(after), len(before))
		}
		return nil
	})
}

// Each node reports how full its store's file system is; the allocator
// keeps new replicas off nodes above kv.allocator.max_store_fullness_percent.
func TestStoreFullnessReported(t *testing.T) {
	c := StartInProcess(t, 1)
	resp, err := c.NodeClient(0).LocalRanges(context.Background(), &rpcpb.LocalRangesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if f := resp.StoreFullness; f <= 0 || f >= 1 {
		t.Fatalf("store fullness %v; want a fraction in (0, 1)", f)
	}
}
