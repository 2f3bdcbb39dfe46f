package clients

import (
	"context"
	"crypto/tls"
	dsql "database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"

	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/testutil"
)

// secureHBA is the rule file of the secure node: root is trusted from
// loopback, bob may use a cleartext password on plaintext connections
// only, carol logs in with a client certificate, everybody else needs TLS
// and SCRAM-SHA-256.
const secureHBA = `# type   database user address      method
host      all      root 127.0.0.1/32 trust
host      all      root ::1/128      trust
hostnossl all      bob  all          password
hostssl   all      carol all         cert
hostssl   all      all  all          scram-sha-256
`

// secureNode is an `ordo start --single-node` process with certificates
// from `ordo cert` and secureHBA.
type secureNode struct {
	bin, certs, host, port string
}

func startSecureNode(t *testing.T) *secureNode {
	n := &secureNode{bin: cluster.Binary(t), certs: filepath.Join(t.TempDir(), "certs")}
	n.ordo(t, "cert", "create-ca", "--certs-dir", n.certs)
	n.ordo(t, "cert", "create-node", "--certs-dir", n.certs, "--host", "127.0.0.1", "--host", "localhost")
	n.ordo(t, "cert", "create-client", "--certs-dir", n.certs, "--user", "root")
	n.ordo(t, "cert", "create-client", "--certs-dir", n.certs, "--user", "carol")
	hba := filepath.Join(t.TempDir(), "hba.conf")
	if err := os.WriteFile(hba, []byte(secureHBA), 0o600); err != nil {
		t.Fatal(err)
	}
	store := t.TempDir()
	sqlAddr := cluster.FreeAddr(t)
	n.host, n.port, _ = net.SplitHostPort(sqlAddr)
	cmd := exec.Command(n.bin, "start", "--single-node", "--store", store, "--listen-addr", cluster.FreeAddr(t),
		"--sql-addr", sqlAddr, "--certs-dir", n.certs, "--hba-conf", hba, "--log-level", "warn")
	log, err := os.Create(filepath.Join(store, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("node log:\n%s", b)
		}
	})
	testutil.SucceedsWithin(t, time.Minute, func() error { return n.ping("root", "", "sslmode=disable") })
	return n
}

