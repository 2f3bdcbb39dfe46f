package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/range/replica"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server/settings"
	"github.com/ordodb/ordo/sql"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowfilter"
	"github.com/ordodb/ordo/txn"
)

// startSQL serves the Postgres protocol on SQLAddr, executing over this
// node's transaction coordinator.
func (s *Server) startSQL() error {
	if s.cfg.SQLAddr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", s.cfg.SQLAddr)
	if err != nil {
		return fmt.Errorf("server: sql listen %s: %w", s.cfg.SQLAddr, err)
	}
	tlsCfg, hba, err := sqlSecurity(&s.cfg)
	if err != nil {
		_ = lis.Close()
		return err
	}
	sessions := &sessionRegistry{}
	exec := sql.NewExecutor(sql.Config{
		DB: sqlDB{s.coord}, NodeID: uint16(s.NodeID()), ClusterSettings: clusterSettings{s},
		Now:                     failpoint.Now, // skewed only in a -tags failpoints build
		DefaultStatementTimeout: func() time.Duration { return settings.StatementTimeout.Get(s.settings.Load()) },
		SequenceNodeCache:       func() int64 { return settings.SequenceNodeCache.Get(s.settings.Load()) },
		MemoryBudget:            func() int64 { return settings.QueryMemoryBudget.Get(s.settings.Load()) },
		Logger:                  s.cfg.Logger.With("component", "sql"),
		Metrics:                 s.metrics.sql,
		Sessions:                sessions,
		Locks:                   lockTable{s},
	})
	log := s.cfg.Logger.With("component", "pgwire")
	cancels := &cancelRouter{self: s.NodeID(), sqlAddr: s.sqlAddrOf, log: log}
	pg, err := pgwire.NewServer(pgwire.Config{
		Executor:      exec,
		Authenticator: exec,
		TLS:           tlsCfg,
		HBA:           hba,
		Logger:        log,
		Canceller:     cancels,
		NextProcessID: newProcessIDs(s.NodeID()),
		Metrics:       s.metrics.pgwire,
	})
	if err != nil {
		_ = lis.Close()
		return err
	}
	cancels.local = pg
	sessions.pg.Store(pg)
	s.mu.Lock()
	s.mu.pg, s.mu.sqlLis = pg, lis
	s.mu.Unlock()
	s.goLoop(func() { _ = pg.Serve(s.ctx, lis) })
	return nil
}

// SQLAddr is the address the node serves SQL on ("" if none).
func (s *Server) SQLAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.sqlLis == nil {
		return ""
	}
	return s.mu.sqlLis.Addr().String()
}

// SQLRunningStatements reports the statements the node's SQL server is
// running now (see pgwire.Server.RunningStatements).
func (s *Server) SQLRunningStatements() int {
	s.mu.Lock()
	pg := s.mu.pg
	s.mu.Unlock()
	if pg == nil {
		return 0
	}
	return pg.RunningStatements()
}

// sqlAddrOf returns the SQL address node id publishes in the registry.
func (s *Server) sqlAddrOf(id uint64) (string, bool) {
	for _, n := range s.dir.list() {
		if n.NodeId == id && n.SqlAddress != "" {
			return n.SqlAddress, true
		}
	}
	return "", false
}

// compileRowFilter is the store's filter compiler: the SQL layer's row
// filters (sql/rowfilter), evaluated at this node's leaseholders.
func compileRowFilter(spec []byte) (replica.Predicate, error) {
	f, err := rowfilter.Compile(spec)
	if err != nil {
		return nil, err
	}
	return f.Match, nil
}

// sqlDB adapts the transaction coordinator to the SQL layer's KV interface.
type sqlDB struct{ c *txn.Coordinator }

func (d sqlDB) Begin(ctx context.Context) (kvapi.Txn, error) { return &sqlTxn{t: d.c.Begin()}, nil }

type sqlTxn struct{ t *txn.Txn }

func lockOf(l kvapi.Lock) txn.Lock {
	if l == kvapi.LockExclusive {
		return txn.LockExclusive
	}
	return txn.LockShared
}

