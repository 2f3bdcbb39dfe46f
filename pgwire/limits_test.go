package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/ordodb/ordo/tests/testutil"
	"io"
	"math/big"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/pgwire/scram"
)

// rawConn is a client speaking the protocol through pgproto3.Frontend.
type rawConn struct {
	net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{Conn: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// startup sends a StartupMessage and reads up to ReadyForQuery or an error.
func (rc *rawConn) startup(t testing.TB, user string) *pgproto3.ErrorResponse {
	t.Helper()
	rc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": user}})
	if err := rc.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := rc.fe.Receive()
		if err != nil {
			t.Fatalf("startup: %v", err)
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return m
		}
	}
}

// expectFatal reads until an ErrorResponse followed by the server closing.
func (rc *rawConn) expectFatal(t testing.TB, code string) {
	t.Helper()
	var got *pgproto3.ErrorResponse
	for {
		msg, err := rc.fe.Receive()
		if err != nil {
			if got == nil || got.Code != code || got.Severity != "FATAL" {
				t.Fatalf("want FATAL %s then close, got %+v then %v", code, got, err)
			}
			return
		}
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			got = e
		}
	}
}

func (rc *rawConn) expectClosed(t testing.TB) {
	t.Helper()
	if _, err := io.ReadAll(rc.Conn); err != nil && !errors.Is(err, io.EOF) && !isConnReset(err) {
		t.Fatalf("want close, got %v", err)
	}
}

func TestMaxMessageSize(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.MaxMessageSize = 1024 })
	rc := dialRaw(t, ts.addr)
	if e := rc.startup(t, "root"); e != nil {
		t.Fatal(e)
	}
	hdr := []byte{'Q', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:], 0x7FFFFFFF)
	if _, err := rc.Write(hdr); err != nil {
		t.Fatal(err)
	}
	rc.expectFatal(t, "08P01")
}

func TestTruncatedAndGarbage(t *testing.T) {
	ts := startTestServer(t, nil)
	cases := map[string][]byte{
		"truncated startup":     {0, 0, 0, 20, 0, 3, 0, 0},
		"short startup length":  {0, 0, 0, 2},
		"huge startup length":   {0x7f, 0, 0, 0, 0, 3, 0, 0},
		"truncated ssl request": {0, 0, 0, 8, 4, 0xd2},
		"cancel bad key":        {0, 0, 0, 16, 4, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 0, 0, 0, 1},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			rc := dialRaw(t, ts.addr)
			defer rc.Close()
			if _, err := rc.Write(b); err != nil {
				t.Fatal(err)
			}
			if tc, ok := rc.Conn.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			rc.expectClosed(t)
		})
	}
	// A message cut short after startup: the server closes cleanly.
	rc := dialRaw(t, ts.addr)
	if e := rc.startup(t, "root"); e != nil {
		t.Fatal(e)
	}
	_, _ = rc.Write([]byte{'Q', 0, 0, 0, 100, 'S', 'E'})
	_ = rc.Conn.(*net.TCPConn).CloseWrite()
	rc.expectClosed(t)
	waitFor(t, "connections to close", 5*time.Second, func() bool { return ts.NumConns() == 0 })
}

func TestAuthTimeout(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.AuthTimeout = 100 * time.Millisecond })
	rc := dialRaw(t, ts.addr)
	_, _ = rc.Write([]byte{0, 0}) // slowloris: half a length, then nothing
	start := time.Now()
	rc.expectClosed(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestConnectionLimit(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.MaxConnections = 2 })
	a, b := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	for _, rc := range []*rawConn{a, b} {
		if e := rc.startup(t, "root"); e != nil {
			t.Fatal(e)
		}
	}
	c := dialRaw(t, ts.addr)
	if e := c.startup(t, "root"); e == nil || e.Code != "53300" {
		t.Fatalf("third connection: %+v", e)
	}
	a.Close()
	c.Close()
	// A closed connection's slot frees: a new connection gets in (retried
	// while the server notices the close; it failed twice in CI under a
	// loaded make test waiting for NumConns alone, cause not found: on a
	// failure the server's goroutines are printed).
	err := testutil.Retry(30*time.Second, func() error {
		d := dialRaw(t, ts.addr)
		defer d.Close()
		if e := d.startup(t, "root"); e != nil {
			return fmt.Errorf("after a close: %+v (open connections %d)", e, ts.NumConns())
		}
		return nil
	})
	if err != nil {
		buf := make([]byte, 1<<20)
		t.Fatalf("%v\n%s", err, buf[:runtime.Stack(buf, true)])
	}
}

func TestPanicIsContained(t *testing.T) {
	ts := startTestServer(t, nil)
	rc := dialRaw(t, ts.addr)
	if e := rc.startup(t, "root"); e != nil {
		t.Fatal(e)
	}
	rc.fe.Send(&pgproto3.Query{String: "PANIC"})
	_ = rc.fe.Flush()
	rc.expectFatal(t, "XX000")
	other := dialRaw(t, ts.addr)
	if e := other.startup(t, "root"); e != nil {
		t.Fatal(e)
	}
	waitFor(t, "session closed", 5*time.Second, func() bool { return ts.exec.openSessions() == 1 })
}

