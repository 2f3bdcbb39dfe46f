package pgwire

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// conn is one client connection. Its fields are owned by the connection's
// goroutine except mu, which guards what a CancelRequest or Close touches.
type conn struct {
	srv *Server
	raw net.Conn // the accepted connection; closing it unblocks everything
	nc  net.Conn // raw, or the TLS connection on top of it
	rd  *msgReader
	wr  *msgWriter
	log *slog.Logger
	tls bool

	// Written before register/acquireSlot (which take srv.mu) and read under
	// srv.mu in removeConn.
	holdsSlot bool
	pid       uint32
	secret    []byte

	user     string
	database string
	sess     Session
	proto    protoState
	fatalErr error // set when the connection cannot continue

	mu struct {
		sync.Mutex
		cancel context.CancelCauseFunc // of the running statement, if any
		// act and sess are what Server.Sessions reports (pg_stat_activity).
		act  activity
		sess Session
	}
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, raw: nc, nc: nc}
	c.log = s.cfg.Logger.With("remote", nc.RemoteAddr().String())
	c.rd = newMsgReader(nc, s.cfg.MaxMessageSize)
	c.wr = newMsgWriter(nc)
	c.proto = newProtoState()
	c.mu.act.backendStart = s.cfg.Now()
	return c
}

// run serves the connection until it ends. No panic escapes: it is logged,
// answered with a FATAL XX000 when possible, and the connection is closed.
func (c *conn) run() {
	defer c.raw.Close()
	defer c.closeSession()
	defer c.recoverPanic()
	if err := c.startup(); err != nil {
		c.endWith(err)
		return
	}
	c.endWith(c.serveMessages())
}

func (c *conn) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	c.log.Error("pgwire: panic in connection", "panic", r, "stack", string(debug.Stack()))
	if f := c.srv.cfg.TestingKnobs.OnPanic; f != nil {
		f(r)
	}
	c.sendFatal(errInternalFatal)
}

// endWith reports the error that ended the connection, if the client should
// see it.
func (c *conn) endWith(err error) {
	var old errOldProtocol
	switch {
	case errors.As(err, &old):
		c.wr.sendRaw(old.v2Message())
		_ = c.wr.flush()
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
	case c.srv.ctx.Err() != nil:
		c.sendFatal(errAdminShutdown)
	case pgcode.Has(err):
		c.sendFatal(err)
	default:
		c.log.Debug("pgwire: connection ended", "err", err)
	}
}

// sendFatal sends err as FATAL (whatever its severity) and flushes.
func (c *conn) sendFatal(err error) {
	r := errorResponse(err)
	r.Severity, r.SeverityUnlocalized = string(pgcode.SeverityFatal), string(pgcode.SeverityFatal)
	c.wr.err = nil // a fatal report is worth one more try
	c.wr.buf = c.wr.buf[:0]
	c.wr.send(r)
	_ = c.nc.SetWriteDeadline(c.srv.cfg.Now().Add(time.Second))
	_ = c.wr.flush()
}

func (c *conn) closeSession() {
	c.proto.closeAll()
	if c.sess != nil {
		c.mu.Lock()
		c.mu.sess = nil
		c.mu.Unlock()
		if err := c.sess.Close(); err != nil {
			c.log.Debug("pgwire: session close", "err", err)
		}
		c.sess = nil
	}
}

// shutdown is called by Server.Close from another goroutine.
func (c *conn) shutdown() {
	c.cancelStatement()
	c.raw.Close()
}

// beginStatement returns the context of a statement, cancellable by a
// CancelRequest; end must be called when the statement is over.
func (c *conn) beginStatement() (ctx context.Context, end func()) {
	ctx, cancel := context.WithCancelCause(c.srv.ctx)
	c.mu.Lock()
	c.mu.cancel = cancel
	c.mu.Unlock()
	c.srv.running.Add(1)
	return ctx, func() {
		c.srv.running.Add(-1)
		c.mu.Lock()
		c.mu.cancel = nil
		c.mu.Unlock()
		cancel(nil)
	}
}

// cancelStatement cancels the running statement, if any. A cancel that
// arrives between statements has no effect (as in PostgreSQL, modulo the
// race of a statement that starts just after).
func (c *conn) cancelStatement() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.cancel != nil {
		c.mu.cancel(errQueryCanceled)
	}
}

// statementError maps an error of a statement run under ctx: a statement
// stopped by a CancelRequest reports 57014, by shutdown 57P01. An error
// saying that the outcome is unknown (40003, e.g. a commit cut short) is
// kept: a definite failure must never be reported for what may have applied.
func (c *conn) statementError(ctx context.Context, err error) error {
	if err == nil || pgcode.Of(err) == pgcode.StatementCompletionUnknown {
		return err
	}
	if context.Cause(ctx) == errQueryCanceled {
		return errQueryCanceled
	}
	if c.srv.ctx.Err() != nil {
		return errAdminShutdown
	}
	return err
}
