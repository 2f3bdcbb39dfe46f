package pgwire

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// Startup packet codes.
const (
	codeSSLRequest    = 80877103
	codeGSSENCRequest = 80877104
	codeCancelRequest = 80877102
	protocolMajor     = 3
)

// errCancelDone ends a connection that carried a CancelRequest.
var errCancelDone = errors.New("pgwire: cancel request handled")

// startupMsg is a decoded StartupMessage.
type startupMsg struct {
	major, minor uint32
	params       map[string]string
	protoOptions []string // "_pq_." options we do not recognise
}

// startup runs the handshake up to the first ReadyForQuery.
func (c *conn) startup() error {
	cfg := &c.srv.cfg
	if err := c.nc.SetDeadline(cfg.Now().Add(cfg.AuthTimeout)); err != nil {
		return err
	}
	sm, err := c.negotiate()
	if err != nil {
		return err
	}
	if err := c.checkStartup(sm); err != nil {
		return err
	}
	superuser, err := c.authenticate(c.srv.ctx)
	if err != nil {
		return err
	}
	if err := c.startSession(sm, superuser); err != nil {
		return err
	}
	if f := cfg.TestingKnobs.AfterAuth; f != nil {
		f()
	}
	return c.nc.SetDeadline(time.Time{})
}

// negotiate reads startup packets until a StartupMessage, answering SSL and
// GSSAPI encryption requests and handling a CancelRequest.
func (c *conn) negotiate() (*startupMsg, error) {
	for {
		body, err := c.rd.readStartup()
		if err != nil {
			return nil, err
		}
		code := binary.BigEndian.Uint32(body)
		switch code {
		case codeSSLRequest:
			if err := c.handleSSLRequest(len(body)); err != nil {
				return nil, err
			}
		case codeGSSENCRequest:
			c.wr.sendRaw([]byte{'N'})
			if err := c.wr.flush(); err != nil {
				return nil, err
			}
		case codeCancelRequest:
			c.handleCancelRequest(body)
			return nil, errCancelDone
		default:
			return parseStartupMessage(body)
		}
	}
}

func (c *conn) handleSSLRequest(n int) error {
	if n != 4 || c.tls {
		return pgcode.New(pgcode.ProtocolViolation, "invalid SSL negotiation").Fatal()
	}
	if c.srv.cfg.TLS == nil {
		c.wr.sendRaw([]byte{'N'})
		return c.wr.flush()
	}
	if c.rd.buffered() > 0 {
		return pgcode.New(pgcode.ProtocolViolation, "received unencrypted data after SSL request").Fatal()
	}
	c.wr.sendRaw([]byte{'S'})
	if err := c.wr.flush(); err != nil {
		return err
	}
	tc := tls.Server(c.raw, c.srv.cfg.TLS)
	if err := tc.HandshakeContext(c.srv.ctx); err != nil {
		return fmt.Errorf("pgwire: tls handshake: %w", err)
	}
	c.nc, c.tls = tc, true
	c.rd = newMsgReader(tc, c.srv.cfg.MaxMessageSize)
	c.wr = newMsgWriter(tc)
	return nil
}

func (c *conn) handleCancelRequest(body []byte) {
	if len(body) < 12 || len(body) > 264 {
		return
	}
	pid := binary.BigEndian.Uint32(body[4:])
	c.srv.dispatchCancel(pid, body[8:])
}

// parseStartupMessage decodes a StartupMessage body: version, then
// name/value pairs ending with an empty name.
func parseStartupMessage(body []byte) (*startupMsg, error) {
	v := binary.BigEndian.Uint32(body)
	sm := &startupMsg{major: v >> 16, minor: v & 0xffff, params: map[string]string{}}
	if sm.major == 1 || sm.major == 2 {
		return nil, errOldProtocol{sm.major, sm.minor}
	}
	if sm.major != protocolMajor {
		return nil, pgcode.New(pgcode.FeatureNotSupported,
			"unsupported frontend protocol %d.%d: server supports %d.0 to %d.0",
			sm.major, sm.minor, protocolMajor, protocolMajor).Fatal()
	}
	rest := body[4:]
	for len(rest) > 0 && rest[0] != 0 {
		name, value, tail, ok := cutPair(rest)
		if !ok {
			return nil, errStartupLayout()
		}
		if strings.HasPrefix(name, "_pq_.") {
			sm.protoOptions = append(sm.protoOptions, name)
		} else {
			sm.params[name] = value
		}
		rest = tail
	}
	if len(rest) != 1 {
		return nil, errStartupLayout()
	}
	return sm, nil
}

// errOldProtocol is a request for protocol 1.0 or 2.0, answered as
// PostgreSQL does: a version-2 error message ('E', text, NUL).
type errOldProtocol struct{ major, minor uint32 }

