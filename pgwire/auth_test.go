package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// sharedSecretAuth is testAuth with a cluster-wide mock secret.
type sharedSecretAuth struct{ testAuth }

func (sharedSecretAuth) MockAuthSecret(context.Context) ([]byte, error) {
	return []byte("the cluster's mock secret"), nil
}

// scramSalt starts a SCRAM exchange for user and returns the salt of the
// server-first message.
func scramSalt(t *testing.T, addr, user string) string {
	t.Helper()
	rc := dialRaw(t, addr)
	defer rc.Close()
	rc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": user}})
	if err := rc.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err := rc.fe.Receive()
	if _, ok := m.(*pgproto3.AuthenticationSASL); !ok {
		t.Fatalf("%s: want AuthenticationSASL, got %T %v", user, m, err)
	}
	rc.fe.Send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=clientnonce")})
	if err := rc.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err = rc.fe.Receive()
	cont, ok := m.(*pgproto3.AuthenticationSASLContinue)
	if !ok {
		t.Fatalf("%s: want AuthenticationSASLContinue, got %T %v", user, m, err)
	}
	for _, attr := range strings.Split(string(cont.Data), ",") {
		if s, ok := strings.CutPrefix(attr, "s="); ok {
			return s
		}
	}
	t.Fatalf("no salt in %q", cont.Data)
	return ""
}

// An unknown user's mock exchange has a salt as stable as a real user's:
// the same on two servers (nodes) sharing the Authenticator's secret.
// Without a shared secret, servers differ, which would let a client tell
// unknown users from real ones by comparing nodes.
func TestMockSaltStableAcrossServers(t *testing.T) {
	hba, err := ParseHBA("host all all all scram-sha-256")
	if err != nil {
		t.Fatal(err)
	}
	auth := sharedSecretAuth{newTestAuth(t)}
	a := startTestServer(t, func(c *Config) { c.HBA, c.Authenticator = hba, auth })
	b := startTestServer(t, func(c *Config) { c.HBA, c.Authenticator = hba, auth })
	for _, user := range []string{"alice", "nobody"} {
		if sa, sb := scramSalt(t, a.addr, user), scramSalt(t, b.addr, user); sa != sb {
			t.Errorf("%s: salts %s and %s differ between servers", user, sa, sb)
		}
	}
	if scramSalt(t, a.addr, "nobody") == scramSalt(t, a.addr, "nobody2") {
		t.Error("two unknown users share a salt")
	}
	c := startTestServer(t, func(c *Config) { c.HBA, c.Authenticator = hba, newTestAuth(t) })
	d := startTestServer(t, func(c *Config) { c.HBA, c.Authenticator = hba, newTestAuth(t) })
	if scramSalt(t, c.addr, "nobody") == scramSalt(t, d.addr, "nobody") {
		t.Error("per-server secrets gave the same salt")
	}
}

// Malformed messages during authentication end the connection with FATAL
// 08P01 (or 28P01 for a proof that does not verify); none is mistaken for
// success.
func TestMalformedAuth(t *testing.T) {
	hba, err := ParseHBA("host all all all scram-sha-256")
	if err != nil {
		t.Fatal(err)
	}
	ts := startTestServer(t, func(c *Config) {
		c.HBA, c.Authenticator = hba, newTestAuth(t)
		c.TestingKnobs.OnPanic = func(v any) { t.Errorf("panic: %v", v) }
	})
	initial := func(mech, data string) []byte {
		return msg('p', cstr(mech), be32(len(data)), []byte(data))
	}
	for _, c := range []struct {
		name string
		send []byte
		want string
	}{
		{"query instead of SASL", msg('Q', cstr("SELECT 1")), "08P01"},
		{"unknown type instead of SASL", msg('?'), "08P01"},
		{"unknown mechanism", initial("SCRAM-SHA-1", "n,,n=,r=abc"), "08P01"},
		{"empty SASL body", msg('p'), "08P01"},
		{"SASL data length beyond body", msg('p', cstr("SCRAM-SHA-256"), be32(100), []byte("n,,")), "08P01"},
		{"client-first without nonce", initial("SCRAM-SHA-256", "n,,n="), "08P01"},
		{"client-first with channel binding", initial("SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=abc"), "08P01"},
		{"client-final garbage", cat(initial("SCRAM-SHA-256", "n,,n=,r=abc"), msg('p', []byte("garbage"))), "08P01"},
		{"client-final wrong nonce", cat(initial("SCRAM-SHA-256", "n,,n=,r=abc"), msg('p', []byte("c=biws,r=xyz,p=AAAA"))), "08P01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := dialRaw(t, ts.addr)
			defer rc.Close()
			rc.fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "alice"}})
			_ = rc.fe.Flush()
			_, _ = rc.Write(c.send)
			rc.expectFatal(t, c.want)
		})
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and client
// certificates on demand.
type testPKI struct {
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	p := &testPKI{}
	p.caKey, p.caCert = p.sign(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	return p
}

// sign signs tmpl with the CA (self-signed when there is none yet).
func (p *testPKI) sign(t *testing.T, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	parent, parentKey := p.caCert, p.caKey
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

func (p *testPKI) pair(t *testing.T, tmpl *x509.Certificate) tls.Certificate {
	key, cert := p.sign(t, tmpl)
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}
}

func (p *testPKI) client(t *testing.T, user string) tls.Certificate {
	return p.pair(t, &x509.Certificate{Subject: pkix.Name{CommonName: user},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature})
}

// serverTLS verifies client certificates that are presented, as a node
// started with --certs-dir does.
func (p *testPKI) serverTLS(t *testing.T) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	srv := p.pair(t, &x509.Certificate{Subject: pkix.Name{CommonName: "node"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature})
	return &tls.Config{Certificates: []tls.Certificate{srv}, ClientCAs: pool,
		ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
}

// The cert method admits a client whose verified certificate names the
// user (CN), and refuses (28000) no certificate or another user's.
func TestCertAuth(t *testing.T) {
	if _, err := ParseHBA("host all all all cert"); err == nil {
		t.Fatal("cert accepted on a host (not hostssl) line")
	}
	hba, err := ParseHBA("hostssl all all all cert")
	if err != nil {
		t.Fatal(err)
	}
	pki := newTestPKI(t)
	ts := startTestServer(t, func(c *Config) { c.HBA, c.Authenticator, c.TLS = hba, newTestAuth(t), pki.serverTLS(t) })
	connect := func(user string, certs ...tls.Certificate) error {
		cfg, err := pgx.ParseConfig("postgres://" + user + "@" + ts.addr + "/db?sslmode=require")
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLSConfig.Certificates = certs
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		if err == nil {
			conn.Close(context.Background())
		}
		return err
	}
	alice := pki.client(t, "alice")
	if err := connect("alice", alice); err != nil {
		t.Fatalf("alice with her certificate: %v", err)
	}
	if err := connect("alice"); pgCode(err) != "28000" {
		t.Errorf("no certificate: %v, want 28000", err)
	}
	if err := connect("root", alice); pgCode(err) != "28000" {
		t.Errorf("root with alice's certificate: %v, want 28000", err)
	}
	other := newTestPKI(t).client(t, "alice")
	if err := connect("alice", other); err == nil || pgCode(err) != "" {
		t.Errorf("certificate of another CA: %v, want a handshake failure", err)
	}
}
