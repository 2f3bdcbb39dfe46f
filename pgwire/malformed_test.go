package pgwire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/ordodb/ordo/tests/pgtest"
)

// Builders of raw protocol bytes, so that cases can break any field.

func be16(v int) []byte          { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func be32(v int) []byte          { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
func cstr(s string) []byte       { return append([]byte(s), 0) }
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// msg frames a typed message with its correct length.
func msg(typ byte, body ...[]byte) []byte {
	b := cat(body...)
	return cat([]byte{typ}, be32(len(b)+4), b)
}

// msgLen frames a typed message with a given (wrong) length.
func msgLen(typ byte, n int, body ...[]byte) []byte { return cat([]byte{typ}, be32(n), cat(body...)) }

// packet frames a startup-phase packet with its correct length.
func packet(body ...[]byte) []byte {
	b := cat(body...)
	return cat(be32(len(b)+4), b)
}

func version(major, minor int) []byte { return be32(major<<16 | minor) }

func startupPacket(v []byte, params ...string) []byte {
	var b []byte
	for _, p := range params {
		b = append(b, cstr(p)...)
	}
	return packet(v, b, []byte{0})
}

var (
	goodStartup = startupPacket(version(3, 0), "user", "postgres", "database", "postgres")
	syncMsg     = msg('S')
	selectOne   = msg('Q', cstr("SELECT 1"))
	parseSelect = msg('P', cstr("s1"), cstr("SELECT $1::int8"), be16(1), be32(20))
)

// malformedCase is one malformed input. Cases with startup=true run on a
// session that completed startup; the bytes are then followed by Sync and
// "SELECT 1" to see whether the session is still usable.
type malformedCase struct {
	name    string
	startup bool
	send    []byte
	want    string // the outcome (see outcome.String)
	// pg, when set, is PostgreSQL's different outcome, for a deliberate
	// and documented difference.
	pg string
}

// malformedCases are run against PostgreSQL 15 and against ordo: both must
// give the expected outcome. "closed" is a close without a message (as
// PostgreSQL does for framing errors before it trusts the peer); "v2 error"
// is the protocol-2 error PostgreSQL sends to protocol-1/2 clients.
var malformedCases = []malformedCase{
	// Startup phase: lengths.
	{"startup length 0", false, be32(0), "closed", ""},
	{"startup length 4", false, cat(be32(4), version(3, 0)), "closed", ""},
	{"startup length 7", false, cat(be32(7), version(3, 0)), "closed", ""},
	{"startup length over 10000", false, cat(be32(10001), version(3, 0)), "closed", ""},
	{"startup length negative", false, cat(be32(-8), version(3, 0)), "closed", ""},
	{"startup length 2^31-1", false, cat(be32(1<<31-1), version(3, 0)), "closed", ""},
	{"startup truncated body", false, cat(be32(40), version(3, 0), cstr("user")), "closed", ""},
	{"startup half a length", false, []byte{0, 0}, "closed", ""},
	{"nothing sent", false, nil, "closed", ""},
	// Startup phase: versions and layout.
	{"protocol 2.0", false, startupPacket(version(2, 0), "user", "postgres"), "v2 error", ""},
	{"protocol 1.0", false, startupPacket(version(1, 0), "user", "postgres"), "v2 error", ""},
	{"protocol 4.0", false, startupPacket(version(4, 0), "user", "postgres"), "E 0A000 FATAL; closed", ""},
	{"protocol 0.0", false, startupPacket(version(0, 0), "user", "postgres"), "E 0A000 FATAL; closed", ""},
	{"unknown request code", false, packet(version(1234, 5681)), "E 0A000 FATAL; closed", ""},
	{"no user", false, startupPacket(version(3, 0), "database", "postgres"), "E 28000 FATAL; closed", ""},
	{"empty user", false, startupPacket(version(3, 0), "user", ""), "E 28000 FATAL; closed", ""},
	{"parameters not terminated", false, packet(version(3, 0), cstr("user"), cstr("postgres")), "E 08P01 FATAL; closed", ""},
	{"parameter without value", false, packet(version(3, 0), cstr("user"), cstr("postgres"), cstr("database"), []byte{0}), "E 08P01 FATAL; closed", ""},
	{"name without NUL", false, packet(version(3, 0), []byte("user")), "E 08P01 FATAL; closed", ""},
	{"bytes after terminator", false, packet(version(3, 0), cstr("user"), cstr("postgres"), []byte{0, 'x'}), "E 08P01 FATAL; closed", ""},
	{"SSLRequest then close", false, packet(be32(80877103)), "N; closed", ""},
	{"GSSENCRequest then close", false, packet(be32(80877104)), "N; closed", "G; closed"}, // Debian's PostgreSQL offers GSSAPI encryption
	{"CancelRequest unknown key", false, packet(be32(80877102), be32(12345), be32(678)), "closed", ""},
	{"CancelRequest truncated", false, cat(be32(16), be32(80877102), be32(1)), "closed", ""},
	// After startup: framing.
	{"unknown message type", true, msg('?'), "E 08P01 FATAL; closed", ""},
	{"message type 0", true, msg(0, []byte("xx")), "E 08P01 FATAL; closed", ""},
	{"message type 0xff", true, msg(0xff), "E 08P01 FATAL; closed", ""},
	{"password message after startup", true, msg('p', cstr("pw")), "E 08P01 FATAL; closed", ""},
	{"length 0", true, msgLen('Q', 0), "E 08P01 FATAL; closed", pgSilentClose},
	{"length 3", true, msgLen('Q', 3), "E 08P01 FATAL; closed", pgSilentClose},
	{"length negative", true, msgLen('Q', -5), "E 08P01 FATAL; closed", pgSilentClose},
	{"length 2^31-1", true, msgLen('Q', 1<<31-1), "E 08P01 FATAL; closed", pgSilentClose},
	{"truncated body then close", true, msgLen('Q', 100, []byte("SELE")), "closed", ""},
	// Query.
	{"Query without NUL", true, msg('Q', []byte("SELECT 1")), "E 08P01; alive", ""},
	{"Query empty body", true, msg('Q'), "E 08P01; alive", ""},
	{"Query bytes after NUL", true, msg('Q', cstr("SELECT 1"), []byte("xyz")), "E 08P01; alive", ""},
	// Parse.
	{"Parse empty body", true, msg('P'), "E 08P01; alive", ""},
	{"Parse without query", true, msg('P', cstr("s")), "E 08P01; alive", ""},
	{"Parse without param count", true, msg('P', cstr("s"), cstr("SELECT 1")), "E 08P01; alive", ""},
	{"Parse param count beyond data", true, msg('P', cstr("s"), cstr("SELECT 1"), be16(3), be32(23)), "E 08P01; alive", ""},
	{"Parse bytes after params", true, msg('P', cstr("s"), cstr("SELECT 1"), be16(0), []byte{1}), "E 08P01; alive", ""},
	{"Parse duplicate name", true, cat(parseSelect, parseSelect), "E 42P05; alive", ""},
	// Bind.
	{"Bind empty body", true, msg('B'), "E 08P01; alive", ""},
	{"Bind unknown statement", true, msg('B', cstr(""), cstr("nope"), be16(0), be16(0), be16(0)), "E 26000; alive", ""},
	{"Bind truncated formats", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(2))), "E 08P01; alive", ""},
	{"Bind formats/params mismatch", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(2), be16(0), be16(0), be16(1), be32(1), []byte("1"), be16(0))), "E 08P01; alive", ""},
	{"Bind too few params", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(0), be16(0), be16(0))), "E 08P01; alive", ""},
	{"Bind param format 7", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(1), be16(7), be16(1), be32(1), []byte("1"), be16(0))), "E 22023; alive", ""},
	{"Bind result format 2", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(0), be16(1), be32(1), []byte("1"), be16(1), be16(2)), msg('E', cstr(""), be32(0))), "E 22023; alive", ""},
	{"Bind param length -2", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(0), be16(1), be32(-2), be16(0))), "E 08P01; alive", ""},
	{"Bind param longer than message", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(0), be16(1), be32(100), []byte("1"), be16(0))), "E 08P01; alive", ""},
	{"Bind bytes after formats", true, cat(parseSelect, msg('B', cstr(""), cstr("s1"), be16(0), be16(1), be32(1), []byte("1"), be16(0), []byte{9})), "E 08P01; alive", ""},
	// Describe, Execute, Close.
	{"Describe bad kind", true, msg('D', []byte{'X'}, cstr("")), "E 08P01; alive", ""},
	{"Describe empty body", true, msg('D'), "E 08P01; alive", ""},
	{"Describe name without NUL", true, msg('D', []byte{'S'}, []byte("s1")), "E 08P01; alive", ""},
	{"Describe unknown statement", true, msg('D', []byte{'S'}, cstr("nope")), "E 26000; alive", ""},
	{"Describe unknown portal", true, msg('D', []byte{'P'}, cstr("nope")), "E 34000; alive", ""},
	{"Execute unknown portal", true, msg('E', cstr("nope"), be32(0)), "E 34000; alive", ""},
	{"Execute without row limit", true, msg('E', cstr("")), "E 08P01; alive", ""},
	{"Close bad kind", true, msg('C', []byte{'Z'}, cstr("x")), "E 08P01; alive", ""},
	{"Close empty body", true, msg('C'), "E 08P01; alive", ""},
	{"Describe bytes after name", true, cat(parseSelect, msg('D', []byte{'S'}, cstr("s1"), []byte{1})), "E 08P01; alive", ""},
	{"Execute bytes after row limit", true, msg('E', cstr(""), be32(0), []byte{1}), "E 08P01; alive", ""},
	{"Close bytes after name", true, msg('C', []byte{'S'}, cstr("x"), []byte{1}), "E 08P01; alive", ""},
	{"Sync with a body", true, msg('S', []byte{1}), "E 08P01; alive", ""},
	{"Flush with a body", true, msg('H', []byte{1}), "E 08P01; alive", ""},
	{"errors skip to Sync", true, cat(msg('B', cstr(""), cstr("nope"), be16(0), be16(0), be16(0)), msg('E', cstr(""), be32(0)), msg('D', []byte{'X'}, cstr(""))), "E 26000; alive", ""},
}

