package pgwire

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/ordodb/ordo/tests/pgtest"
)

// TestProtocolScripts runs the scripts in testdata/scripts first against a
// real PostgreSQL 15, which proves the expectations are PostgreSQL's (and
// writes them with -rewrite), then against ordo with the test executor,
// which must produce the same output.
//
// Directives (one connection per file, opened lazily):
//
//	connect              start up as user postgres (database postgres); print nothing
//	send                 one frontend message per line: Type {json}
//	send_raw             hex bytes written as they are
//	ssl_request          send SSLRequest and print the one-byte answer
//	until [ignore=A,B]   read until each listed type has arrived in order;
//	                     print what arrived (except ignored types)
//	expect_close         read until the server closes; print what arrived
//	read_raw             read bytes until the server closes; print them quoted
func TestProtocolScripts(t *testing.T) {
	pg := pgtest.Start(t)
	ordo := startTestServer(t, nil)
	datadriven.Walk(t, filepath.Join("testdata", "scripts"), func(t *testing.T, path string) {
		t.Run("postgres", func(t *testing.T) {
			runScript(t, path, pg.Addr(), false)
		})
		t.Run("ordo", func(t *testing.T) {
			runScript(t, path, ordo.addr, true)
		})
	})
}

func runScript(t *testing.T, path, addr string, compareOnRewrite bool) {
	sc := &scriptConn{addr: addr}
	defer sc.close()
	datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
		out := sc.do(t, td)
		if td.Rewrite && compareOnRewrite {
			if out != td.Expected {
				t.Errorf("%s: %s: ordo differs from PostgreSQL\n--- postgres\n%s--- ordo\n%s", td.Pos, td.Cmd, td.Expected, out)
			}
			return td.Expected
		}
		return out
	})
}

type scriptConn struct {
	addr string
	nc   net.Conn
	fe   *pgproto3.Frontend
}

func (sc *scriptConn) close() {
	if sc.nc != nil {
		sc.nc.Close()
	}
}

func (sc *scriptConn) conn(t *testing.T) net.Conn {
	if sc.nc == nil {
		nc, err := net.Dial("tcp", sc.addr)
		if err != nil {
			t.Fatal(err)
		}
		sc.nc = nc
		sc.fe = pgproto3.NewFrontend(nc, nc)
	}
	_ = sc.nc.SetDeadline(time.Now().Add(10 * time.Second))
	return sc.nc
}

func (sc *scriptConn) do(t *testing.T, td *datadriven.TestData) string {
	nc := sc.conn(t)
	switch td.Cmd {
	case "send":
		for _, line := range nonEmptyLines(td.Input) {
			sc.fe.Send(parseFrontendMessage(t, line))
		}
		if err := sc.fe.Flush(); err != nil {
			t.Fatalf("%s: send: %v", td.Pos, err)
		}
		return ""
	case "send_raw":
		b, err := hex.DecodeString(strings.Join(strings.Fields(td.Input), ""))
		if err != nil {
			t.Fatalf("%s: %v", td.Pos, err)
		}
		if _, err := nc.Write(b); err != nil {
			t.Fatalf("%s: send_raw: %v", td.Pos, err)
		}
		return ""
	case "ssl_request":
		return sc.sslRequest(t)
	case "connect":
		return sc.connect(t, td)
	case "until":
		return sc.until(t, td)
	case "expect_close":
		return sc.expectClose()
	case "read_raw":
		b, _ := io.ReadAll(nc)
		return fmt.Sprintf("%q\n", b)
	}
	t.Fatalf("%s: unknown directive %q", td.Pos, td.Cmd)
	return ""
}

func (sc *scriptConn) connect(t *testing.T, td *datadriven.TestData) string {
	sc.fe.Send(&pgproto3.StartupMessage{
		ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters:      map[string]string{"user": "postgres", "database": "postgres"},
	})
	if err := sc.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := sc.fe.Receive()
		if err != nil {
			t.Fatalf("%s: connect: %v", td.Pos, err)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return ""
		}
	}
}

