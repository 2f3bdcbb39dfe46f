package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/batchrepr"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrFatal marks a storage failure after which the node must stop.
var ErrFatal = errors.New("storage: fatal")

// ErrClosed is returned by an engine that has been closed.
var ErrClosed = errors.New("storage: engine closed")

// Config configures an Engine. The zero value of each field is a default.
type Config struct {
	// Dir is the store directory.
	Dir string
	// FS is the filesystem; nil means the real disk.
	FS vfs.FS
	// CacheBytes sizes Pebble's block cache; 0 means 64 MiB.
	CacheBytes int64
	// OnFatal is called once when a write or sync fails; nil panics.
	OnFatal func(error)
}

// Engine is a node's Pebble instance.
type Engine struct {
	// closeMu makes Close wait for reads and commits in flight; after it,
	// they fail with ErrClosed instead of reaching a closed Pebble.
	closeMu sync.RWMutex
	closed  bool
	db      *pebble.DB
	opts    *pebble.Options
	dir     string
	onFatal func(error)
	failed  atomic.Bool
}

// Open opens (creating if needed) the engine in cfg.Dir.
func Open(cfg Config) (*Engine, error) {
	if cfg.FS == nil {
		cfg.FS = vfs.Default
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = 64 << 20
	}
	if cfg.OnFatal == nil {
		cfg.OnFatal = func(err error) { panic(err) }
	}
	cache := pebble.NewCache(cfg.CacheBytes)
	defer cache.Unref()
	opts := &pebble.Options{
		FS:                          cfg.FS,
		Cache:                       cache,
		MemTableSize:                32 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      quietLogger{},
	}
	opts.EnsureDefaults() // as Open does; NewSSTWriter reads the defaults
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", cfg.Dir, err)
	}
	return &Engine{db: db, opts: opts, dir: cfg.Dir, onFatal: cfg.OnFatal}, nil
}

// Close closes the engine.
func (e *Engine) Close() error {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.db.Close()
}

func (e *Engine) enter() error {
	e.closeMu.RLock()
	if e.closed {
		e.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (e *Engine) exit() { e.closeMu.RUnlock() }

// Get returns the value of key, or found=false.
func (e *Engine) Get(key []byte) (value []byte, found bool, err error) {
	if err := e.enter(); err != nil {
		return nil, false, err
	}
	defer e.exit()
	return get(e.db, key)
}

func get(r pebble.Reader, key []byte) ([]byte, bool, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("storage: get: %w", err)
	}
	out := bytes.Clone(v)
	_ = c.Close()
	return out, true, nil
}

// NewBatch returns a write-only batch.
func (e *Engine) NewBatch() *Batch { return &Batch{b: e.db.NewBatch(), db: e.db} }

// NewIndexedBatch returns a batch whose reads see its own writes over the
// engine's state.
func (e *Engine) NewIndexedBatch() *Batch {
	return &Batch{b: e.db.NewIndexedBatch(), db: e.db}
}

// Commit applies b. With sync it returns only once b is durable. Any failure
// is fatal: the engine calls OnFatal and refuses further writes.
func (e *Engine) Commit(b *Batch, sync bool) error {
	if e.failed.Load() {
		return fmt.Errorf("%w: engine failed earlier", ErrFatal)
	}
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	opt := pebble.NoSync
	if sync {
		opt = pebble.Sync
	}
	if err := commitBatch(b.b, opt); err != nil {
		err = fmt.Errorf("%w: commit (sync=%v): %v", ErrFatal, sync, err)
		if e.failed.CompareAndSwap(false, true) {
			e.onFatal(err)
		}
		return err
	}
	return nil
}

// commitBatch commits b, turning the panic of quietLogger.Fatalf (Pebble
// calls Fatalf when a commit fails, e.g. a WAL write or sync error, and must
// not continue) back into an error so Commit can fail-stop through OnFatal.
func commitBatch(b *pebble.Batch, opt *pebble.WriteOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(pebbleFatal)
			if !ok {
				panic(r)
			}
			err = f
		}
	}()
	return b.Commit(opt)
}

// Flush forces the memtable to disk; used by tests and at shutdown.
func (e *Engine) Flush() error { return e.db.Flush() }

// NewSnapshot returns a consistent point-in-time view.
func (e *Engine) NewSnapshot() *Snapshot { return &Snapshot{s: e.db.NewSnapshot()} }

// Scan calls fn for each key in [start, end) in order (reverse if asked),
// stopping early when fn returns false.
func (e *Engine) Scan(start, end []byte, reverse bool, fn func(k, v []byte) bool) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.exit()
	return scan(e.db, start, end, reverse, fn)
}

