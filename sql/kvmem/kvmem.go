package kvmem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/RaduBerinde/btreemap"

	"github.com/ordodb/ordo/sql/kvapi"
)

// Config configures a DB. The zero value is usable.
type Config struct {
	// LockTimeout bounds a lock wait; 0 means 10s.
	LockTimeout time.Duration
}

// DB is an in-memory transactional KV store.
type DB struct {
	cfg Config
	mu  struct {
		sync.Mutex
		data    *btreemap.BTreeMap[string, []byte]
		points  *btreemap.BTreeMap[string, *holders]
		spans   map[*spanLock]struct{}
		nextID  uint64
		changed chan struct{} // closed and replaced when locks are released
	}
}

// New returns an empty DB.
func New(cfg Config) *DB {
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = 10 * time.Second
	}
	db := &DB{cfg: cfg}
	db.mu.data = btreemap.New[string, []byte](32, strings.Compare)
	db.mu.points = btreemap.New[string, *holders](32, strings.Compare)
	db.mu.spans = map[*spanLock]struct{}{}
	db.mu.changed = make(chan struct{})
	return db
}

// AbortedError is returned by every call of a transaction that was aborted
// by a conflicting older transaction. It is retryable.
type AbortedError struct{ ID uint64 }

func (e *AbortedError) Error() string {
	return fmt.Sprintf("kvmem: transaction %d aborted by an older conflicting transaction", e.ID)
}

// Retryable implements the retryable behaviour interface.
func (e *AbortedError) Retryable() bool { return true }

// ErrTxnDone is returned for calls after Commit or Rollback.
var ErrTxnDone = errors.New("kvmem: transaction already finished")

type txnState uint8

const (
	pending txnState = iota
	committed
	aborted
	rolledBack
)

type undo struct {
	key     string
	old     []byte
	existed bool
}

type txn struct {
	db     *DB
	id     uint64 // priority: smaller is older
	state  txnState
	undo   []undo
	points []string
	spans  []*spanLock
}

// Begin starts a transaction.
func (db *DB) Begin(context.Context) (kvapi.Txn, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.mu.nextID++
	return &txn{db: db, id: db.mu.nextID}, nil
}

// Len returns the number of keys (for tests).
func (db *DB) Len() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.mu.data.Len()
}

func (t *txn) checkLocked() error {
	switch t.state {
	case pending:
		return nil
	case aborted:
		return &AbortedError{ID: t.id}
	}
	return ErrTxnDone
}

func (t *txn) Get(ctx context.Context, key []byte, lock kvapi.Lock) ([]byte, bool, error) {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.lockLocked(ctx, string(key), "", mode(lock)); err != nil {
		return nil, false, err
	}
	_, v, ok := db.mu.data.Get(string(key))
	return clone(v), ok, nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func (t *txn) Scan(ctx context.Context, start, end []byte, limit int, reverse bool, lock kvapi.Lock) ([]kvapi.KeyValue, error) {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	s, e := string(start), string(end)
	if err := t.lockLocked(ctx, s, e, mode(lock)); err != nil {
		return nil, err
	}
	var out []kvapi.KeyValue
	add := func(k string, v []byte) bool {
		out = append(out, kvapi.KeyValue{Key: []byte(k), Value: clone(v)})
		return limit <= 0 || len(out) < limit
	}
	if reverse {
		for k, v := range db.mu.data.Descend(btreemap.LT(e), btreemap.GE(s)) {
			if !add(k, v) {
				break
			}
		}
		return out, nil
	}
	for k, v := range db.mu.data.Ascend(btreemap.GE(s), btreemap.LT(e)) {
		if !add(k, v) {
			break
		}
	}
	return out, nil
}

func (t *txn) Put(ctx context.Context, key, value []byte) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.lockLocked(ctx, string(key), "", exclusive); err != nil {
		return err
	}
	t.writeLocked(string(key), clone(value), true)
	return nil
}

func (t *txn) Insert(ctx context.Context, key, value []byte) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.lockLocked(ctx, string(key), "", exclusive); err != nil {
		return err
	}
	if db.mu.data.Has(string(key)) {
		return fmt.Errorf("kvmem: insert %q: %w", key, kvapi.ErrKeyExists)
	}
	t.writeLocked(string(key), clone(value), true)
	return nil
}

func (t *txn) Delete(ctx context.Context, key []byte) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.lockLocked(ctx, string(key), "", exclusive); err != nil {
		return err
	}
	t.writeLocked(string(key), nil, false)
	return nil
}

func (t *txn) DeleteRange(ctx context.Context, start, end []byte) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	s, e := string(start), string(end)
	if err := t.lockLocked(ctx, s, e, exclusive); err != nil {
		return err
	}
	var ks []string
	for k := range db.mu.data.Ascend(btreemap.GE(s), btreemap.LT(e)) {
		ks = append(ks, k)
	}
	for _, k := range ks {
		t.writeLocked(k, nil, false)
	}
	return nil
}

// writeLocked applies a write in place and records how to undo it.
func (t *txn) writeLocked(key string, value []byte, put bool) {
	data := t.db.mu.data
	_, old, existed := data.Get(key)
	t.undo = append(t.undo, undo{key: key, old: old, existed: existed})
	if put {
		data.ReplaceOrInsert(key, value)
	} else {
		data.Delete(key)
	}
}

func (t *txn) Commit(context.Context) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := t.checkLocked(); err != nil {
		return err
	}
	t.state = committed
	t.undo = nil
	t.releaseLocked()
	return nil
}

func (t *txn) Rollback(context.Context) error {
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if t.state != pending {
		return nil
	}
	t.abortLocked(rolledBack)
	return nil
}

// Savepoint implements kvapi.Savepointer: the token is the length of the
// undo log.
func (t *txn) Savepoint() uint64 {
	t.db.mu.Lock()
	defer t.db.mu.Unlock()
	return uint64(len(t.undo))
}

// RollbackTo implements kvapi.Savepointer: it undoes the writes logged
// after token, newest first; locks stay held.
func (t *txn) RollbackTo(_ context.Context, token uint64) error {
	t.db.mu.Lock()
	defer t.db.mu.Unlock()
	if err := t.checkLocked(); err != nil {
		return err
	}
	if token > uint64(len(t.undo)) {
		return fmt.Errorf("kvmem: rollback to savepoint %d beyond the undo log (%d)", token, len(t.undo))
	}
	t.undoLocked(int(token))
	return nil
}

// undoLocked undoes the writes logged after the first n.
func (t *txn) undoLocked(n int) {
	data := t.db.mu.data
	for i := len(t.undo) - 1; i >= n; i-- {
		u := t.undo[i]
		if u.existed {
			data.ReplaceOrInsert(u.key, u.old)
		} else {
			data.Delete(u.key)
		}
	}
	t.undo = t.undo[:n]
}

// abortLocked undoes the transaction's writes and releases its locks.
func (t *txn) abortLocked(s txnState) {
	data := t.db.mu.data
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.existed {
			data.ReplaceOrInsert(u.key, u.old)
		} else {
			data.Delete(u.key)
		}
	}
	t.undo = nil
	t.state = s
	t.releaseLocked()
}
