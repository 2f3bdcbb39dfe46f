package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ordodb/ordo/pgwire"
)

// Files of a certificates directory, as `ordo cert` writes them.
const (
	CACertFile   = "ca.crt"
	NodeCertFile = "node.crt"
	NodeKeyFile  = "node.key"
)

// DefaultHBA is the rule set without --hba-conf: every connection, from
// anywhere, with or without TLS, is trusted (no password). It suits a local
// demo only; give a rule file for anything else.
const DefaultHBA = "host all all all trust\n"

// sqlSecurity loads the SQL listener's TLS configuration (nil without a
// certificates directory) and its host-based rules.
func sqlSecurity(cfg *Config) (*tls.Config, *pgwire.HBA, error) {
	var tlsCfg *tls.Config
	if cfg.CertsDir != "" {
		var err error
		if tlsCfg, err = LoadNodeTLS(cfg.CertsDir); err != nil {
			return nil, nil, err
		}
	}
	text := DefaultHBA
	if cfg.HBAConfFile != "" {
		b, err := os.ReadFile(cfg.HBAConfFile)
		if err != nil {
			return nil, nil, fmt.Errorf("server: hba conf: %w", err)
		}
		text = string(b)
	}
	hba, err := pgwire.ParseHBA(text)
	if err != nil {
		return nil, nil, fmt.Errorf("server: %s: %w", cfg.HBAConfFile, err)
	}
	if tlsCfg == nil && requiresTLS(hba) {
		return nil, nil, errors.New("server: the hba rules have hostssl lines but there is no --certs-dir")
	}
	return tlsCfg, hba, nil
}

func requiresTLS(h *pgwire.HBA) bool {
	for _, r := range h.Rules {
		if r.Type == pgwire.ConnTLS {
			return true
		}
	}
	return false
}

// LoadNodeTLS reads a certificates directory into the SQL listener's TLS
// configuration: the node's certificate and key, and the CA that client
// certificates, when a client presents one, must chain to.
func LoadNodeTLS(dir string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, NodeCertFile), filepath.Join(dir, NodeKeyFile))
	if err != nil {
		return nil, fmt.Errorf("server: node certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("server: CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("server: %s: no certificate", filepath.Join(dir, CACertFile))
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
	}, nil
}
