package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ordodb/ordo/server"
)

// Files of a certificates directory, as `ordo start --certs-dir` reads
// them; the CA key is kept there too unless --ca-key says otherwise.
const (
	caCertFile   = server.CACertFile
	caKeyFile    = "ca.key"
	nodeCertFile = server.NodeCertFile
	nodeKeyFile  = server.NodeKeyFile
)

func clientCertFile(user string) string { return "client." + user + ".crt" }
func clientKeyFile(user string) string  { return "client." + user + ".key" }

// Default lifetimes of what `ordo cert` creates.
const (
	defaultCALifetime   = 10 * 365 * 24 * time.Hour
	defaultCertLifetime = 5 * 365 * 24 * time.Hour
)

func runCert(args []string, stdout, stderr io.Writer) int {
	subs := map[string]func(*certFlags) error{
		"create-ca": createCA, "create-node": createNode, "create-client": createClient,
	}
	if len(args) == 0 || subs[args[0]] == nil {
		fmt.Fprintln(stderr, "usage: ordo cert create-ca|create-node|create-client --certs-dir DIR [flags]")
		return 2
	}
	f, err := parseCertFlags(args[0], args[1:], stderr)
	if err != nil {
		return 2
	}
	if err := subs[args[0]](f); err != nil {
		fmt.Fprintf(stderr, "ordo cert %s: %v\n", args[0], err)
		return 1
	}
	fmt.Fprintf(stdout, "ordo cert %s: wrote %s\n", args[0], strings.Join(f.wrote, ", "))
	return 0
}

// certFlags are the flags of every `ordo cert` subcommand.
type certFlags struct {
	dir       string
	caKey     string
	hosts     []string
	user      string
	lifetime  time.Duration
	overwrite bool
	now       time.Time
	wrote     []string
}

func parseCertFlags(sub string, args []string, stderr io.Writer) (*certFlags, error) {
	fs := flag.NewFlagSet("cert "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &certFlags{now: time.Now()}
	fs.StringVar(&f.dir, "certs-dir", "", "directory of the certificates (required)")
	fs.StringVar(&f.caKey, "ca-key", "", "CA private key (default: DIR/ca.key)")
	fs.Func("host", "a host name or IP address the node certificate is valid for (repeatable; default localhost and 127.0.0.1)", func(s string) error {
		f.hosts = append(f.hosts, splitList(s)...)
		return nil
	})
	fs.StringVar(&f.user, "user", "root", "user name of a client certificate")
	fs.DurationVar(&f.lifetime, "lifetime", 0, "validity (default 10 years for the CA, 5 years otherwise)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace existing files")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "ordo cert: --certs-dir is required and no arguments are taken")
		return nil, errors.New("bad usage")
	}
	if f.caKey == "" {
		f.caKey = filepath.Join(f.dir, caKeyFile)
	}
	return f, nil
}

func (f *certFlags) validity(def time.Duration) (time.Time, time.Time) {
	d := f.lifetime
	if d <= 0 {
		d = def
	}
	// An hour of slack for clocks that run behind.
	return f.now.Add(-time.Hour), f.now.Add(d)
}

// createCA writes a self-signed CA certificate and its key.
func createCA(f *certFlags) error {
	if err := f.checkFree(f.caKey, filepath.Join(f.dir, caCertFile)); err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl, err := f.template(pkix.Name{Organization: []string{"ordo"}, CommonName: "ordo CA"}, defaultCALifetime)
	if err != nil {
		return err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	if err := f.writeKey(f.caKey, key); err != nil {
		return err
	}
	return f.writeCert(filepath.Join(f.dir, caCertFile), der)
}

// createNode writes the node's server certificate, valid for --host.
func createNode(f *certFlags) error {
	hosts := f.hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	tmpl, err := f.template(pkix.Name{Organization: []string{"ordo"}, CommonName: "node"}, defaultCertLifetime)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	return f.signed(tmpl, nodeCertFile, nodeKeyFile)
}

// createClient writes a client certificate for --user (its common name).
func createClient(f *certFlags) error {
	if f.user == "" {
		return errors.New("--user must not be empty")
	}
	tmpl, err := f.template(pkix.Name{Organization: []string{"ordo"}, CommonName: f.user}, defaultCertLifetime)
	if err != nil {
		return err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return f.signed(tmpl, clientCertFile(f.user), clientKeyFile(f.user))
}

func (f *certFlags) template(subject pkix.Name, def time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	notBefore, notAfter := f.validity(def)
	return &x509.Certificate{
		SerialNumber: serial, Subject: subject, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature,
	}, nil
}

// signed signs tmpl with the CA of the directory and writes it and its new
// key.
func (f *certFlags) signed(tmpl *x509.Certificate, certName, keyName string) error {
	if err := f.checkFree(filepath.Join(f.dir, certName), filepath.Join(f.dir, keyName)); err != nil {
		return err
	}
	ca, caKey, err := f.loadCA()
	if err != nil {
		return err
	}
	if tmpl.NotAfter.After(ca.NotAfter) {
		tmpl.NotAfter = ca.NotAfter
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	if err := f.writeKey(filepath.Join(f.dir, keyName), key); err != nil {
		return err
	}
	return f.writeCert(filepath.Join(f.dir, certName), der)
}

func (f *certFlags) loadCA() (*x509.Certificate, any, error) {
	certPEM, err := os.ReadFile(filepath.Join(f.dir, caCertFile))
	if err != nil {
		return nil, nil, fmt.Errorf("read CA certificate (run create-ca first): %w", err)
	}
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%s: no PEM certificate", caCertFile)
	}
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(f.caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("read CA key: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, fmt.Errorf("%s: no PEM key", f.caKey)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.caKey, err)
	}
	return ca, key, nil
}

func (f *certFlags) writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return f.write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func (f *certFlags) writeCert(path string, der []byte) error {
	return f.write(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// checkFree fails if one of paths exists and --overwrite was not given, so
// that nothing is written.
func (f *certFlags) checkFree(paths ...string) error {
	if f.overwrite {
		return nil
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists (use --overwrite to replace it)", p)
		}
	}
	return nil
}

// write creates path with mode, refusing to replace a file unless
// --overwrite was given. Keys get 0600: libpq refuses readable ones.
func (f *certFlags) write(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if f.overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	file, err := os.OpenFile(path, flags, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists (use --overwrite to replace it)", path)
	}
	if err != nil {
		return err
	}
	if _, err := file.Write(data); err != nil {
		file.Close()
		return err
	}
	if err := file.Chmod(mode); err != nil {
		file.Close()
		return err
	}
	f.wrote = append(f.wrote, path)
	return file.Close()
}
