package clients

import (
	"context"
	dsql "database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lib/pq"

	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/testutil"
)

// cancelLatency is the bound on how fast a cancel or timeout must end a
// statement (testing.md §5 items 7 and 8).
const cancelLatency = time.Second

// Cancellation and the session timeouts on a 3-node cluster: a
// CancelRequest sent to any node stops the statement where it runs
// (57014); statement_timeout, lock_timeout (55P03) and
// idle_in_transaction_session_timeout (25P03, locks released).
func TestCancelAndTimeouts(t *testing.T) {
	c := cluster.StartInProcess(t, 3)
	setup := connect(t, ordoURL(c, 0))
	mustExec(t, setup, "CREATE TABLE acct (id INT PRIMARY KEY, balance INT)")
	mustExec(t, setup, "INSERT INTO acct VALUES (1, 100), (2, 100)")
	t.Run("pgx cancel sent to another node", func(t *testing.T) { testCancelOtherNode(t, c) })
	t.Run("wrong key has no effect", func(t *testing.T) { testCancelWrongKey(t, c) })
	t.Run("lib/pq cancel sent to another node", func(t *testing.T) { testLibpqCancel(t, c) })
	t.Run("psql SIGINT", func(t *testing.T) { testPsqlCancel(t, c) })
	t.Run("statement_timeout", func(t *testing.T) { testStatementTimeout(t, c) })
	t.Run("lock_timeout", func(t *testing.T) { testLockTimeout(t, c) })
	t.Run("idle_in_transaction_session_timeout releases locks", func(t *testing.T) { testIdleInTxnTimeout(t, c) })
}

// waitRunning waits until node i runs a statement.
func waitRunning(t *testing.T, c *cluster.InProcess, i int) {
	t.Helper()
	testutil.SucceedsWithin(t, 10*time.Second, func() error {
		if c.Node(i).SQLRunningStatements() == 0 {
			return fmt.Errorf("node %d runs no statement", i+1)
		}
		return nil
	})
}

// sendCancel sends a CancelRequest to addr and waits until the server has
// handled it (closed the connection).
func sendCancel(t *testing.T, addr string, pid uint32, secret []byte) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	msg := binary.BigEndian.AppendUint32(nil, uint32(12+len(secret)))
	msg = binary.BigEndian.AppendUint32(msg, 80877102)
	msg = binary.BigEndian.AppendUint32(msg, pid)
	if _, err := nc.Write(append(msg, secret...)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Fatalf("cancel connection: %v", err)
	}
}

// sleepAsync runs pg_sleep(secs) on conn (simple protocol: one message) and
// reports its error and duration.
func sleepAsync(conn *pgx.Conn, secs int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		start := time.Now()
		_, err := conn.Exec(context.Background(), fmt.Sprintf("SELECT pg_sleep(%d)", secs), pgx.QueryExecModeSimpleProtocol)
		ch <- result{err, time.Since(start)}
	}()
	return ch
}

type result struct {
	err     error
	elapsed time.Duration
}

func awaitResult(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("statement did not end")
		return result{}
	}
}

func testCancelOtherNode(t *testing.T, c *cluster.InProcess) {
	conn := connect(t, ordoURL(c, 0))
	pid := conn.PgConn().PID()
	if pid>>20 == 0 {
		t.Fatalf("process ID %#x carries no node id", pid)
	}
	ch := sleepAsync(conn, 10)
	waitRunning(t, c, 0)
	sent := time.Now()
	sendCancel(t, c.SQLAddrs[1], pid, conn.PgConn().SecretKey())
	r := awaitResult(t, ch)
	if sqlState(r.err) != "57014" || time.Since(sent) > cancelLatency {
		t.Fatalf("cancelled statement: %v after %v", r.err, time.Since(sent))
	}
	mustExec(t, conn, "SELECT 1") // the session goes on
}

func testCancelWrongKey(t *testing.T, c *cluster.InProcess) {
	conn := connect(t, ordoURL(c, 0))
	ch := sleepAsync(conn, 1)
	waitRunning(t, c, 0)
	wrong := append([]byte(nil), conn.PgConn().SecretKey()...)
	wrong[0] ^= 1
	sendCancel(t, c.SQLAddrs[2], conn.PgConn().PID(), wrong)
	// A forwarded-looking key must not bypass the check either.
	sendCancel(t, c.SQLAddrs[2], conn.PgConn().PID(), append(wrong, 0xff))
	if r := awaitResult(t, ch); r.err != nil {
		t.Fatalf("statement with a wrong cancel key: %v", r.err)
	}
}

// redirectDialer sends lib/pq's first connection to one node and every
// later one (its CancelRequest) to another.
type redirectDialer struct {
	first, rest string
	mu          sync.Mutex
	dials       []string
}

func (d *redirectDialer) target() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	to := d.rest
	if len(d.dials) == 0 {
		to = d.first
	}
	d.dials = append(d.dials, to)
	return to
}

func (d *redirectDialer) Dial(network, _ string) (net.Conn, error) {
	return net.DialTimeout(network, d.target(), 10*time.Second)
}

func (d *redirectDialer) DialTimeout(network, _ string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout(network, d.target(), timeout)
}

func (d *redirectDialer) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, d.target())
}