func (e errOldProtocol) Error() string {
	return fmt.Sprintf("unsupported frontend protocol %d.%d: server supports %d.0 to %d.0",
		e.major, e.minor, protocolMajor, protocolMajor)
}

func (e errOldProtocol) v2Message() []byte {
	return append([]byte("EFATAL:  "+e.Error()+"\n"), 0)
}

func errStartupLayout() error {
	return pgcode.New(pgcode.ProtocolViolation,
		"invalid startup packet layout: expected terminator as last byte").Fatal()
}

func cutPair(b []byte) (name, value string, rest []byte, ok bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", "", nil, false
	}
	j := bytes.IndexByte(b[i+1:], 0)
	if j < 0 {
		return "", "", nil, false
	}
	return string(b[:i]), string(b[i+1 : i+1+j]), b[i+2+j:], true
}

// checkStartup applies the checks PostgreSQL makes on a StartupMessage, in
// its order: protocol negotiation, user name, connection limit.
func (c *conn) checkStartup(sm *startupMsg) error {
	if sm.minor > 0 || len(sm.protoOptions) > 0 {
		c.wr.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: protocolMajor << 16, UnrecognizedOptions: sm.protoOptions})
	}
	c.user = sm.params["user"]
	if c.user == "" {
		return errNoUser
	}
	c.database = sm.params["database"]
	if c.database == "" {
		c.database = c.user
	}
	if !c.srv.acquireSlot(c) {
		return errTooManyConns
	}
	return nil
}

// startSession creates the SQL session and sends AuthenticationOk, the
// reported parameters, BackendKeyData and the first ReadyForQuery.
func (c *conn) startSession(sm *startupMsg, superuser bool) error {
	c.wr.send(&pgproto3.AuthenticationOk{})
	args := pgwirebase.SessionArgs{
		User: c.user, Database: c.database, Superuser: superuser,
		RemoteAddr: c.raw.RemoteAddr(), StartupParams: map[string]string{},
		Defaults: c.defaultParams(superuser), ProcessID: c.srv.newProcessID(),
	}
	for k, v := range sm.params {
		if k != "user" && k != "database" {
			args.StartupParams[k] = v
		}
	}
	sess, err := c.srv.cfg.Executor.NewSession(c.srv.ctx, args)
	if err != nil {
		return err
	}
	c.sess = sess
	c.startActivity(sess)
	c.sendParams(sess.Params())
	if err := c.sendBackendKey(args.ProcessID); err != nil {
		return err
	}
	c.wr.send(&pgproto3.ReadyForQuery{TxStatus: byte(sess.TxnStatus())})
	return c.wr.flush()
}

// defaultParams are the node's values of PostgreSQL 15's reported
// (GUC_REPORT) parameters before startup options apply.
func (c *conn) defaultParams(superuser bool) []pgwirebase.Param {
	onOff := map[bool]string{true: "on", false: "off"}
	return []pgwirebase.Param{
		{Name: "application_name", Value: ""},
		{Name: "client_encoding", Value: "UTF8"},
		{Name: "DateStyle", Value: "ISO, MDY"},
		{Name: "default_transaction_read_only", Value: "off"},
		{Name: "in_hot_standby", Value: "off"},
		{Name: "integer_datetimes", Value: "on"},
		{Name: "IntervalStyle", Value: "postgres"},
		{Name: "is_superuser", Value: onOff[superuser]},
		{Name: "server_encoding", Value: "UTF8"},
		{Name: "server_version", Value: c.srv.cfg.ServerVersion},
		{Name: "session_authorization", Value: c.user},
		{Name: "standard_conforming_strings", Value: "on"},
		{Name: "TimeZone", Value: c.srv.cfg.TimeZone},
	}
}

// sendParams sends ParameterStatus messages sorted by name as PostgreSQL
// does (case-insensitively).
func (c *conn) sendParams(params []pgwirebase.Param) {
	sorted := append([]pgwirebase.Param(nil), params...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return strings.ToLower(sorted[i].Name) < strings.ToLower(sorted[j].Name)
	})
	for _, p := range sorted {
		c.wr.send(&pgproto3.ParameterStatus{Name: p.Name, Value: p.Value})
	}
}

func (c *conn) sendBackendKey(pid uint32) error {
	c.pid = pid
	c.secret = make([]byte, 4)
	if _, err := io.ReadFull(c.srv.cfg.Rand, c.secret); err != nil {
		return fmt.Errorf("pgwire: random: %w", err)
	}
	c.srv.register(c)
	c.wr.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	return nil
}

// remoteAddr returns the peer's IP, invalid for non-IP transports.
func (c *conn) remoteAddr() netip.Addr {
	ap, err := netip.ParseAddrPort(c.raw.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