// testAuth is an in-memory user catalog.
type testAuth map[string]pgwirebase.UserInfo

func (a testAuth) LookupUser(_ context.Context, name string) (pgwirebase.UserInfo, bool, error) {
	u, ok := a[name]
	return u, ok, nil
}

func newTestAuth(t testing.TB) testAuth {
	v, err := scram.NewVerifier("secret", []byte("0123456789abcdef"), scram.DefaultIterations)
	if err != nil {
		t.Fatal(err)
	}
	return testAuth{
		"alice":   {Name: "alice", CanLogin: true, Verifier: v.String()},
		"nologin": {Name: "nologin", CanLogin: false, Verifier: v.String()},
		"root":    {Name: "root", Superuser: true, CanLogin: true},
	}
}

func TestPasswordAuth(t *testing.T) {
	for _, method := range []string{"scram-sha-256", "password"} {
		t.Run(method, func(t *testing.T) {
			hba, err := ParseHBA("host all root all trust\nhost all all all " + method)
			if err != nil {
				t.Fatal(err)
			}
			ts := startTestServer(t, func(c *Config) { c.HBA, c.Authenticator = hba, newTestAuth(t) })
			connect := func(user, pw string) error {
				url := "postgres://" + user + ":" + pw + "@" + ts.addr + "/db?sslmode=disable"
				conn, err := pgx.Connect(context.Background(), url)
				if err == nil {
					conn.Close(context.Background())
				}
				return err
			}
			if err := connect("alice", "secret"); err != nil {
				t.Fatalf("right password: %v", err)
			}
			if err := connect("root", ""); err != nil {
				t.Fatalf("trusted root: %v", err)
			}
			for _, tc := range []struct{ user, pw, code string }{
				{"alice", "wrong", "28P01"},
				{"nobody", "secret", "28P01"}, // no user enumeration
				{"nologin", "secret", "28000"},
			} {
				if err := connect(tc.user, tc.pw); pgCode(err) != tc.code {
					t.Errorf("%s/%s: want %s, got %v", tc.user, tc.pw, tc.code, err)
				}
			}
		})
	}
}

func selfSignedTLS(t testing.TB) *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}
}

func TestTLSRequiredByRules(t *testing.T) {
	hba, err := ParseHBA("hostssl all all all scram-sha-256")
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t, func(c *Config) {
		c.HBA, c.Authenticator, c.TLS = hba, newTestAuth(t), selfSignedTLS(t)
	})
	base := "postgres://alice:secret@" + ts.addr + "/db"
	conn, err := pgx.Connect(context.Background(), base+"?sslmode=require")
	if err != nil {
		t.Fatalf("TLS: %v", err)
	}
	var one int
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	if _, err := pgx.Connect(context.Background(), base+"?sslmode=disable"); pgCode(err) != "28000" {
		t.Fatalf("plaintext must be rejected with 28000, got %v", err)
	}
	// Plaintext bytes sent right after the SSLRequest, before 'S': refused.
	rc := dialRaw(t, ts.addr)
	_, _ = rc.Write([]byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f, 0, 0, 0, 8, 0, 3, 0, 0})
	rc.expectClosed(t)
}

func openFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestNoLeaks runs 10,000 connect/disconnect cycles (clean, abrupt,
// before startup, garbage after startup, over TLS) and checks that
// connections, sessions, goroutines and file descriptors return to their
// baseline.
func TestNoLeaks(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.TLS = selfSignedTLS(t) })
	runtime.GC()
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)
	cycles := 10000
	if testing.Short() {
		cycles = 1000
	}
	for i := range cycles {
		leakCycle(t, ts, i%5)
	}
	waitBaseline(t, ts, baseG, baseFD)
}

func leakCycle(t *testing.T, ts *testServer, kind int) {
	rc := dialRaw(t, ts.addr)
	defer rc.Close()
	switch kind {
	case 0: // clean
		if e := rc.startup(t, "root"); e != nil {
			t.Fatal(e)
		}
		rc.fe.Send(&pgproto3.Terminate{})
		_ = rc.fe.Flush()
	case 1: // abrupt close mid-session
		if e := rc.startup(t, "root"); e != nil {
			t.Fatal(e)
		}
	case 2: // close before startup
	case 3: // garbage after startup
		if e := rc.startup(t, "root"); e != nil {
			t.Fatal(e)
		}
		_, _ = rc.Write([]byte{'?', 0, 0, 0, 4})
	case 4: // TLS handshake, then close
		_, _ = rc.Write(packet(be32(80877103)))
		var b [1]byte
		if _, err := io.ReadFull(rc, b[:]); err != nil || b[0] != 'S' {
			t.Fatalf("SSLRequest: %q %v", b, err)
		}
		tc := tls.Client(rc.Conn, &tls.Config{InsecureSkipVerify: true})
		if err := tc.Handshake(); err != nil {
			t.Fatal(err)
		}
		_ = tc.Close()
	}
}
