package pgwire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// fuzzServer is a server whose unexpected panics fail the fuzz run.
func fuzzServer(f *testing.F, mutate func(*Config)) *testServer {
	var mu sync.Mutex
	var panics []any
	ts := startTestServer(f, func(c *Config) {
		c.AuthTimeout = 2 * time.Second
		c.MaxMessageSize = 1 << 16
		c.TestingKnobs.OnPanic = func(v any) {
			if v != errTestPanic {
				mu.Lock()
				panics = append(panics, v)
				mu.Unlock()
			}
		}
		if mutate != nil {
			mutate(c)
		}
	})
	f.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(panics) > 0 {
			f.Errorf("panics: %v", panics)
		}
	})
	return ts
}

// exchange writes input, half-closes, and parses every reply until the
// server closes, checking the protocol invariants. It returns the replies.
func exchange(t *testing.T, addr string, input []byte, parse bool) []pgproto3.BackendMessage {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = nc.Write(input)
		_ = nc.(*net.TCPConn).CloseWrite()
	}()
	defer wg.Wait()
	if !parse { // single-byte SSL answers and version-2 errors are not v3 messages
		_, _ = io.Copy(io.Discard, nc)
		return nil
	}
	return readReplies(t, nc)
}

func readReplies(t *testing.T, r io.Reader) []pgproto3.BackendMessage {
	fe := pgproto3.NewFrontend(r, io.Discard)
	var out []pgproto3.BackendMessage
	for {
		msg, err := fe.Receive()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isConnReset(err) {
				t.Fatalf("malformed reply after %d messages: %v", len(out), err)
			}
			return out
		}
		if rfq, ok := msg.(*pgproto3.ReadyForQuery); ok && !bytes.ContainsRune([]byte("ITE"), rune(rfq.TxStatus)) {
			t.Fatalf("ReadyForQuery status %q", rfq.TxStatus)
		}
		out = append(out, msg)
	}
}

func encodeAll(msgs ...pgproto3.FrontendMessage) []byte {
	var buf []byte
	for _, m := range msgs {
		buf, _ = m.Encode(buf)
	}
	return buf
}

func startupBytes(user string) []byte {
	return encodeAll(&pgproto3.StartupMessage{
		ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters:      map[string]string{"user": user, "database": "db"},
	})
}

// FuzzStartup feeds arbitrary bytes to the handshake: SSL and GSS requests,
// cancel requests, startup packets, password and SASL messages.
func FuzzStartup(f *testing.F) {
	hba, err := ParseHBA("host all alice all scram-sha-256\nhost all bob all password\nhost all all all trust")
	if err != nil {
		f.Fatal(err)
	}
	ts := fuzzServer(f, func(c *Config) { c.HBA, c.Authenticator = hba, fuzzAuth() })
	f.Add(startupBytes("root"))
	f.Add(startupBytes("alice"))
	f.Add(append(startupBytes("bob"), encodeAll(&pgproto3.PasswordMessage{Password: "secret"})...))
	f.Add(append(startupBytes("alice"), encodeAll(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=abc")})...))
	f.Add(append(encodeAll(&pgproto3.SSLRequest{}), startupBytes("root")...))
	f.Add(append(encodeAll(&pgproto3.GSSEncRequest{}), startupBytes("root")...))
	f.Add(encodeAll(&pgproto3.CancelRequest{ProcessID: 1, SecretKey: []byte{1, 2, 3, 4}}))
	f.Add([]byte{0, 0, 0, 8, 0, 2, 0, 0})
	f.Fuzz(func(t *testing.T, input []byte) {
		exchange(t, ts.addr, input, false)
	})
}

func fuzzAuth() testAuth {
	return testAuth{
		"alice": {Name: "alice", CanLogin: true, Verifier: "SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$0mmQHJvZ4XQyZ5eZJDEUnm2iqS/DaHVeSS0EJB+WNo4=:Sd6ZPpiS3WeHC6ivDlgzWOHWQ4HqBCBlfVBIgHPoZpI="},
		"bob":   {Name: "bob", CanLogin: true},
		"root":  {Name: "root", Superuser: true, CanLogin: true},
	}
}

// FuzzSession feeds arbitrary bytes, framed or not, to an authenticated
// session and checks every reply parses and ReadyForQuery carries a valid
// status.
func FuzzSession(f *testing.F) {
	ts := fuzzServer(f, nil)
	f.Add(encodeAll(&pgproto3.Query{String: "SELECT 1"}))
	f.Add(encodeAll(&pgproto3.Query{String: "BEGIN"}, &pgproto3.Query{String: "SELECT 1/0"}, &pgproto3.Query{String: "COMMIT"}))
	f.Add(encodeAll(
		&pgproto3.Parse{Name: "s", Query: "SELECT $1::int8"},
		&pgproto3.Bind{PreparedStatement: "s", Parameters: [][]byte{[]byte("1")}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}))
	f.Add(encodeAll(
		&pgproto3.Parse{Query: "SELECT generate_series(1, 5)"}, &pgproto3.Bind{DestinationPortal: "c"},
		&pgproto3.Execute{Portal: "c", MaxRows: 2}, &pgproto3.Execute{Portal: "c"}, &pgproto3.Sync{}))
	f.Add(encodeAll(&pgproto3.Query{String: "COPY t FROM STDIN"}, &pgproto3.CopyData{Data: []byte("a\n")}, &pgproto3.CopyDone{}))
	f.Add(encodeAll(&pgproto3.Bind{PreparedStatement: "nosuch"}, &pgproto3.Execute{}, &pgproto3.Sync{}))
	f.Add([]byte{'Q', 0, 0, 0, 3})
	f.Add([]byte{'B', 0, 0, 0, 9, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, input []byte) {
		replies := exchange(t, ts.addr, append(startupBytes("root"), input...), true)
		if len(replies) == 0 {
			t.Fatal("no reply to a valid startup")
		}
		if _, ok := replies[0].(*pgproto3.AuthenticationOk); !ok {
			t.Fatalf("first reply %T", replies[0])
		}
	})
}