func testLibpqCancel(t *testing.T, c *cluster.InProcess) {
	connector, err := pq.NewConnector(libpqDSN(c.SQLAddrs[0]))
	if err != nil {
		t.Fatal(err)
	}
	d := &redirectDialer{first: c.SQLAddrs[0], rest: c.SQLAddrs[1]}
	connector.Dialer(d)
	db := dsql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan result, 1)
	go func() {
		_, err := db.ExecContext(ctx, "SELECT pg_sleep(10)")
		ch <- result{err: err}
	}()
	waitRunning(t, c, 0)
	sent := time.Now()
	cancel()
	r := awaitResult(t, ch)
	if r.err == nil || time.Since(sent) > cancelLatency {
		t.Fatalf("lib/pq cancel: %v after %v", r.err, time.Since(sent))
	}
	testutil.SucceedsWithin(t, 10*time.Second, func() error { return checkDials(d, c) })
	var one int
	if err := db.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after cancel: %d %v", one, err)
	}
}

// checkDials confirms the cancel connection went to the other node.
func checkDials(d *redirectDialer, c *cluster.InProcess) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.dials) < 2 || d.dials[1] != c.SQLAddrs[1] {
		return fmt.Errorf("dials %v: the cancel did not go to node 2", d.dials)
	}
	return nil
}

func libpqDSN(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("host=%s port=%s user=root dbname=defaultdb sslmode=disable connect_timeout=10", host, port)
}

func testPsqlCancel(t *testing.T, c *cluster.InProcess) {
	cmd := exec.Command(clientBin(t, "psql"), "-X", "-c", "SELECT pg_sleep(10)", ordoURL(c, 2))
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitRunning(t, c, 2)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("psql did not end")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || time.Since(sent) > cancelLatency ||
		!strings.Contains(out.String(), "canceling statement due to user request") {
		t.Fatalf("psql after SIGINT (%v, %v):\n%s", err, time.Since(sent), out.String())
	}
}

// expectState runs q (simple protocol) and checks its SQLSTATE and that it
// failed within limit.
func expectState(t *testing.T, conn *pgx.Conn, q, code string, limit time.Duration) {
	t.Helper()
	start := time.Now()
	_, err := conn.Exec(context.Background(), q, pgx.QueryExecModeSimpleProtocol)
	if sqlState(err) != code || time.Since(start) > limit {
		t.Fatalf("%s: %v after %v, want %s within %v", q, err, time.Since(start), code, limit)
	}
}

func testStatementTimeout(t *testing.T, c *cluster.InProcess) {
	conn := connect(t, ordoURL(c, 1))
	mustExec(t, conn, "SET statement_timeout = '100ms'")
	expectState(t, conn, "SELECT pg_sleep(10)", "57014", 100*time.Millisecond+cancelLatency)
	mustExec(t, conn, "BEGIN")
	mustExec(t, conn, "UPDATE acct SET balance = balance - 1 WHERE id = 1")
	expectState(t, conn, "SELECT pg_sleep(10)", "57014", 100*time.Millisecond+cancelLatency)
	expectState(t, conn, "SELECT 1", "25P02", cancelLatency)
	expectState(t, conn, "COMMIT", "", cancelLatency) // answered ROLLBACK
	var bal int
	if err := conn.QueryRow(context.Background(), "SELECT balance FROM acct WHERE id = 1").Scan(&bal); err != nil || bal != 100 {
		t.Fatalf("balance after the failed block: %d %v", bal, err)
	}
}

// A lock wait longer than lock_timeout fails with 55P03; so does a wait
// cut by statement_timeout with 57014. The holder is then unaffected.
func testLockTimeout(t *testing.T, c *cluster.InProcess) {
	holder, waiter := connect(t, ordoURL(c, 0)), connect(t, ordoURL(c, 2))
	mustExec(t, holder, "BEGIN")
	mustExec(t, holder, "UPDATE acct SET balance = balance + 1 WHERE id = 2")
	mustExec(t, waiter, "SET lock_timeout = '200ms'")
	expectState(t, waiter, "UPDATE acct SET balance = 0 WHERE id = 2", "55P03", 200*time.Millisecond+cancelLatency)
	mustExec(t, waiter, "BEGIN")
	expectState(t, waiter, "UPDATE acct SET balance = 0 WHERE id = 2", "55P03", 200*time.Millisecond+cancelLatency)
	expectState(t, waiter, "SELECT 1", "25P02", cancelLatency)
	mustExec(t, waiter, "ROLLBACK")
	mustExec(t, waiter, "SET lock_timeout = 0")
	mustExec(t, waiter, "SET statement_timeout = '200ms'")
	expectState(t, waiter, "UPDATE acct SET balance = 0 WHERE id = 2", "57014", 200*time.Millisecond+cancelLatency)
	mustExec(t, holder, "COMMIT")
	mustExec(t, waiter, "UPDATE acct SET balance = balance - 1 WHERE id = 2")
}

// Session A holds a row lock in a block and goes idle; once its
// idle_in_transaction_session_timeout passes it gets FATAL 25P03 and its
// locks are gone: session B, on another node, updates the row at once.
func testIdleInTxnTimeout(t *testing.T, c *cluster.InProcess) {
	a, b := connect(t, ordoURL(c, 0)), connect(t, ordoURL(c, 1))
	mustExec(t, a, "SET idle_in_transaction_session_timeout = '300ms'")
	mustExec(t, a, "BEGIN")
	mustExec(t, a, "UPDATE acct SET balance = 0 WHERE id = 1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := a.PgConn().WaitForNotification(ctx); sqlState(err) != "25P03" || time.Since(start) > 300*time.Millisecond+cancelLatency {
		t.Fatalf("idle session: %v after %v, want 25P03", err, time.Since(start))
	}
	mustExec(t, b, "SET lock_timeout = '500ms'")
	mustExec(t, b, "UPDATE acct SET balance = balance + 5 WHERE id = 1")
	var bal int
	if err := b.QueryRow(ctx, "SELECT balance FROM acct WHERE id = 1").Scan(&bal); err != nil || bal != 105 {
		t.Fatalf("balance: %d %v (A's update must be rolled back)", bal, err)
	}
}