func (sc *scriptConn) sslRequest(t *testing.T) string {
	sc.fe.Send(&pgproto3.SSLRequest{})
	if err := sc.fe.Flush(); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := io.ReadFull(sc.nc, b[:]); err != nil {
		t.Fatal(err)
	}
	return string(b[:]) + "\n"
}

func (sc *scriptConn) until(t *testing.T, td *datadriven.TestData) string {
	ignore := map[string]bool{}
	if arg, ok := td.Arg("ignore"); ok {
		for _, v := range arg.Vals {
			ignore[v] = true
		}
	}
	var out strings.Builder
	for _, want := range nonEmptyLines(td.Input) {
		for {
			msg, err := sc.fe.Receive()
			if err != nil {
				t.Fatalf("%s: waiting for %s: %v\n%s", td.Pos, want, err, out.String())
			}
			typ := msgType(msg)
			if !ignore[typ] {
				out.WriteString(formatBackendMessage(t, msg))
			}
			if typ == want {
				break
			}
		}
	}
	return out.String()
}

func (sc *scriptConn) expectClose() string {
	var out strings.Builder
	for {
		msg, err := sc.fe.Receive()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isConnReset(err) {
				out.WriteString("<closed>\n")
			} else {
				fmt.Fprintf(&out, "<error %v>\n", err)
			}
			return out.String()
		}
		out.WriteString(formatBackendMessage(nil, msg))
	}
}

func isConnReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func frontendMessage(typ string) pgproto3.FrontendMessage {
	switch typ {
	case "Query":
		return &pgproto3.Query{}
	case "Parse":
		return &pgproto3.Parse{}
	case "Bind":
		return &pgproto3.Bind{}
	case "Describe":
		return &pgproto3.Describe{}
	case "Execute":
		return &pgproto3.Execute{}
	case "Sync":
		return &pgproto3.Sync{}
	case "Flush":
		return &pgproto3.Flush{}
	case "Close":
		return &pgproto3.Close{}
	case "Terminate":
		return &pgproto3.Terminate{}
	case "CopyData":
		return &pgproto3.CopyData{}
	case "CopyDone":
		return &pgproto3.CopyDone{}
	case "CopyFail":
		return &pgproto3.CopyFail{}
	case "StartupMessage":
		return &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30}
	case "PasswordMessage":
		return &pgproto3.PasswordMessage{}
	}
	return nil
}

func parseFrontendMessage(t *testing.T, line string) pgproto3.FrontendMessage {
	typ, body, _ := strings.Cut(line, " ")
	msg := frontendMessage(typ)
	if msg == nil {
		t.Fatalf("unknown frontend message type %q", typ)
	}
	if body = strings.TrimSpace(body); body != "" {
		if err := json.Unmarshal([]byte(body), msg); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	return msg
}

func msgType(msg pgproto3.BackendMessage) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}

// formatBackendMessage prints a message as "Type {json}" with the parts that
// legitimately differ between servers removed: source locations of errors,
// backend keys, the server version.
func formatBackendMessage(t *testing.T, msg pgproto3.BackendMessage) string {
	b, err := json.Marshal(msg)
	if err != nil && t != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	typ := msgType(msg)
	delete(m, "Type")
	switch typ {
	case "ErrorResponse", "NoticeResponse":
		for _, k := range []string{"File", "Line", "Routine", "UnknownFields"} {
			delete(m, k)
		}
		for k, v := range m {
			if v == "" || v == float64(0) || v == nil {
				delete(m, k)
			}
		}
	case "BackendKeyData":
		m = map[string]any{}
	case "ParameterStatus":
		if m["Name"] == "server_version" {
			m["Value"] = "REDACTED"
		}
	}
	if len(m) == 0 {
		return typ + "\n"
	}
	b, _ = json.Marshal(m)
	return typ + " " + string(b) + "\n"
}
