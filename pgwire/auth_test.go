package pgwire

import (
	"context"
	"strings"
	"testing"

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
