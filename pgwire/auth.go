package pgwire

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/pgwire/scram"
)

// authenticate applies the host-based rules and runs the chosen exchange.
// It returns whether the user is a superuser.
func (c *conn) authenticate(ctx context.Context) (bool, error) {
	rule, ok := c.srv.cfg.HBA.Match(HBAConn{
		Addr: c.remoteAddr(), TLS: c.tls, User: c.user, Database: c.database,
	})
	if !ok {
		return false, c.hbaError("no pg_hba.conf entry for")
	}
	if rule.Method == AuthReject {
		return false, c.hbaError("pg_hba.conf rejects connection for")
	}
	info, found, err := c.lookupUser(ctx)
	if err != nil {
		return false, err
	}
	switch rule.Method {
	case AuthPassword:
		err = c.authPassword(info, found)
	case AuthSCRAM:
		err = c.authSCRAM(info, found)
	case AuthCert:
		err = c.authCert()
	}
	if err != nil {
		return false, err
	}
	return info.Superuser, c.checkLogin(info, found)
}

func (c *conn) hbaError(prefix string) error {
	enc := "no encryption"
	if c.tls {
		enc = "SSL encryption"
	}
	host := c.remoteAddr().String()
	return pgcode.New(pgcode.InvalidAuthorizationSpecification,
		"%s host %q, user %q, database %q, %s", prefix, host, c.user, c.database, enc).Fatal()
}

func (c *conn) lookupUser(ctx context.Context) (UserInfo, bool, error) {
	a := c.srv.cfg.Authenticator
	if a == nil {
		return UserInfo{Name: c.user, Superuser: true, CanLogin: true}, true, nil
	}
	info, found, err := a.LookupUser(ctx, c.user)
	if err != nil {
		return info, false, fmt.Errorf("pgwire: look up user %q: %w", c.user, err)
	}
	return info, found, nil
}

// checkLogin runs after a successful exchange (or trust), as PostgreSQL
// checks the role only once the password is known to be right.
func (c *conn) checkLogin(info UserInfo, found bool) error {
	if !found {
		return pgcode.New(pgcode.InvalidAuthorizationSpecification, "role %q does not exist", c.user).Fatal()
	}
	if !info.CanLogin {
		return pgcode.New(pgcode.InvalidAuthorizationSpecification, "role %q is not permitted to log in", c.user).Fatal()
	}
	return nil
}

// authCert accepts a client certificate that the TLS handshake verified
// against the configured CAs and whose common name is the user name, as
// PostgreSQL's cert method does without a user name map.
func (c *conn) authCert() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok || len(tc.ConnectionState().VerifiedChains) == 0 {
		return pgcode.New(pgcode.InvalidAuthorizationSpecification, "connection requires a valid client certificate").Fatal()
	}
	if tc.ConnectionState().PeerCertificates[0].Subject.CommonName != c.user {
		return pgcode.New(pgcode.InvalidAuthorizationSpecification, "certificate authentication failed for user %q", c.user).Fatal()
	}
	return nil
}

func (c *conn) errPasswordFailed() error {
	return pgcode.New(pgcode.InvalidPassword, "password authentication failed for user %q", c.user).Fatal()
}

// readAuthMessage reads the client's answer to an authentication request.
func (c *conn) readAuthMessage() ([]byte, error) {
	if err := c.wr.flush(); err != nil {
		return nil, err
	}
	typ, body, err := c.rd.readMessage()
	if err != nil {
		var ut unknownTypeError
		if errors.As(err, &ut) {
			return nil, pgcode.New(pgcode.ProtocolViolation, "expected password response, got message type %d", ut.typ).Fatal()
		}
		return nil, err
	}
	if typ != 'p' {
		return nil, pgcode.New(pgcode.ProtocolViolation, "expected password response, got message type %d", typ).Fatal()
	}
	return body, nil
}

func (c *conn) authPassword(info UserInfo, found bool) error {
	c.wr.send(&pgproto3.AuthenticationCleartextPassword{})
	body, err := c.readAuthMessage()
	if err != nil {
		return err
	}
	var m pgproto3.PasswordMessage
	if err := m.Decode(body); err != nil {
		return pgcode.New(pgcode.ProtocolViolation, "invalid password packet size").Fatal()
	}
	v, verr := scram.ParseVerifier(info.Verifier)
	if !found || verr != nil || !v.CheckPassword(m.Password) {
		return c.errPasswordFailed()
	}
	return nil
}

