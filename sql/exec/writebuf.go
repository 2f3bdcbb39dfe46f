package exec

import (
	"context"
	"errors"

	"github.com/ordodb/ordo/sql/kvapi"
)

// Bounds of a write buffer: it is sent when it holds this many writes or
// bytes of keys and values (well under the KV layer's message bounds).
const (
	writeBufOps   = 2000
	writeBufBytes = 1 << 20
)

// writeBuf batches the row writes of a bulk statement (COPY FROM, INSERT,
// ALTER TABLE's rewrites): they go to the KV layer as one request per
// range per batch (kvapi.WriteBatch) instead of one request per write.
// Memory stays bounded by the buffer's size whatever the statement's.
// Any other KV call of the statement (c.kv()) sends the buffer first, so
// reads see the statement's own writes.
type writeBuf struct {
	ws    []kvapi.Write
	dup   []func() error // per write: the error of an Insert that found its key
	bytes int
}

// batched runs f with c's row writes buffered and sends what is left at
// the end. Nested calls share the outer buffer.
func (c *Ctx) batched(f func() error) error {
	if c.buf != nil {
		return f()
	}
	c.buf = &writeBuf{}
	defer func() { c.buf = nil }()
	if err := f(); err != nil {
		return err
	}
	return c.flush()
}

// Batched is batched for the sql package's COPY FROM.
func Batched(c *Ctx, f func() error) error { return c.batched(f) }

func (c *Ctx) write(w kvapi.Write, dup func() error) error {
	if c.buf == nil {
		t := c.Cat.KV
		switch {
		case w.Delete:
			return t.Delete(c.Context, w.Key)
		case w.Insert:
			if err := t.Insert(c.Context, w.Key, w.Value); err != nil {
				if dup != nil && errors.Is(err, kvapi.ErrKeyExists) {
					return dup()
				}
				return err
			}
			return nil
		}
		return t.Put(c.Context, w.Key, w.Value)
	}
	b := c.buf
	b.ws = append(b.ws, w)
	b.dup = append(b.dup, dup)
	b.bytes += len(w.Key) + len(w.Value)
	if len(b.ws) >= writeBufOps || b.bytes >= writeBufBytes {
		return c.flush()
	}
	return nil
}

// put, del and insert write one key, through the buffer when there is
// one. insert's dup is the error when the key exists (nil: ErrKeyExists).
func (c *Ctx) put(k, v []byte) error { return c.write(kvapi.Write{Key: k, Value: v}, nil) }
func (c *Ctx) del(k []byte) error    { return c.write(kvapi.Write{Key: k, Delete: true}, nil) }
func (c *Ctx) insert(k, v []byte, dup func() error) error {
	return c.write(kvapi.Write{Key: k, Value: v, Insert: true}, dup)
}

// flush sends the buffered writes. The first Insert that found its key
// fails the statement with its dup error (one that returns nil only
// takes note, and the next is looked at).
func (c *Ctx) flush() error {
	b := c.buf
	if b == nil || len(b.ws) == 0 {
		return nil
	}
	ws, dup := b.ws, b.dup
	b.ws, b.dup, b.bytes = nil, nil, 0
	exists, err := kvapi.WriteBatch(c.Context, c.Cat.KV, ws)
	if err != nil {
		return err
	}
	for i, e := range exists {
		if !e {
			continue
		}
		if dup[i] == nil {
			return kvapi.ErrKeyExists
		}
		if err := dup[i](); err != nil {
			return err
		}
	}
	return nil
}

// flushFirst is c's transaction while writes are buffered: each call sends
// them first.
type flushFirst struct {
	c *Ctx
	kvapi.Txn
}

func (f flushFirst) Get(ctx context.Context, key []byte, lock kvapi.Lock) ([]byte, bool, error) {
	if err := f.c.flush(); err != nil {
		return nil, false, err
	}
	return f.Txn.Get(ctx, key, lock)
}

func (f flushFirst) Scan(ctx context.Context, start, end []byte, limit int, reverse bool, lock kvapi.Lock) ([]kvapi.KeyValue, error) {
	if err := f.c.flush(); err != nil {
		return nil, err
	}
	return f.Txn.Scan(ctx, start, end, limit, reverse, lock)
}

func (f flushFirst) Put(ctx context.Context, key, value []byte) error {
	if err := f.c.flush(); err != nil {
		return err
	}
	return f.Txn.Put(ctx, key, value)
}

func (f flushFirst) Insert(ctx context.Context, key, value []byte) error {
	if err := f.c.flush(); err != nil {
		return err
	}
	return f.Txn.Insert(ctx, key, value)
}

func (f flushFirst) Delete(ctx context.Context, key []byte) error {
	if err := f.c.flush(); err != nil {
		return err
	}
	return f.Txn.Delete(ctx, key)
}

func (f flushFirst) DeleteRange(ctx context.Context, start, end []byte) error {
	if err := f.c.flush(); err != nil {
		return err
	}
	return f.Txn.DeleteRange(ctx, start, end)
}

func (f flushFirst) Commit(ctx context.Context) error {
	if err := f.c.flush(); err != nil {
		return err
	}
	return f.Txn.Commit(ctx)
}
