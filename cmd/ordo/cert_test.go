package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func certCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"cert"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The CA signs a node certificate valid for the --host names and addresses
// (and no others) and a client certificate for --user; keys are P-256,
// readable by their owner only, and load as TLS key pairs.
func TestCertCreate(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"create-ca", "--certs-dir", dir},
		{"create-node", "--certs-dir", dir, "--host", "127.0.0.1", "--host", "localhost,db.example.com"},
		{"create-client", "--certs-dir", dir, "--user", "alice"},
	} {
		if code, out := certCmd(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, out)
		}
	}
	ca := readCert(t, filepath.Join(dir, "ca.crt"))
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	node := readCert(t, filepath.Join(dir, "node.crt"))
	for _, h := range []string{"127.0.0.1", "localhost", "db.example.com"} {
		if _, err := node.Verify(x509.VerifyOptions{DNSName: h, Roots: roots}); err != nil {
			t.Errorf("node cert for %s: %v", h, err)
		}
	}
	if _, err := node.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: roots}); err == nil {
		t.Error("node cert valid for a host not asked for")
	}
	client := readCert(t, filepath.Join(dir, "client.alice.crt"))
	if _, err := client.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || client.Subject.CommonName != "alice" {
		t.Errorf("client cert: CN %q, %v", client.Subject.CommonName, err)
	}
	for _, c := range []*x509.Certificate{ca, node, client} {
		if c.PublicKeyAlgorithm != x509.ECDSA || c.NotAfter.After(ca.NotAfter) {
			t.Errorf("%s: %v key, expires %v (CA %v)", c.Subject.CommonName, c.PublicKeyAlgorithm, c.NotAfter, ca.NotAfter)
		}
	}
	for _, pair := range [][2]string{{"node.crt", "node.key"}, {"client.alice.crt", "client.alice.key"}} {
		if _, err := tls.LoadX509KeyPair(filepath.Join(dir, pair[0]), filepath.Join(dir, pair[1])); err != nil {
			t.Errorf("%s: %v", pair[0], err)
		}
	}
	for _, k := range []string{"ca.key", "node.key", "client.alice.key"} {
		if fi, err := os.Stat(filepath.Join(dir, k)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v", k, fi.Mode(), err)
		}
	}
}

// Existing files are kept unless --overwrite; a node needs a CA first.
func TestCertRefusals(t *testing.T) {
	dir := t.TempDir()
	if code, out := certCmd(t, "create-node", "--certs-dir", dir); code != 1 || !strings.Contains(out, "create-ca first") {
		t.Fatalf("node without CA: exit %d: %s", code, out)
	}
	if code, out := certCmd(t, "create-ca", "--certs-dir", dir); code != 0 {
		t.Fatal(out)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if code, out := certCmd(t, "create-ca", "--certs-dir", dir); code != 1 || !strings.Contains(out, "--overwrite") {
		t.Fatalf("second create-ca: exit %d: %s", code, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "ca.crt")); !bytes.Equal(before, after) {
		t.Fatal("CA replaced without --overwrite")
	}
	if code, out := certCmd(t, "create-ca", "--certs-dir", dir, "--overwrite"); code != 0 {
		t.Fatal(out)
	}
	if code, _ := certCmd(t, "create-ca"); code != 2 {
		t.Fatalf("missing --certs-dir: exit %d", code)
	}
	if code, _ := certCmd(t, "bogus", "--certs-dir", dir); code != 2 {
		t.Fatalf("unknown subcommand: exit %d", code)
	}
}