// pgSilentClose is PostgreSQL's outcome for a bad message length after
// startup: it logs the error (COMMERROR) and closes without a word. ordo
// tells the client why (FATAL 08P01) before closing.
const pgSilentClose = "closed"

// outcome is what a client saw after sending a case.
type outcome struct {
	steps []string
}

func (o *outcome) String() string { return strings.Join(o.steps, "; ") }

// probe runs one case against addr.
func probe(t *testing.T, addr string, c malformedCase) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	send := c.send
	if c.startup {
		if err := startupRaw(nc); err != nil {
			t.Fatalf("startup: %v", err)
		}
		send = cat(send, syncMsg, selectOne)
	}
	if len(send) > 0 {
		_, _ = nc.Write(send)
	}
	_ = nc.(*net.TCPConn).CloseWrite()
	return readOutcome(t, nc, c.startup)
}

// startupRaw runs a trusted startup to the first ReadyForQuery.
func startupRaw(nc net.Conn) error {
	if _, err := nc.Write(goodStartup); err != nil {
		return err
	}
	fe := pgproto3.NewFrontend(nc, nc)
	for {
		m, err := fe.Receive()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *pgproto3.ReadyForQuery:
			return nil
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("%s %s", m.Code, m.Message)
		}
	}
}

// readOutcome reads what the server sends until it closes or, after
// "SELECT 1" was answered, it is ready again.
func readOutcome(t *testing.T, nc net.Conn, startup bool) string {
	t.Helper()
	var r io.Reader = nc
	if !startup {
		all, err := io.ReadAll(nc)
		if err != nil && !isConnReset(err) {
			t.Fatalf("read: %v", err)
		}
		switch {
		case len(all) == 1:
			return string(all) + "; closed"
		case len(all) > 1 && all[0] == 'E' && bytes.HasPrefix(all[1:], []byte("FATAL:  ")):
			return "v2 error"
		}
		r = bytes.NewReader(all)
	}
	o := &outcome{}
	fe := pgproto3.NewFrontend(r, io.Discard)
	alive := false
	for {
		m, err := fe.Receive()
		if err != nil {
			o.steps = append(o.steps, "closed")
			return o.String()
		}
		switch m := m.(type) {
		case *pgproto3.ErrorResponse:
			s := "E " + m.Code
			if m.Severity == "FATAL" {
				s += " FATAL"
			}
			o.steps = append(o.steps, s)
		case *pgproto3.CommandComplete:
			alive = string(m.CommandTag) == "SELECT 1"
		case *pgproto3.ReadyForQuery:
			if alive {
				o.steps = append(o.steps, "alive")
				return o.String()
			}
		}
	}
}