func (c *conn) authSCRAM(info UserInfo, found bool) error {
	nonce, err := c.serverNonce()
	if err != nil {
		return err
	}
	ex := c.scramSession(info, found, nonce)
	c.wr.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scram.Mechanism}})
	first, err := c.readSASLInitial()
	if err != nil {
		return err
	}
	serverFirst, err := ex.ClientFirst(first)
	if err != nil {
		return c.scramError(err)
	}
	c.wr.send(&pgproto3.AuthenticationSASLContinue{Data: serverFirst})
	body, err := c.readAuthMessage()
	if err != nil {
		return err
	}
	var resp pgproto3.SASLResponse
	if err := resp.Decode(body); err != nil {
		return c.scramError(scram.ErrMalformed)
	}
	serverFinal, err := ex.ClientFinal(resp.Data)
	if err != nil {
		return c.scramError(err)
	}
	c.wr.send(&pgproto3.AuthenticationSASLFinal{Data: serverFinal})
	return nil
}

// scramSession picks a real exchange, or a mock one for an unknown user or a
// user without a usable password, which fails at the end like a wrong
// password would.
func (c *conn) scramSession(info UserInfo, found bool, nonce string) *scram.ServerSession {
	if found {
		if v, err := scram.ParseVerifier(info.Verifier); err == nil {
			return scram.NewServerSession(v, nonce)
		}
	}
	return scram.NewMockServerSession(scram.MockVerifier(c.user, c.srv.mockAuthSecret(c.srv.ctx)), nonce)
}

// mockAuthSecret is the Authenticator's cluster-wide secret for mock
// exchanges (see pgwirebase.MockSecreter), fetched once, or this server's
// random one when the Authenticator has none or cannot give it now.
func (s *Server) mockAuthSecret(ctx context.Context) []byte {
	if p := s.mockShared.Load(); p != nil {
		return *p
	}
	ms, ok := s.cfg.Authenticator.(pgwirebase.MockSecreter)
	if !ok {
		return s.mockSecret
	}
	secret, err := ms.MockAuthSecret(ctx)
	if err != nil || len(secret) == 0 {
		s.cfg.Logger.Warn("pgwire: mock authentication secret unavailable; using a per-server one", "err", err)
		return s.mockSecret
	}
	s.mockShared.Store(&secret)
	return secret
}

func (c *conn) readSASLInitial() ([]byte, error) {
	body, err := c.readAuthMessage()
	if err != nil {
		return nil, err
	}
	var m pgproto3.SASLInitialResponse
	if err := m.Decode(body); err != nil {
		return nil, c.scramError(scram.ErrMalformed)
	}
	if m.AuthMechanism != scram.Mechanism {
		return nil, pgcode.New(pgcode.ProtocolViolation, "client selected an invalid SASL authentication mechanism").Fatal()
	}
	return m.Data, nil
}

func (c *conn) scramError(err error) error {
	switch {
	case errors.Is(err, scram.ErrAuthFailed):
		return c.errPasswordFailed()
	case errors.Is(err, scram.ErrChannelBinding):
		e := pgcode.New(pgcode.ProtocolViolation, "malformed SCRAM message")
		e.Detail = "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data."
		return e.Fatal()
	default:
		return pgcode.New(pgcode.ProtocolViolation, "malformed SCRAM message").Fatal()
	}
}

func (c *conn) serverNonce() (string, error) {
	b := make([]byte, 18)
	if _, err := io.ReadFull(c.srv.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("pgwire: random: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// InitialParams is a helper for Session implementations: the node defaults
// with the startup parameters that PostgreSQL reports applied on top
// (application_name, client_encoding, DateStyle, IntervalStyle, TimeZone;
// names matched case-insensitively, values as sent).
func InitialParams(args pgwirebase.SessionArgs) []pgwirebase.Param {
	return pgwirebase.InitialParams(args)
}
