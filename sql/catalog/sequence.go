package catalog

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/ordodb/ordo/sql/kvapi"
)

// ErrSequenceLimit is returned when a sequence passes its bound.
var ErrSequenceLimit = errors.New("catalog: sequence reached its limit")

// SeqBlock is a run of values reserved from a sequence's counter: Take
// hands them out in order. It is not safe for concurrent use.
type SeqBlock struct {
	seq  Sequence
	next int64
	left int64
}

// Take returns the block's next value; false when it is used up.
func (b *SeqBlock) Take() (int64, bool) {
	if b == nil || b.left <= 0 {
		return 0, false
	}
	v := b.next
	b.left--
	if b.left > 0 {
		b.next, _ = b.seq.step(seqValue{last: v, called: true})
	}
	return v, true
}

// ReserveBlock takes up to n (at least 1) values from the sequence's
// counter in its own transaction (as PostgreSQL's nextval, it is not
// rolled back with the caller), retrying on conflicts. A block stops
// early at MAXVALUE/MINVALUE without CYCLE; ErrSequenceLimit when not even
// one value is left.
func ReserveBlock(ctx context.Context, db kvapi.DB, id uint64, seq *Sequence, n int64) (*SeqBlock, error) {
	kv, err := db.Begin(ctx)
	for attempt := 0; ; attempt++ {
		if err != nil {
			return nil, err
		}
		b, err2 := reserveOnce(ctx, kv, id, seq, max(n, 1))
		if err2 == nil || !kvapi.IsRetryable(err2) || attempt >= 100 {
			if err2 != nil {
				_ = kv.Rollback(ctx)
			}
			return b, err2
		}
		// Retry with the same conflict priority, so this nextval ages.
		if r, ok := kv.(kvapi.Restarter); ok {
			kv, err = r.Restart(ctx)
		} else {
			_ = kv.Rollback(ctx)
			kv, err = db.Begin(ctx)
		}
	}
}

// NextVal takes one value from the counter in its own transaction.
func NextVal(ctx context.Context, db kvapi.DB, id uint64, seq *Sequence) (int64, error) {
	b, err := ReserveBlock(ctx, db, id, seq, 1)
	if err != nil {
		return 0, err
	}
	v, _ := b.Take()
	return v, nil
}

func reserveOnce(ctx context.Context, kv kvapi.Txn, id uint64, seq *Sequence, n int64) (*SeqBlock, error) {
	cur, found, err := kv.Get(ctx, seqKey(id), kvapi.LockExclusive)
	if err != nil {
		return nil, err
	}
	v := decodeSeqValue(cur, found, seq)
	first, err := seq.step(v)
	if err != nil {
		return nil, err
	}
	b := &SeqBlock{seq: *seq, next: first, left: 1}
	last := first
	for ; b.left < n; b.left++ {
		next, err := seq.step(seqValue{last: last, called: true})
		if err != nil {
			break
		}
		last = next
	}
	if err := kv.Put(ctx, seqKey(id), encodeSeqValue(last, true)); err != nil {
		return nil, err
	}
	return b, kv.Commit(ctx)
}

// seqValue is a sequence's stored state: its last value and whether
// nextval returned it (PostgreSQL's is_called); a fresh sequence is
// {Start, false}.
type seqValue struct {
	last   int64
	called bool
}

func encodeSeqValue(v int64, called bool) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(v))
	if called {
		return b
	}
	return append(b, 0)
}

func decodeSeqValue(b []byte, found bool, seq *Sequence) seqValue {
	if !found || len(b) < 8 {
		return seqValue{last: seq.Start}
	}
	return seqValue{last: int64(binary.BigEndian.Uint64(b)), called: len(b) == 8}
}

// step returns the value nextval hands out after v: v itself when it was
// not called yet, else v plus the increment, wrapped around with CYCLE.
func (s *Sequence) step(v seqValue) (int64, error) {
	if !v.called {
		return v.last, nil
	}
	next, overflow := addInt64(v.last, s.Increment)
	if !overflow && next <= s.Max && next >= s.Min {
		return next, nil
	}
	if !s.Cycle {
		return 0, ErrSequenceLimit
	}
	if s.Increment > 0 {
		return s.Min, nil
	}
	return s.Max, nil
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

// SetVal sets the sequence's value, as PostgreSQL's setval: in its own
// transaction, so it is not rolled back with the caller's. With called
// false the next nextval returns v itself.
func SetVal(ctx context.Context, db kvapi.DB, id uint64, v int64, called bool) error {
	kv, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := kv.Put(ctx, seqKey(id), encodeSeqValue(v, called)); err != nil {
		_ = kv.Rollback(ctx)
		return err
	}
	return kv.Commit(ctx)
}

// DeleteSequenceValue drops a sequence's counter.
func (c *Txn) DeleteSequenceValue(ctx context.Context, id uint64) error {
	return c.KV.Delete(ctx, seqKey(id))
}