func (x *sqlTxn) Get(ctx context.Context, key []byte, lock kvapi.Lock) (v []byte, found bool, err error) {
	err = x.op(ctx, func(ctx context.Context) error {
		v, found, err = x.t.Get(ctx, key, lockOf(lock))
		return err
	})
	return v, found, err
}

func (x *sqlTxn) Scan(ctx context.Context, start, end []byte, limit int, reverse bool, lock kvapi.Lock) ([]kvapi.KeyValue, error) {
	var rows []*rpcpb.KeyValue
	err := x.op(ctx, func(ctx context.Context) (err error) {
		rows, err = x.t.Scan(ctx, start, end, limit, reverse, lockOf(lock))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]kvapi.KeyValue, len(rows))
	for i, r := range rows {
		out[i] = kvapi.KeyValue{Key: r.Key, Value: r.Value}
	}
	return out, nil
}

// ScanFiltered implements kvapi.FilterScanner: the filter rides each
// range's SCAN to its leaseholder.
func (x *sqlTxn) ScanFiltered(ctx context.Context, start, end []byte, limit int, reverse bool, lock kvapi.Lock, filter []byte) ([]kvapi.KeyValue, int, error) {
	var rows []*rpcpb.KeyValue
	var scanned int
	err := x.op(ctx, func(ctx context.Context) (err error) {
		rows, scanned, err = x.t.ScanFiltered(ctx, start, end, limit, reverse, lockOf(lock), filter)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	out := make([]kvapi.KeyValue, len(rows))
	for i, r := range rows {
		out[i] = kvapi.KeyValue{Key: r.Key, Value: r.Value}
	}
	return out, scanned, nil
}

func (x *sqlTxn) Put(ctx context.Context, key, value []byte) error {
	return x.op(ctx, func(ctx context.Context) error { return x.t.Put(ctx, key, value) })
}

func (x *sqlTxn) Insert(ctx context.Context, key, value []byte) error {
	err := x.op(ctx, func(ctx context.Context) error { return x.t.Insert(ctx, key, value) })
	if errors.Is(err, txn.ErrKeyExists) {
		return kvapi.ErrKeyExists
	}
	return err
}

func (x *sqlTxn) Delete(ctx context.Context, key []byte) error {
	return x.op(ctx, func(ctx context.Context) error { return x.t.Delete(ctx, key) })
}

// WriteBatch implements kvapi.Batcher: one OPS request per range.
func (x *sqlTxn) WriteBatch(ctx context.Context, ws []kvapi.Write) ([]bool, error) {
	ops := make([]*rpcpb.Op, len(ws))
	for i, w := range ws {
		op := &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: w.Key, Value: w.Value}
		switch {
		case w.Delete:
			op.Kind, op.Value = rpcpb.Op_DELETE, nil
		case w.Insert:
			op.Kind = rpcpb.Op_INSERT
		}
		ops[i] = op
	}
	var res []*rpcpb.OpResult
	err := x.op(ctx, func(ctx context.Context) (err error) {
		res, err = x.t.Batch(ctx, ops)
		return err
	})
	if err != nil {
		return nil, err
	}
	exists := make([]bool, len(ws))
	for i, w := range ws {
		exists[i] = w.Insert && res[i].Found
	}
	return exists, nil
}

func (x *sqlTxn) DeleteRange(ctx context.Context, start, end []byte) error {
	return x.op(ctx, func(ctx context.Context) error {
		_, err := x.t.DeleteRange(ctx, start, end)
		return err
	})
}

func (x *sqlTxn) Commit(ctx context.Context) error { return x.t.Commit(ctx) }

// ID implements kvapi.Identifier.
func (x *sqlTxn) ID() uint64 { return x.t.ID() }

func (x *sqlTxn) Rollback(ctx context.Context) error {
	x.t.Rollback(ctx)
	return nil
}

// Restart implements kvapi.Restarter: it rolls this transaction back and
// begins its retry with the same priority, so a retried statement ages and
// eventually wins its conflicts instead of being wounded forever.
func (x *sqlTxn) Restart(ctx context.Context) (kvapi.Txn, error) {
	x.t.Rollback(ctx)
	return &sqlTxn{t: x.t.Coordinator().BeginWithPriority(x.t.Priority())}, nil
}

// Savepoint implements kvapi.Savepointer.
func (x *sqlTxn) Savepoint() uint64 { return x.t.Savepoint() }

// RollbackTo implements kvapi.Savepointer.
func (x *sqlTxn) RollbackTo(ctx context.Context, token uint64) error {
	return x.t.RollbackTo(ctx, token)
}

// SetLockTimeout implements kvapi.LockTimeoutSetter (SQL's lock_timeout):
// every lock wait of the transaction is bounded by d at the leaseholder.
func (x *sqlTxn) SetLockTimeout(d time.Duration) { x.t.SetLockTimeout(d) }

// op runs one KV call of the transaction.
func (x *sqlTxn) op(ctx context.Context, call func(context.Context) error) error { return call(ctx) }

// Process IDs carry the node id, so that a CancelRequest reaching any node
// can be routed to the node that runs the session: bits 20..30 hold the
// node id (modulo 2048), bits 0..19 a per-node counter that skips 0. Bit 31
// stays clear: clients read the process ID as a signed 32-bit integer.
const (
	pidNodeShift = 20
	pidNodeMask  = 1<<11 - 1
	pidLocalMask = 1<<pidNodeShift - 1
)

// newProcessIDs returns pgwire's NextProcessID for node.
func newProcessIDs(node uint64) func() uint32 {
	var n atomic.Uint32
	hi := uint32(node&pidNodeMask) << pidNodeShift
	return func() uint32 {
		for {
			if low := n.Add(1) & pidLocalMask; low != 0 {
				return hi | low
			}
		}
	}
}

func pidNode(pid uint32) uint64 { return uint64(pid>>pidNodeShift) & pidNodeMask }

// forwardMark is appended to the cancel key of a CancelRequest forwarded
// between nodes. Sessions get 4-byte keys, so a marked key never matches
// one as is; the receiving node strips the mark and cancels locally only,
// so a stale registry entry can never make a cancel loop between nodes.
const forwardMark = 0xff

// cancelRouter implements pgwire.Canceller: a CancelRequest for a session
// of another node is sent on, as a CancelRequest, to that node's SQL
// address from the node registry.
type cancelRouter struct {
	self    uint64
	sqlAddr func(node uint64) (string, bool)
	local   *pgwire.Server // set before the server serves
	log     *slog.Logger
}

// Cancel implements pgwire.Canceller.
func (r *cancelRouter) Cancel(ctx context.Context, pid uint32, secret []byte) {
	if key, forwarded := cutForwardMark(secret); forwarded || pidNode(pid) == r.self&pidNodeMask {
		r.local.CancelLocal(pid, key)
		return
	}
	addr, ok := r.sqlAddr(pidNode(pid))
	if !ok {
		return
	}
	marked := append(append([]byte(nil), secret...), forwardMark)
	if err := sendCancel(ctx, addr, pid, marked); err != nil {
		r.log.Debug("forward cancel", "node", pidNode(pid), "addr", addr, "err", err)
	}
}

func cutForwardMark(secret []byte) ([]byte, bool) {
	if len(secret) == 5 && secret[4] == forwardMark {
		return secret[:4], true
	}
	return secret, false
}

// cancelForwardTimeout bounds a forwarded CancelRequest, which runs on the
// goroutine of the connection that brought it.
const cancelForwardTimeout = 2 * time.Second

// sendCancel sends a CancelRequest to addr and waits until the node has
// handled it (it closes the connection), as libpq does.
func sendCancel(ctx context.Context, addr string, pid uint32, secret []byte) error {
	ctx, cancel := context.WithTimeout(ctx, cancelForwardTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	deadline, _ := ctx.Deadline()
	if err := nc.SetDeadline(deadline); err != nil {
		return err
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(12+len(secret)))
	msg = binary.BigEndian.AppendUint32(msg, 80877102)
	msg = binary.BigEndian.AppendUint32(msg, pid)
	if _, err := nc.Write(append(msg, secret...)); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, nc); err != nil {
		return err
	}
	return nil
}
