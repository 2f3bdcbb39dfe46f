package kv

import (
	"bytes"
	"context"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

// DB is the non-transactional KV API: each call is one linearizable
// operation on one range (Scan and DeleteRange visit ranges one by one).
type DB struct {
	ds *DistSender
}

// NewDB returns a DB over ds.
func NewDB(ds *DistSender) *DB { return &DB{ds: ds} }

// Sender returns the DB's DistSender.
func (db *DB) Sender() *DistSender { return db.ds }

func (db *DB) one(ctx context.Context, op *rpcpb.Op) (*rpcpb.OpResult, error) {
	res, err := db.ds.Send(ctx, []*rpcpb.Op{op})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Get reads key.
func (db *DB) Get(ctx context.Context, key []byte) (value []byte, found bool, err error) {
	res, err := db.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_GET, Key: key})
	if err != nil {
		return nil, false, err
	}
	return res.Value, res.Found, nil
}

// Put writes key=value.
func (db *DB) Put(ctx context.Context, key, value []byte) error {
	_, err := db.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: key, Value: value})
	return err
}

// Delete removes key, reporting whether it existed.
func (db *DB) Delete(ctx context.Context, key []byte) (bool, error) {
	res, err := db.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_DELETE, Key: key})
	if err != nil {
		return false, err
	}
	return res.Found, nil
}

// CAS sets key to value if its current value is expected (or, with
// expected == nil, if it is absent). It returns whether it swapped and, if
// not, the current value.
func (db *DB) CAS(ctx context.Context, key, expected, value []byte) (swapped bool, actual []byte, found bool, err error) {
	op := &rpcpb.Op{Kind: rpcpb.Op_CAS, Key: key, Value: value, Expected: expected, ExpectAbsent: expected == nil}
	res, err := db.one(ctx, op)
	if err != nil {
		return false, nil, false, err
	}
	return res.Swapped, res.Value, res.Found, nil
}

// Increment adds delta to the counter at key and returns the new value.
func (db *DB) Increment(ctx context.Context, key []byte, delta int64) (int64, error) {
	res, err := db.one(ctx, &rpcpb.Op{Kind: rpcpb.Op_INCREMENT, Key: key, Delta: delta})
	if err != nil {
		return 0, err
	}
	return res.IntValue, nil
}

// Scan returns up to limit (0: no limit) rows in [start, end), across ranges.
func (db *DB) Scan(ctx context.Context, start, end []byte, limit int64) ([]*rpcpb.KeyValue, error) {
	var out []*rpcpb.KeyValue
	for bytes.Compare(start, end) < 0 {
		remaining := int64(0)
		if limit > 0 {
			remaining = limit - int64(len(out))
		}
		res, desc, err := db.ds.send(ctx, start, func(d *rpcpb.RangeDescriptor) []*rpcpb.Op {
			return []*rpcpb.Op{{Kind: rpcpb.Op_SCAN, Key: start, EndKey: clampEnd(end, d), Limit: remaining}}
		})
		if err != nil {
			return nil, err
		}
		out = append(out, res[0].Rows...)
		if (limit > 0 && int64(len(out)) >= limit) || res[0].More && limit > 0 {
			return out[:min(int64(len(out)), limit)], nil
		}
		if res[0].More {
			start = append(bytes.Clone(res[0].Rows[len(res[0].Rows)-1].Key), 0)
			continue
		}
		start = desc.EndKey
	}
	return out, nil
}

// DeleteRange removes every key in [start, end), returning how many.
func (db *DB) DeleteRange(ctx context.Context, start, end []byte) (int64, error) {
	var n int64
	for bytes.Compare(start, end) < 0 {
		res, desc, err := db.ds.send(ctx, start, func(d *rpcpb.RangeDescriptor) []*rpcpb.Op {
			return []*rpcpb.Op{{Kind: rpcpb.Op_DELETE_RANGE, Key: start, EndKey: clampEnd(end, d)}}
		})
		if err != nil {
			return n, err
		}
		n += res[0].Deleted
		start = desc.EndKey
	}
	return n, nil
}

func clampEnd(end []byte, d *rpcpb.RangeDescriptor) []byte {
	if bytes.Compare(end, d.EndKey) > 0 {
		return d.EndKey
	}
	return end
}