// TestMalformedInputMatchesPostgres runs every malformed case against
// PostgreSQL 15, to prove the expectations, then against ordo, whose
// goroutines and file descriptors must return to their baseline.
func TestMalformedInputMatchesPostgres(t *testing.T) {
	if len(malformedCases) < 60 {
		t.Fatalf("%d cases; keep at least 60", len(malformedCases))
	}
	pg := pgtest.Start(t)
	t.Run("postgres", func(t *testing.T) {
		for _, c := range malformedCases {
			want := c.want
			if c.pg != "" {
				want = c.pg
			}
			if got := probe(t, pg.Addr(), c); got != want {
				t.Errorf("%s: PostgreSQL gave %q, the case expects %q", c.name, got, want)
			}
		}
	})
	t.Run("ordo", func(t *testing.T) {
		ts := startTestServer(t, func(c *Config) {
			c.TestingKnobs.OnPanic = func(v any) { t.Errorf("panic: %v", v) }
		})
		runtime.GC()
		baseG, baseFD := runtime.NumGoroutine(), openFDs(t)
		for _, c := range malformedCases {
			if got := probe(t, ts.addr, c); got != c.want {
				t.Errorf("%s: ordo gave %q, want %q", c.name, got, c.want)
			}
		}
		waitBaseline(t, ts, baseG, baseFD)
	})
}

// waitBaseline waits until the server has no connection or session left
// and the process's goroutines and open fds are back to their baseline.
func waitBaseline(t *testing.T, ts *testServer, baseG, baseFD int) {
	t.Helper()
	waitFor(t, "connections and sessions to close", 10*time.Second, func() bool {
		return ts.NumConns() == 0 && ts.exec.openSessions() == 0
	})
	waitFor(t, fmt.Sprintf("goroutines back to %d and fds back to %d", baseG, baseFD), 10*time.Second, func() bool {
		return runtime.NumGoroutine() <= baseG && openFDs(t) <= baseFD
	})
}