func (n *secureNode) ordo(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(n.bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ordo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// dsn is a lib/pq connection string.
func (n *secureNode) dsn(user, password, extra string) string {
	s := fmt.Sprintf("host=%s port=%s user=%s dbname=defaultdb connect_timeout=10 %s", n.host, n.port, user, extra)
	if password != "" {
		s += " password=" + password
	}
	return s
}

func (n *secureNode) ca() string { return filepath.Join(n.certs, "ca.crt") }

// ping opens one lib/pq connection and runs a query.
func (n *secureNode) ping(user, password, extra string) error {
	db, err := dsql.Open("postgres", n.dsn(user, password, extra))
	if err != nil {
		return err
	}
	defer db.Close()
	var who string
	if err := db.QueryRow("SELECT current_user").Scan(&who); err != nil {
		return err
	}
	if who != user {
		return fmt.Errorf("current_user %q, want %q", who, user)
	}
	return nil
}

func (n *secureNode) exec(t *testing.T, stmts ...string) {
	t.Helper()
	db, err := dsql.Open("postgres", n.dsn("root", "", "sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// pqCodeOf is the SQLSTATE of a lib/pq error, "" for other errors.
func pqCodeOf(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}

// pgCode is the SQLSTATE of a pgx error, "" for other errors.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// A node started with `ordo start --certs-dir --hba-conf` and users made
// with CREATE USER: lib/pq, pgx and psql over TLS and without, SCRAM and
// cleartext passwords checked against the catalog, and the rules' refusals.
func TestSecureNode(t *testing.T) {
	n := startSecureNode(t)
	n.exec(t, "CREATE USER alice WITH PASSWORD 'alice-pw'", "CREATE USER bob PASSWORD 'bob-pw'", "CREATE USER carol")
	t.Run("lib/pq TLS", func(t *testing.T) { testLibpqTLSModes(t, n) })
	t.Run("SCRAM", func(t *testing.T) { testSCRAMOutcomes(t, n) })
	t.Run("cleartext without TLS", func(t *testing.T) { testCleartext(t, n) })
	t.Run("hostssl refuses plaintext", func(t *testing.T) {
		if err := n.ping("alice", "alice-pw", "sslmode=disable"); pqCodeOf(err) != "28000" {
			t.Fatalf("alice without TLS: %v, want 28000", err)
		}
	})
	t.Run("client certificate", func(t *testing.T) { testCertAuth(t, n) })
	t.Run("pgx TLS", func(t *testing.T) { testPgxTLS(t, n) })
	t.Run("psql TLS", func(t *testing.T) { testPsqlTLS(t, n) })
	t.Run("password changes", func(t *testing.T) { testPasswordChanges(t, n) })
}

// sslmode=require and verify-full (by IP and by name, against the CA)
// connect; verify-full against another CA fails; a client certificate
// signed by the CA is accepted.
func testLibpqTLSModes(t *testing.T, n *secureNode) {
	for _, extra := range []string{
		"sslmode=require",
		"sslmode=verify-full sslrootcert=" + n.ca(),
		"sslmode=verify-full sslrootcert=" + n.ca() + " host=localhost",
	} {
		if err := n.ping("alice", "alice-pw", extra); err != nil {
			t.Errorf("%s: %v", extra, err)
		}
	}
	otherCA := filepath.Join(t.TempDir(), "other")
	n.ordo(t, "cert", "create-ca", "--certs-dir", otherCA)
	if err := n.ping("alice", "alice-pw", "sslmode=verify-full sslrootcert="+filepath.Join(otherCA, "ca.crt")); err == nil || pqCodeOf(err) != "" {
		t.Errorf("verify-full against another CA: %v, want a certificate error", err)
	}
	client := fmt.Sprintf("sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s", n.ca(),
		filepath.Join(n.certs, "client.root.crt"), filepath.Join(n.certs, "client.root.key"))
	if err := n.ping("root", "", client); err != nil {
		t.Errorf("client certificate: %v", err)
	}
}

// SCRAM-SHA-256: the right password works, a wrong one and an unknown user
// fail alike with 28P01 (the unknown user goes through a mock exchange).
func testSCRAMOutcomes(t *testing.T, n *secureNode) {
	tlsMode := "sslmode=verify-full sslrootcert=" + n.ca()
	if err := n.ping("alice", "alice-pw", tlsMode); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, c := range []struct{ user, pw string }{{"alice", "wrong"}, {"mallory", "alice-pw"}, {"alice", ""}} {
		err := n.ping(c.user, c.pw, tlsMode)
		var pe *pq.Error
		if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Message != fmt.Sprintf("password authentication failed for user %q", c.user) {
			t.Errorf("%s/%q: %v, want 28P01 password authentication failed", c.user, c.pw, err)
		}
	}
}

// bob's rule asks for a cleartext password on a plaintext connection
// (sslmode=disable); lib/pq sends it and the server checks it against the
// stored SCRAM verifier.
func testCleartext(t *testing.T, n *secureNode) {
	if err := n.ping("bob", "bob-pw", "sslmode=disable"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := n.ping("bob", "nope", "sslmode=disable"); pqCodeOf(err) != "28P01" {
		t.Fatalf("wrong password: %v, want 28P01", err)
	}
}

// carol's rule is cert: her certificate from `ordo cert create-client`
// logs her in; none, or root's, is refused with 28000.
func testCertAuth(t *testing.T, n *secureNode) {
	withCert := func(user string) string {
		return fmt.Sprintf("sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s", n.ca(),
			filepath.Join(n.certs, "client."+user+".crt"), filepath.Join(n.certs, "client."+user+".key"))
	}
	if err := n.ping("carol", "", withCert("carol")); err != nil {
		t.Fatalf("carol with her certificate: %v", err)
	}
	if err := n.ping("carol", "", withCert("root")); pqCodeOf(err) != "28000" {
		t.Errorf("carol with root's certificate: %v, want 28000", err)
	}
	if err := n.ping("carol", "", "sslmode=require"); pqCodeOf(err) != "28000" {
		t.Errorf("carol without a certificate: %v, want 28000", err)
	}
}

// pgx over TLS verified against the CA, with SCRAM; the connection is TLS.
func testPgxTLS(t *testing.T, n *secureNode) {
	url := fmt.Sprintf("postgres://alice:alice-pw@localhost:%s/defaultdb?sslmode=verify-full&sslrootcert=%s", n.port, n.ca())
	conn := connect(t, url)
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("pgx connection is %T, not TLS", conn.PgConn().Conn())
	}
	ctx := context.Background()
	var got int64
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		if err := conn.QueryRow(ctx, "SELECT $1::int8 * 2", mode, int64(21)).Scan(&got); err != nil || got != 42 {
			t.Fatalf("%v: %d %v", mode, got, err)
		}
	}
	_, err := pgx.Connect(ctx, strings.Replace(url, "alice-pw", "bad", 1))
	if pgCode(err) != "28P01" {
		t.Fatalf("pgx wrong password: %v", err)
	}
}

// psql with verify-full and a password from PGPASSWORD.
func testPsqlTLS(t *testing.T, n *secureNode) {
	url := fmt.Sprintf("postgresql://alice@localhost:%s/defaultdb?sslmode=verify-full&sslrootcert=%s", n.port, n.ca())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBin(t, "psql"), "-X", "-A", "-t", "-c", "SELECT current_user", url)
	cmd.Env = append(os.Environ(), "PGPASSWORD=alice-pw", "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "alice" {
		t.Fatalf("psql: %v\n%s", err, out)
	}
}

// ALTER USER takes effect at the next login; DROP USER makes the user
// indistinguishable from one that never existed.
func testPasswordChanges(t *testing.T, n *secureNode) {
	tlsMode := "sslmode=require"
	n.exec(t, "ALTER USER alice WITH PASSWORD 'new-pw'")
	if err := n.ping("alice", "alice-pw", tlsMode); pqCodeOf(err) != "28P01" {
		t.Fatalf("old password after ALTER: %v", err)
	}
	if err := n.ping("alice", "new-pw", tlsMode); err != nil {
		t.Fatalf("new password: %v", err)
	}
	n.exec(t, "ALTER USER alice PASSWORD NULL")
	if err := n.ping("alice", "new-pw", tlsMode); pqCodeOf(err) != "28P01" {
		t.Fatalf("after PASSWORD NULL: %v", err)
	}
	n.exec(t, "DROP USER alice")
	if err := n.ping("alice", "new-pw", tlsMode); pqCodeOf(err) != "28P01" {
		t.Fatalf("dropped user: %v", err)
	}
}
