package pgwire

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

func pgxConnect(t *testing.T, url string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: 0, DeadlineDelay: 5 * time.Second}
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

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestPgxDefaultMode(t *testing.T) {
	ts := startTestServer(t, nil)
	conn := pgxConnect(t, ts.url("root"), pgx.QueryExecModeCacheStatement)
	ctx := context.Background()

	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %v %d", err, one)
	}
	for _, v := range []int64{42, -1, 1 << 40} {
		var got int64
		if err := conn.QueryRow(ctx, "SELECT $1::int8", v).Scan(&got); err != nil || got != v {
			t.Fatalf("SELECT $1::int8 (%d): %v %d", v, err, got)
		}
	}
	var null *int64
	if err := conn.QueryRow(ctx, "SELECT $1::int8", nil).Scan(&null); err != nil || null != nil {
		t.Fatalf("NULL: %v %v", err, null)
	}
	rows, _ := conn.Query(ctx, "SELECT generate_series(1, 5)")
	nums, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(nums) != 5 || nums[4] != 5 {
		t.Fatalf("series: %v %v", err, nums)
	}
	if _, err := conn.Exec(ctx, "SELECT 1/0"); pgCode(err) != "22012" {
		t.Fatalf("SELECT 1/0: %v", err)
	}
	if _, err := conn.Exec(ctx, "bogus statement"); pgCode(err) != "42601" {
		t.Fatalf("bogus: %v", err)
	}
	checkTxns(t, conn)
	checkParams(t, conn)
}

func TestPgxSimpleProtocol(t *testing.T) {
	ts := startTestServer(t, nil)
	conn := pgxConnect(t, ts.url("root"), pgx.QueryExecModeSimpleProtocol)
	ctx := context.Background()
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %v %d", err, one)
	}
	if _, err := conn.Exec(ctx, "SELECT 1/0"); pgCode(err) != "22012" {
		t.Fatalf("SELECT 1/0: %v", err)
	}
	res, err := conn.PgConn().Exec(ctx, "SELECT 1; SELECT generate_series(1, 3); ;").ReadAll()
	if err != nil || len(res) != 2 || len(res[1].Rows) != 3 || res[1].CommandTag.String() != "SELECT 3" {
		t.Fatalf("multi-statement: %v %+v", err, res)
	}
	checkTxns(t, conn)
	checkParams(t, conn)
}

func checkTxns(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if conn.PgConn().TxStatus() != 'T' {
		t.Fatalf("status after BEGIN = %c", conn.PgConn().TxStatus())
	}
	if _, err := tx.Exec(ctx, "SELECT 1/0"); pgCode(err) != "22012" {
		t.Fatalf("in txn: %v", err)
	}
	if conn.PgConn().TxStatus() != 'E' {
		t.Fatalf("status after error = %c", conn.PgConn().TxStatus())
	}
	if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
		t.Fatalf("in failed txn: %v", err)
	}
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("commit of failed txn: %v", err)
	}
	if conn.PgConn().TxStatus() != 'I' {
		t.Fatalf("status after COMMIT = %c", conn.PgConn().TxStatus())
	}
}

func checkParams(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	pc := conn.PgConn()
	want := map[string]string{
		"server_version": DefaultServerVersion, "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
		"standard_conforming_strings": "on", "integer_datetimes": "on", "session_authorization": "root",
		"TimeZone": DefaultTimeZone, "in_hot_standby": "off", "is_superuser": "on",
	}
	for k, v := range want {
		if got := pc.ParameterStatus(k); got != v {
			t.Errorf("ParameterStatus(%s) = %q, want %q", k, got, v)
		}
	}
	if _, err := conn.Exec(context.Background(), "SET application_name = 'changed'"); err != nil {
		t.Fatal(err)
	}
	if got := pc.ParameterStatus("application_name"); got != "changed" {
		t.Errorf("application_name after SET = %q", got)
	}
}

func TestPgxCancel(t *testing.T) {
	ts := startTestServer(t, nil)
	conn := pgxConnect(t, ts.url("root"), pgx.QueryExecModeCacheStatement)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(30)")
	if pgCode(err) != "57014" {
		t.Fatalf("want 57014, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	var one int
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("connection unusable after cancel: %v", err)
	}
}

func TestPgxCopy(t *testing.T) {
	ts := startTestServer(t, nil)
	conn := pgxConnect(t, ts.url("root"), pgx.QueryExecModeCacheStatement)
	ctx := context.Background()
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("a\nb\nc\n"), "COPY t FROM STDIN")
	if err != nil || tag.String() != "COPY 3" {
		t.Fatalf("copy in: %v %v", tag, err)
	}
	var sb strings.Builder
	tag, err = conn.PgConn().CopyTo(ctx, &sb, "COPY t TO STDOUT")
	if err != nil || tag.String() != "COPY 2" || sb.String() != "1\talice\n2\tbob\n" {
		t.Fatalf("copy out: %v %v %q", tag, err, sb.String())
	}
}

func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql is required (install postgresql-client-15): %v", err)
	}
	ts := startTestServer(t, nil)
	host, port := ts.hostPort()
	run := func(args ...string) (string, error) {
		cmd := exec.Command(psql, append([]string{"-h", host, "-p", port, "-U", "root", "-d", "db", "-X", "-v", "ON_ERROR_STOP=1"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("-A", "-t", "-c", "SELECT 1")
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("psql -c 'SELECT 1': %v\n%s", err, out)
	}
	out, err = run("-A", "-t", "-c", "SELECT generate_series(1, 3)")
	if err != nil || strings.TrimSpace(out) != "1\n2\n3" {
		t.Fatalf("psql series: %v\n%s", err, out)
	}
	out, err = run("-c", "SELECT 1/0")
	if err == nil || !strings.Contains(out, "division by zero") {
		t.Fatalf("psql error: %v\n%s", err, out)
	}
	out, err = run("-A", "-t", "-c", "BEGIN", "-c", "SELECT 1", "-c", "COMMIT")
	if err != nil || !strings.Contains(out, "BEGIN\n1\nCOMMIT") {
		t.Fatalf("psql txn: %v\n%s", err, out)
	}
}
