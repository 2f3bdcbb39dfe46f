package locktable

import (
	"bytes"
	"errors"
	"fmt"
)

// TxnID identifies a transaction. It is assigned by the coordinator and is
// unique cluster-wide; the lock table only compares it.
type TxnID uint64

// Priority orders transactions for wound-wait: lower is older and wins.
// A retried transaction keeps its Priority, so it ages and cannot starve.
type Priority struct {
	StartNanos int64
	Tiebreak   uint64
}

// older reports whether a (with id ai) is older than b (with id bi). The
// TxnIDs break the last tie, so older is a strict total order.
func older(a Priority, ai TxnID, b Priority, bi TxnID) bool {
	if a.StartNanos != b.StartNanos {
		return a.StartNanos < b.StartNanos
	}
	if a.Tiebreak != b.Tiebreak {
		return a.Tiebreak < b.Tiebreak
	}
	return ai < bi
}

// Mode is the strength of a lock.
type Mode uint8

const (
	// Shared locks are held by readers; any number of transactions may
	// share a key.
	Shared Mode = iota + 1
	// Exclusive locks are held by writers and FOR UPDATE readers.
	Exclusive
)

// String implements fmt.Stringer.
func (m Mode) String() string {
	switch m {
	case Shared:
		return "S"
	case Exclusive:
		return "X"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// compatible is the conflict matrix: only S and S are compatible.
func compatible(a, b Mode) bool { return a == Shared && b == Shared }

// Span is the key range [Key, EndKey). An empty EndKey means the single key
// Key.
type Span struct {
	Key, EndKey []byte
}

// PointSpan returns the span of the single key k.
func PointSpan(k []byte) Span { return Span{Key: k} }

// IsPoint reports whether s is a single key.
func (s Span) IsPoint() bool { return len(s.EndKey) == 0 }

// Valid reports whether s is a point or a nonempty range.
func (s Span) Valid() bool { return s.IsPoint() || bytes.Compare(s.Key, s.EndKey) < 0 }

// Overlaps reports whether s and o share a key.
func (s Span) Overlaps(o Span) bool {
	return s.startsBeforeEnd(o) && o.startsBeforeEnd(s)
}

// startsBeforeEnd reports s.Key < o's end, treating a point's end as Key+0x00.
func (s Span) startsBeforeEnd(o Span) bool {
	if o.IsPoint() {
		return bytes.Compare(s.Key, o.Key) <= 0
	}
	return bytes.Compare(s.Key, o.EndKey) < 0
}

// Contains reports whether every key of o is in s.
func (s Span) Contains(o Span) bool {
	if s.IsPoint() {
		return o.IsPoint() && bytes.Equal(s.Key, o.Key)
	}
	if bytes.Compare(o.Key, s.Key) < 0 {
		return false
	}
	if o.IsPoint() {
		return bytes.Compare(o.Key, s.EndKey) < 0
	}
	return bytes.Compare(o.EndKey, s.EndKey) <= 0
}

// ContainsKey reports whether k is in s.
func (s Span) ContainsKey(k []byte) bool { return s.Contains(PointSpan(k)) }

// String implements fmt.Stringer.
func (s Span) String() string {
	if s.IsPoint() {
		return fmt.Sprintf("%q", s.Key)
	}
	return fmt.Sprintf("[%q,%q)", s.Key, s.EndKey)
}

func (s Span) size() int64 { return int64(len(s.Key) + len(s.EndKey)) }

// Request asks for a lock on Span in Mode for Txn.
type Request struct {
	Txn      TxnID
	Priority Priority
	Span     Span
	Mode     Mode
}

// Result is the outcome of Acquire.
type Result struct {
	// Granted is true if the lock is held now. Otherwise the request waits
	// in the queue and is reported later in the Grants of a Release, Abort,
	// ReleaseShared or Cancel.
	Granted bool
	// WaitingOn lists the transactions the request waits for (holders and
	// requests ahead of it in the queue), sorted.
	WaitingOn []TxnID
	// Wound lists younger, unprepared holders that the requester newly
	// wounded: the driver must abort them (Abort) to let it proceed.
	Wound []TxnID
}

// Grant reports a queued request that has been granted.
type Grant struct {
	Txn  TxnID
	Span Span
	Mode Mode
}

// Errors. Callers branch on them with errors.Is / errors.As.
var (
	// ErrInvalidSpan means a request's span is empty or inverted.
	ErrInvalidSpan = errors.New("locktable: invalid span")
	// ErrInvalidMode means a request has no valid Mode.
	ErrInvalidMode = errors.New("locktable: invalid mode")
	// ErrAlreadyWaiting means the transaction already has a queued request;
	// a transaction waits for at most one request at a time.
	ErrAlreadyWaiting = errors.New("locktable: transaction already waiting")
	// ErrPrepared means a prepared transaction tried to lock or write.
	ErrPrepared = errors.New("locktable: transaction is prepared")
	// ErrNotLocked means a pending write on a key the transaction does not
	// hold exclusively.
	ErrNotLocked = errors.New("locktable: key not locked exclusively")
	// ErrRolledBack means a write carries a sequence number that the
	// transaction already rolled back to a savepoint before (RollbackTo):
	// it comes from a statement that was cancelled, and is dropped.
	ErrRolledBack = errors.New("locktable: write belongs to a statement rolled back to a savepoint")
	// ErrSpilledRollback means a RollbackTo below the sequence number of
	// writes that were spilled (TakePendingWrites): their undo log is gone.
	ErrSpilledRollback = errors.New("locktable: cannot roll back to a savepoint taken before writes that were spilled")
	// ErrMemoryLimit is matched by every *MemoryLimitError.
	ErrMemoryLimit = errors.New("locktable: transaction memory limit exceeded")
)

// WoundedError is returned to a transaction that was wounded by an older
// one and so must abort and retry (SQLSTATE 40001).
type WoundedError struct {
	Txn TxnID
}

func (e *WoundedError) Error() string {
	return fmt.Sprintf("locktable: txn %d was wounded by an older transaction", e.Txn)
}

// Retryable reports that the transaction should be retried.
func (e *WoundedError) Retryable() bool { return true }

// MemoryLimitError means a transaction's locks and pending writes at this
// range would exceed Config.MaxTxnBytes.
type MemoryLimitError struct {
	Txn               TxnID
	Used, Need, Limit int64
}

func (e *MemoryLimitError) Error() string {
	return fmt.Sprintf("locktable: txn %d would use %d+%d bytes of locks and pending writes, limit %d",
		e.Txn, e.Used, e.Need, e.Limit)
}

// Is makes errors.Is(err, ErrMemoryLimit) true.
func (e *MemoryLimitError) Is(target error) bool { return target == ErrMemoryLimit }

// Config tunes a Table. The zero value is valid.
type Config struct {
	// MaxTxnBytes bounds each transaction's locks and pending writes in
	// this table (keys, values and a fixed overhead per entry). Zero means
	// DefaultMaxTxnBytes; negative means no limit.
	MaxTxnBytes int64
	// MaxTxnBytesFunc, if set and positive, overrides MaxTxnBytes at each
	// call (a cluster setting that may change).
	MaxTxnBytesFunc func() int64
}

// DefaultMaxTxnBytes is the per-transaction limit when Config leaves it 0.
const DefaultMaxTxnBytes = 64 << 20

// Per-entry overheads charged to a transaction's memory.
const (
	lockOverhead  = 64
	writeOverhead = 48
	undoOverhead  = 32
)

func (c Config) limit() int64 {
	if c.MaxTxnBytesFunc != nil {
		if n := c.MaxTxnBytesFunc(); n > 0 {
			return n
		}
	}
	if c.MaxTxnBytes == 0 {
		return DefaultMaxTxnBytes
	}
	return c.MaxTxnBytes
}
