package sql_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// connectWith connects to addr with extra startup parameters.
func connectWith(t *testing.T, addr string, params map[string]string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func codeOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// expectCode runs q and checks that it fails with code, within limit.
func expectCode(t *testing.T, conn *pgx.Conn, q, code string, limit time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := conn.Exec(context.Background(), q, pgx.QueryExecModeSimpleProtocol)
	if codeOf(err) != code {
		t.Fatalf("%s: got %v, want %s", q, err, code)
	}
	if el := time.Since(start); el > limit {
		t.Fatalf("%s: took %v, want at most %v", q, el, limit)
	}
}

func mustRun(t *testing.T, conn *pgx.Conn, q string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func showSetting(t *testing.T, conn *pgx.Conn, name string) string {
	t.Helper()
	var v string
	if err := conn.QueryRow(context.Background(), "SHOW "+name, pgx.QueryExecModeSimpleProtocol).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// statement_timeout cancels a long statement with 57014 in about its
// duration, in both protocols; inside a block the block is then failed
// (25P02) until ROLLBACK.
func TestStatementTimeout(t *testing.T) {
	conn := connectWith(t, startServer(t), nil)
	ctx := context.Background()
	mustRun(t, conn, "SET statement_timeout = '100ms'")
	if v := showSetting(t, conn, "statement_timeout"); v != "100ms" {
		t.Fatalf("SHOW statement_timeout = %q", v)
	}
	expectCode(t, conn, "SELECT pg_sleep(5)", "57014", time.Second)
	start := time.Now()
	_, err := conn.Exec(ctx, "SELECT pg_sleep($1)", 5.0) // extended protocol
	if codeOf(err) != "57014" || time.Since(start) > time.Second {
		t.Fatalf("extended: %v after %v", err, time.Since(start))
	}
	mustRun(t, conn, "SELECT pg_sleep(0.01)")
	mustRun(t, conn, "BEGIN")
	expectCode(t, conn, "SELECT pg_sleep(5)", "57014", time.Second)
	expectCode(t, conn, "SELECT 1", "25P02", time.Second)
	mustRun(t, conn, "ROLLBACK")
	mustRun(t, conn, "RESET statement_timeout")
	if v := showSetting(t, conn, "statement_timeout"); v != "0" {
		t.Fatalf("SHOW after RESET = %q", v)
	}
	expectCode(t, conn, "SET statement_timeout = 'soon'", "22023", time.Second)
}

// Timeouts can be set at startup, as parameters or in "options".
func TestTimeoutsAtStartup(t *testing.T) {
	addr := startServer(t)
	a := connectWith(t, addr, map[string]string{"statement_timeout": "100"})
	expectCode(t, a, "SELECT pg_sleep(5)", "57014", time.Second)
	b := connectWith(t, addr, map[string]string{"options": "-c lock_timeout=2s -c idle_in_transaction_session_timeout=1min"})
	if v := showSetting(t, b, "lock_timeout"); v != "2s" {
		t.Fatalf("lock_timeout = %q", v)
	}
	if v := showSetting(t, b, "idle_in_transaction_session_timeout"); v != "1min" {
		t.Fatalf("idle_in_transaction_session_timeout = %q", v)
	}
	// A bad value refuses the connection (FATAL 22023), as in PostgreSQL.
	cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", addr))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["statement_timeout"] = "soon"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.ConnectConfig(ctx, cfg); err == nil {
		conn.Close(ctx)
		t.Fatal("a bad startup setting was accepted")
	} else if !strings.Contains(err.Error(), "SQLSTATE 22023") {
		t.Fatalf("bad startup setting: %v, want SQLSTATE 22023", err)
	}
}

// A session idle in a transaction block longer than
// idle_in_transaction_session_timeout is ended with FATAL 25P03 and its
// locks are released: another session updates the row at once.
func TestIdleInTransactionTimeout(t *testing.T) {
	addr := startServer(t)
	a, b := connectWith(t, addr, nil), connectWith(t, addr, nil)
	mustRun(t, a, "CREATE TABLE kv (k INT PRIMARY KEY, v INT)")
	mustRun(t, a, "INSERT INTO kv VALUES (1, 0)")
	mustRun(t, a, "SET idle_in_transaction_session_timeout = '200ms'")
	mustRun(t, a, "SELECT pg_sleep(0.3)") // idle outside a block: no timeout
	mustRun(t, a, "BEGIN")
	mustRun(t, a, "UPDATE kv SET v = 1 WHERE k = 1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.PgConn().WaitForNotification(ctx); codeOf(err) != "25P03" {
		t.Fatalf("idle session: %v, want 25P03", err)
	}
	if _, err := b.Exec(ctx, "UPDATE kv SET v = 2 WHERE k = 1"); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := b.QueryRow(ctx, "SELECT v FROM kv WHERE k = 1").Scan(&v); err != nil || v != 2 {
		t.Fatalf("v = %d, %v", v, err)
	}
}
