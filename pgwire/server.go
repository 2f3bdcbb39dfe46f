package pgwire

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Server accepts PostgreSQL protocol connections and runs one goroutine per
// connection. Lock order: Server.mu < conn.mu.
type Server struct {
	cfg        Config
	ctx        context.Context // cancelled by Close
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	nextPID    atomic.Uint32
	running    atomic.Int64           // statements (and Syncs) in progress
	mockSecret []byte                 // random, used when mockShared is unknown
	mockShared atomic.Pointer[[]byte] // the Authenticator's (MockSecreter)

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		conns     map[*conn]struct{}
		sessions  int              // connections holding a session slot
		byPID     map[uint32]*conn // sessions that sent BackendKeyData
	}
}

// NewServer validates cfg and returns a Server.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mu.listeners = map[net.Listener]struct{}{}
	s.mu.conns = map[*conn]struct{}{}
	s.mu.byPID = map[uint32]*conn{}
	s.mockSecret = make([]byte, 32)
	if _, err := io.ReadFull(cfg.Rand, s.mockSecret); err != nil {
		return nil, fmt.Errorf("pgwire: random: %w", err)
	}
	return s, nil
}

// Serve accepts connections on ln until ctx is done, ln fails or Close is
// called. It closes ln before returning. Connections it started keep
// running until Close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.addListener(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.removeListener(ln)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("pgwire: accept: %w", err)
		}
		if !s.startConn(nc) {
			return ErrServerClosed
		}
	}
}

// ServeConn handles one already-accepted connection on the calling
// goroutine and returns when it ends.
func (s *Server) ServeConn(nc net.Conn) {
	c := newConn(s, nc)
	if !s.addConn(c) {
		nc.Close()
		return
	}
	defer s.removeConn(c)
	c.run()
}

func (s *Server) startConn(nc net.Conn) bool {
	c := newConn(s, nc)
	if !s.addConn(c) {
		nc.Close()
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.removeConn(c)
		c.run()
	}()
	return true
}

// Close stops all listeners, cancels running statements, closes every
// connection and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.mu.closed = true
	for ln := range s.mu.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.mu.conns))
	for c := range s.mu.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	for _, c := range conns {
		c.shutdown()
	}
	s.wg.Wait()
	return nil
}

// NumConns reports the open connections (including ones still in startup).
func (s *Server) NumConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.conns)
}

// RunningStatements reports how many messages that run SQL (Query, Parse,
// Bind, Execute, Sync) are being processed now: the ones a CancelRequest
// would interrupt.
func (s *Server) RunningStatements() int { return int(s.running.Load()) }

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

func (s *Server) addListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	s.mu.listeners[ln] = struct{}{}
	return true
}

func (s *Server) removeListener(ln net.Listener) {
	s.mu.Lock()
	delete(s.mu.listeners, ln)
	s.mu.Unlock()
	ln.Close()
}

func (s *Server) addConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	s.mu.conns[c] = struct{}{}
	s.cfg.Metrics.Connections.Inc()
	s.cfg.Metrics.OpenConnections.Inc()
	return true
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.mu.conns[c]; ok {
		s.cfg.Metrics.OpenConnections.Dec()
	}
	delete(s.mu.conns, c)
	if c.holdsSlot {
		s.mu.sessions--
	}
	if c.pid != 0 && s.mu.byPID[c.pid] == c {
		delete(s.mu.byPID, c.pid)
	}
}

// acquireSlot takes a session slot; false when MaxConnections are in use.
func (s *Server) acquireSlot(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.sessions >= s.cfg.MaxConnections {
		return false
	}
	s.mu.sessions++
	c.holdsSlot = true
	return true
}

// register makes c reachable by CancelRequest under pid.
func (s *Server) register(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.byPID[c.pid] = c
}

func (s *Server) newProcessID() uint32 {
	if f := s.cfg.NextProcessID; f != nil {
		return f()
	}
	return s.nextPID.Add(1)
}

// CancelLocal cancels the running statement of this server's session with
// the given key. It reports whether the key matched a session.
func (s *Server) CancelLocal(pid uint32, secret []byte) bool {
	s.mu.Lock()
	c := s.mu.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret, secret) != 1 {
		return false
	}
	c.cancelStatement()
	return true
}

func (s *Server) dispatchCancel(pid uint32, secret []byte) {
	if s.cfg.Canceller != nil {
		s.cfg.Canceller.Cancel(s.ctx, pid, secret)
		return
	}
	s.CancelLocal(pid, secret)
}
