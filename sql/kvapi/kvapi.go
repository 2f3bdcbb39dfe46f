package kvapi

import (
	"context"
	"errors"
	"time"
)

// Lock is the lock a read takes.
type Lock uint8

// Lock modes.
const (
	// LockNone reads without a lock: best effort, internal use only.
	LockNone Lock = iota
	// LockShared is the default for reads in a transaction (2PL).
	LockShared
	// LockExclusive is for SELECT ... FOR UPDATE and reads before a write.
	LockExclusive
)

func (l Lock) String() string {
	switch l {
	case LockNone:
		return "none"
	case LockShared:
		return "shared"
	case LockExclusive:
		return "exclusive"
	}
	return "unknown"
}

// KeyValue is one result of a Scan.
type KeyValue struct{ Key, Value []byte }

// DB starts transactions.
type DB interface {
	Begin(ctx context.Context) (Txn, error)
}

// Txn is a strict serializable transaction. See the package doc for the
// locking contract.
type Txn interface {
	Get(ctx context.Context, key []byte, lock Lock) (value []byte, found bool, err error)
	// Scan returns up to limit (0 = no limit) pairs of [start, end) in key
	// order, or in reverse order when reverse is set. A locking scan locks
	// the whole span even when the limit stops it early.
	Scan(ctx context.Context, start, end []byte, limit int, reverse bool, lock Lock) ([]KeyValue, error)
	Put(ctx context.Context, key, value []byte) error
	// Insert writes key only if it holds no value; otherwise it returns an
	// error for which errors.Is(err, ErrKeyExists) holds. It takes the
	// exclusive lock before looking.
	Insert(ctx context.Context, key, value []byte) error
	Delete(ctx context.Context, key []byte) error
	DeleteRange(ctx context.Context, start, end []byte) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// ErrKeyExists is returned by Insert when the key already holds a value.
var ErrKeyExists = errors.New("kv: key exists")

// ErrLockTimeout is returned when a lock wait exceeds the lock timeout.
// Implementations may instead return an error with LockTimeout() true.
var ErrLockTimeout = errors.New("kv: lock wait timeout")

// IsRetryable reports whether err (or an error it wraps) says the
// transaction was aborted and may be retried from the start.
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// IsAmbiguous reports whether err says the outcome of a commit is unknown.
func IsAmbiguous(err error) bool {
	var a interface{ Ambiguous() bool }
	return errors.As(err, &a) && a.Ambiguous()
}

// IsLockTimeout reports whether err is a lock wait timeout.
func IsLockTimeout(err error) bool {
	if errors.Is(err, ErrLockTimeout) {
		return true
	}
	var l interface{ LockTimeout() bool }
	return errors.As(err, &l) && l.LockTimeout()
}

// Restarter may be implemented by a Txn whose implementation can begin a
// new attempt that keeps this one's conflict priority (under wound-wait, a
// retried transaction then ages instead of losing again). Restart ends the
// receiver. The SQL layer uses it when it re-runs an aborted transaction
// block; without it, it rolls back and begins afresh.
type Restarter interface {
	Restart(ctx context.Context) (Txn, error)
}

// Savepointer may be implemented by a Txn that can undo its writes back to
// a savepoint (SQL's SAVEPOINT / ROLLBACK TO SAVEPOINT). Savepoint returns
// a token; RollbackTo(ctx, token) undoes every write made after it was
// taken (locks may stay held) and the transaction goes on. If RollbackTo
// fails the transaction is unusable and must be rolled back; a retryable
// error (IsRetryable) says it may be retried from the start.
type Savepointer interface {
	Savepoint() uint64
	RollbackTo(ctx context.Context, token uint64) error
}

// IsResourceLimit reports whether err says a transaction exceeded a memory
// limit of the KV layer.
func IsResourceLimit(err error) bool {
	var l interface{ ResourceLimit() bool }
	return errors.As(err, &l) && l.ResourceLimit()
}

// LockTimeoutSetter may be implemented by a Txn whose lock waits can be
// bounded per transaction (SQL's lock_timeout): a lock wait longer than d
// fails with a lock timeout error (see IsLockTimeout). d <= 0 restores the
// implementation's default bound.
type LockTimeoutSetter interface {
	SetLockTimeout(d time.Duration)
}

// Identifier may be implemented by a Txn: ID is the transaction's id in
// the KV layer's lock tables, which pg_locks and pg_stat_activity use to
// tie locks to sessions.
type Identifier interface {
	ID() uint64
}

// Write is one write of a batch (see Batcher): a Put, or with Delete a
// Delete, or with Insert an Insert.
type Write struct {
	Key, Value     []byte
	Delete, Insert bool
}

// Batcher may be implemented by a Txn that can send many writes at once
// (one request per range instead of one per write). WriteBatch makes the
// writes in order; exists[i] reports that ws[i], an Insert, found its key
// and wrote nothing (ErrKeyExists for a single Insert). On an error some
// writes may have been made, as for a failed statement.
type Batcher interface {
	WriteBatch(ctx context.Context, ws []Write) (exists []bool, err error)
}

// WriteBatch makes ws through t's Batcher, or one call per write when t
// has none.
func WriteBatch(ctx context.Context, t Txn, ws []Write) ([]bool, error) {
	if b, ok := t.(Batcher); ok {
		return b.WriteBatch(ctx, ws)
	}
	exists := make([]bool, len(ws))
	for i, w := range ws {
		var err error
		switch {
		case w.Delete:
			err = t.Delete(ctx, w.Key)
		case w.Insert:
			if err = t.Insert(ctx, w.Key, w.Value); errors.Is(err, ErrKeyExists) {
				exists[i], err = true, nil
			}
		default:
			err = t.Put(ctx, w.Key, w.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	return exists, nil
}

// FilterScanner may be implemented by a Txn whose scans can carry a row
// filter evaluated where the rows are (each range's leaseholder):
// ScanFiltered is Scan returning only the pairs filter matches, limit
// counting matches. filter is a spec of sql/rowfilter (opaque below sql).
// Locking is Scan's: a locking scan locks the whole span, the pairs
// filtered out included. scanned is the number of pairs read to answer
// (those filtered out included), for EXPLAIN ANALYZE. An error evaluating
// the filter is an error of the scan, never a dropped pair.
type FilterScanner interface {
	ScanFiltered(ctx context.Context, start, end []byte, limit int, reverse bool, lock Lock, filter []byte) (kvs []KeyValue, scanned int, err error)
}
