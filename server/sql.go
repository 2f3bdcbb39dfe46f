package server

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/ordodb/ordo/pgwire"
	"github.com/ordodb/ordo/sql"
	"github.com/ordodb/ordo/sql/kvapi"
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
	exec := sql.NewExecutor(sql.Config{DB: sqlDB{s.coord}, NodeID: uint16(s.NodeID())})
	pg, err := pgwire.NewServer(pgwire.Config{Executor: exec, Logger: s.cfg.Logger.With("component", "pgwire")})
	if err != nil {
		_ = lis.Close()
		return err
	}
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

func (x *sqlTxn) Get(ctx context.Context, key []byte, lock kvapi.Lock) ([]byte, bool, error) {
	return x.t.Get(ctx, key, lockOf(lock))
}

func (x *sqlTxn) Scan(ctx context.Context, start, end []byte, limit int, reverse bool, lock kvapi.Lock) ([]kvapi.KeyValue, error) {
	rows, err := x.t.Scan(ctx, start, end, limit, reverse, lockOf(lock))
	if err != nil {
		return nil, err
	}
	out := make([]kvapi.KeyValue, len(rows))
	for i, r := range rows {
		out[i] = kvapi.KeyValue{Key: r.Key, Value: r.Value}
	}
	return out, nil
}

func (x *sqlTxn) Put(ctx context.Context, key, value []byte) error { return x.t.Put(ctx, key, value) }

func (x *sqlTxn) Insert(ctx context.Context, key, value []byte) error {
	err := x.t.Insert(ctx, key, value)
	if errors.Is(err, txn.ErrKeyExists) {
		return kvapi.ErrKeyExists
	}
	return err
}

func (x *sqlTxn) Delete(ctx context.Context, key []byte) error { return x.t.Delete(ctx, key) }

func (x *sqlTxn) DeleteRange(ctx context.Context, start, end []byte) error {
	_, err := x.t.DeleteRange(ctx, start, end)
	return err
}

func (x *sqlTxn) Commit(ctx context.Context) error { return x.t.Commit(ctx) }

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