// Metrics exposes Pebble's metrics.
func (e *Engine) Metrics() *pebble.Metrics { return e.db.Metrics() }

// Reader is what reads need: the engine, a snapshot or an indexed batch.
type Reader interface {
	Get(key []byte) (value []byte, found bool, err error)
	Scan(start, end []byte, reverse bool, fn func(k, v []byte) bool) error
}

// Batch is a set of writes committed atomically.
type Batch struct {
	b  *pebble.Batch
	db *pebble.DB
}

// Mark is a point in a batch's history that RollbackTo can return to.
type Mark struct {
	len   int
	count uint32
}

// Mark returns the batch's current point.
func (b *Batch) Mark() Mark { return Mark{len: b.b.Len(), count: b.b.Count()} }

// RollbackTo drops every write made since m. It costs nothing if none was
// made, and a copy of the batch otherwise.
func (b *Batch) RollbackTo(m Mark) error {
	if b.b.Len() == m.len {
		return nil
	}
	if b.b.Len() < m.len {
		return fmt.Errorf("storage: rollback to a mark beyond the batch (%d > %d bytes)", m.len, b.b.Len())
	}
	next := b.db.NewBatch()
	if b.b.Indexed() {
		next = b.db.NewIndexedBatch()
	}
	if m.count > 0 {
		kept := bytes.Clone(b.b.Repr()[:m.len])
		batchrepr.SetCount(kept, m.count)
		prefix := b.db.NewBatch()
		defer func() { _ = prefix.Close() }()
		if err := prefix.SetRepr(kept); err != nil {
			_ = next.Close()
			return fmt.Errorf("storage: rollback: %w", err)
		}
		if err := next.Apply(prefix, nil); err != nil {
			_ = next.Close()
			return fmt.Errorf("storage: rollback: %w", err)
		}
	}
	_ = b.b.Close()
	b.b = next
	return nil
}

// Set writes key=value.
func (b *Batch) Set(key, value []byte) error { return b.b.Set(key, value, nil) }

// Delete removes key.
func (b *Batch) Delete(key []byte) error { return b.b.Delete(key, nil) }

// DeleteRange removes every key in [start, end).
func (b *Batch) DeleteRange(start, end []byte) error { return b.b.DeleteRange(start, end, nil) }

// Get reads through an indexed batch.
func (b *Batch) Get(key []byte) ([]byte, bool, error) { return get(b.b, key) }

// Scan reads through an indexed batch.
func (b *Batch) Scan(start, end []byte, reverse bool, fn func(k, v []byte) bool) error {
	return scan(b.b, start, end, reverse, fn)
}

// Empty reports whether the batch holds no writes.
func (b *Batch) Empty() bool { return b.b.Empty() }

// Len is the batch's encoded size in bytes.
func (b *Batch) Len() int { return b.b.Len() }

// Close releases an uncommitted batch.
func (b *Batch) Close() { _ = b.b.Close() }

// Snapshot is a consistent view of the engine.
type Snapshot struct{ s *pebble.Snapshot }

// Get reads key at the snapshot.
func (s *Snapshot) Get(key []byte) ([]byte, bool, error) { return get(s.s, key) }

// Scan reads at the snapshot.
func (s *Snapshot) Scan(start, end []byte, reverse bool, fn func(k, v []byte) bool) error {
	return scan(s.s, start, end, reverse, fn)
}

// Close releases the snapshot.
func (s *Snapshot) Close() { _ = s.s.Close() }

func scan(r pebble.Reader, start, end []byte, reverse bool, fn func(k, v []byte) bool) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return fmt.Errorf("storage: iter: %w", err)
	}
	valid := it.First()
	if reverse {
		valid = it.Last()
	}
	for ; valid; valid = step(it, reverse) {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return fmt.Errorf("storage: iter value: %w", err)
		}
		if !fn(it.Key(), v) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("storage: iter: %w", err)
	}
	return nil
}

func step(it *pebble.Iterator, reverse bool) bool {
	if reverse {
		return it.Prev()
	}
	return it.Next()
}

var (
	_ Reader = (*Engine)(nil)
	_ Reader = (*Batch)(nil)
	_ Reader = (*Snapshot)(nil)
)

// quietLogger drops Pebble's informational chatter and keeps its errors.
type quietLogger struct{}

func (quietLogger) Infof(format string, args ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	slog.Error(fmt.Sprintf("pebble: "+format, args...))
}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(pebbleFatal{fmt.Sprintf("pebble: "+format, args...)})
}

// pebbleFatal is the panic value of quietLogger.Fatalf; Commit recovers it.
type pebbleFatal struct{ msg string }

func (f pebbleFatal) Error() string { return f.msg }
