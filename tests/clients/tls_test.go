package clients

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	dsql "database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/sql"
	"github.com/ordodb/ordo/sql/kvmem"
	"github.com/ordodb/ordo/tests/testutil"
)

// lib/pq over TLS (sslmode=verify-full against a test CA) to a pgwire
// server whose rules require TLS ("hostssl"): queries work, a plaintext
// connection is refused (28000), and a cancel, which lib/pq sends over TLS
// too, stops a running statement.
func TestLibpqTLS(t *testing.T) {
	caFile, tlsCfg := testCerts(t)
	srv, addr := startTLSServer(t, tlsCfg)
	host, port, _ := net.SplitHostPort(addr)
	base := fmt.Sprintf("host=%s port=%s user=root dbname=defaultdb connect_timeout=10", host, port)
	db, err := dsql.Open("postgres", base+" sslmode=verify-full sslrootcert="+caFile)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var n int
	if err := db.QueryRow("SELECT $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("query over TLS: %d %v", n, err)
	}
	plain, err := dsql.Open("postgres", base+" sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	var pe *pq.Error
	if err := plain.Ping(); !errors.As(err, &pe) || pe.Code != "28000" {
		t.Fatalf("plaintext connection under hostssl: %v, want 28000", err)
	}
	testLibpqTLSCancel(t, srv, db)
}

func testLibpqTLSCancel(t *testing.T, srv *pgwire.Server, db *dsql.DB) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "SELECT pg_sleep(10)")
		done <- err
	}()
	testutil.SucceedsWithin(t, 10*time.Second, func() error {
		if srv.RunningStatements() == 0 {
			return errors.New("no statement running")
		}
		return nil
	})
	sent := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil || time.Since(sent) > cancelLatency {
			t.Fatalf("cancel over TLS: %v after %v", err, time.Since(sent))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("statement not cancelled")
	}
}

// startTLSServer serves the SQL executor (over in-memory KV) with TLS
// required by the rules.
func startTLSServer(t *testing.T, tlsCfg *tls.Config) (*pgwire.Server, string) {
	hba, err := pgwire.ParseHBA("hostssl all all all trust\n")
	if err != nil {
		t.Fatal(err)
	}
	exec := sql.NewExecutor(sql.Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1})
	srv, err := pgwire.NewServer(pgwire.Config{Executor: exec, TLS: tlsCfg, HBA: hba})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return srv, ln.Addr().String()
}

// testCerts makes a CA and a server certificate for 127.0.0.1; it returns
// the CA's PEM file and the server's TLS config.
func testCerts(t *testing.T) (string, *tls.Config) {
	caKey, caCert := makeCert(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "ordo test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	key, cert := makeCert(t, caKey, caCert, &x509.Certificate{
		Subject: pkix.Name{CommonName: "node"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	})
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	pair := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
	return caFile, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

// makeCert signs tmpl with parent (self-signed when parent is nil).
func makeCert(t *testing.T, parentKey *ecdsa.PrivateKey, parent, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}
