package sql

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/kvmem"
)

// countingDB counts exclusive reads (the bootstrap marker's lock is the
// only one connection setup takes) and fails the next failCommits commits
// with a retryable conflict.
type countingDB struct {
	kvapi.DB
	exclusiveReads atomic.Int64
	failCommits    atomic.Int64
}

func (d *countingDB) Begin(ctx context.Context) (kvapi.Txn, error) {
	t, err := d.DB.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTxn{Txn: t, db: d}, nil
}

type countingTxn struct {
	kvapi.Txn
	db *countingDB
}

func (t *countingTxn) Get(ctx context.Context, key []byte, lock kvapi.Lock) ([]byte, bool, error) {
	if lock == kvapi.LockExclusive {
		t.db.exclusiveReads.Add(1)
	}
	return t.Txn.Get(ctx, key, lock)
}

func (t *countingTxn) Commit(ctx context.Context) error {
	if t.db.failCommits.Add(-1) >= 0 {
		_ = t.Txn.Rollback(ctx)
		return &kvmem.AbortedError{ID: 1}
	}
	return t.Txn.Commit(ctx)
}

func newCountingExecutor() (*Executor, *countingDB) {
	db := &countingDB{DB: kvmem.New(kvmem.Config{})}
	return NewExecutor(Config{DB: db, NodeID: 1}), db
}

// connect does what pgwire does for a new connection: authentication's
// lookups, then the session.
func connect(t *testing.T, e *Executor) {
	t.Helper()
	if _, found, err := e.LookupUser(context.Background(), "root"); err != nil || !found {
		t.Fatalf("lookup root: %v (found %v)", err, found)
	}
	if _, err := e.MockAuthSecret(context.Background()); err != nil {
		t.Fatalf("mock secret: %v", err)
	}
	s, err := e.NewSession(context.Background(), pgwirebase.SessionArgs{User: "root", Database: "defaultdb"})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	_ = s.Close()
}

// Only an executor's first session bootstraps the catalog (an exclusive
// lock on one key); later ones read nothing exclusively, so connection
// setup does not serialise across the cluster.
func TestBootstrapOncePerExecutor(t *testing.T) {
	e, db := newCountingExecutor()
	connect(t, e)
	if db.exclusiveReads.Load() == 0 {
		t.Fatal("the first session did not bootstrap")
	}
	db.exclusiveReads.Store(0)
	for range 10 {
		connect(t, e)
	}
	if n := db.exclusiveReads.Load(); n != 0 {
		t.Fatalf("%d exclusive reads after the first session", n)
	}
}

// A conflict (40001) in connection setup's internal transactions
// (bootstrap, authentication's lookups, resolving the database) is retried
// there, never sent to the client.
func TestConnectRetriesConflicts(t *testing.T) {
	e, db := newCountingExecutor()
	ctx := context.Background()
	steps := []struct {
		name string
		run  func() error
	}{
		{"bootstrap and lookup", func() error { _, _, err := e.LookupUser(ctx, "root"); return err }},
		{"lookup", func() error { _, _, err := e.LookupUser(ctx, "root"); return err }},
		{"mock secret", func() error { _, err := e.MockAuthSecret(ctx); return err }},
		{"session", func() error {
			s, err := e.NewSession(ctx, pgwirebase.SessionArgs{User: "root", Database: "defaultdb"})
			if err == nil {
				_ = s.Close()
			}
			return err
		}},
	}
	for _, st := range steps {
		db.failCommits.Store(3)
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if n := db.failCommits.Load(); n >= 0 {
			t.Fatalf("%s: %d injected conflicts left unused", st.name, n+1)
		}
	}
}
