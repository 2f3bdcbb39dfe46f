package replica

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

// maxScanRows bounds a scan without a limit.
const maxScanRows = 100_000

// evalReads evaluates read-only ops; filters compiles their scan filters.
func evalReads(rd storage.Reader, ops []*rpcpb.Op, filters *FilterCache) ([]*rpcpb.OpResult, error) {
	out := make([]*rpcpb.OpResult, len(ops))
	for i, op := range ops {
		res, err := evalRead(rd, op, filters)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

func evalRead(rd storage.Reader, op *rpcpb.Op, filters *FilterCache) (*rpcpb.OpResult, error) {
	switch op.Kind {
	case rpcpb.Op_GET:
		v, found, err := rd.Get(op.Key)
		return &rpcpb.OpResult{Found: found, Value: v}, err
	case rpcpb.Op_SCAN:
		pred, err := scanPredicate(filters, op.Filter)
		if err != nil {
			return nil, err
		}
		return evalScan(rd, op, pred)
	}
	return nil, kverr.BadRequestf("op %v is not a read", op.Kind)
}

// evalScan reads op's span up to its limit of rows; with pred, only the
// rows it matches are returned and count towards the limit.
func evalScan(rd storage.Reader, op *rpcpb.Op, pred Predicate) (*rpcpb.OpResult, error) {
	limit := op.Limit
	if limit <= 0 || limit > maxScanRows {
		limit = maxScanRows
	}
	res := &rpcpb.OpResult{}
	var ferr error
	err := rd.Scan(op.Key, op.EndKey, op.Reverse, func(k, v []byte) bool {
		if int64(len(res.Rows)) == limit {
			res.More = true
			return false
		}
		res.Scanned++
		if pred != nil {
			ok, err := matches(pred, k, v)
			if err != nil || !ok {
				ferr = err
				return err == nil
			}
		}
		res.Rows = append(res.Rows, &rpcpb.KeyValue{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		return true
	})
	if err == nil {
		err = ferr
	}
	return res, err
}

// evalWrite evaluates one op of a command against the apply batch. Errors
// of type deterministic are results (the same on every replica); storage
// errors are returned separately and are fatal.
func evalWrite(b *storage.Batch, op *rpcpb.Op) (res *rpcpb.OpResult, deterministic error, fatal error) {
	switch op.Kind {
	case rpcpb.Op_GET, rpcpb.Op_SCAN:
		if len(op.Filter) > 0 {
			// Replicated evaluation must not depend on a node's compiler.
			return nil, kverr.BadRequestf("scan filter: not evaluated in a replicated command"), nil
		}
		res, err := evalRead(b, op, nil)
		return res, nil, err
	case rpcpb.Op_PUT:
		return &rpcpb.OpResult{}, nil, b.Set(op.Key, op.Value)
	case rpcpb.Op_DELETE:
		_, found, err := b.Get(op.Key)
		if err != nil || !found {
			return &rpcpb.OpResult{}, nil, err
		}
		return &rpcpb.OpResult{Found: true, Deleted: 1}, nil, b.Delete(op.Key)
	case rpcpb.Op_DELETE_RANGE:
		return evalDeleteRange(b, op)
	case rpcpb.Op_CAS:
		return evalCAS(b, op)
	case rpcpb.Op_INCREMENT:
		return evalIncrement(b, op)
	case rpcpb.Op_META_PUT:
		return evalMetaPut(b, op)
	}
	return nil, kverr.BadRequestf("unknown op kind %v", op.Kind), nil
}

func evalDeleteRange(b *storage.Batch, op *rpcpb.Op) (*rpcpb.OpResult, error, error) {
	var n int64
	err := b.Scan(op.Key, op.EndKey, false, func(k, v []byte) bool { n++; return true })
	if err != nil {
		return nil, nil, err
	}
	return &rpcpb.OpResult{Deleted: n}, nil, b.DeleteRange(op.Key, op.EndKey)
}

func evalCAS(b *storage.Batch, op *rpcpb.Op) (*rpcpb.OpResult, error, error) {
	cur, found, err := b.Get(op.Key)
	if err != nil {
		return nil, nil, err
	}
	match := (op.ExpectAbsent && !found) || (!op.ExpectAbsent && found && bytes.Equal(cur, op.Expected))
	if !match {
		return &rpcpb.OpResult{Found: found, Value: cur}, nil, nil
	}
	return &rpcpb.OpResult{Swapped: true, Found: found, Value: cur}, nil, b.Set(op.Key, op.Value)
}

// Counters are stored as 8-byte big-endian integers.
func evalIncrement(b *storage.Batch, op *rpcpb.Op) (*rpcpb.OpResult, error, error) {
	cur, found, err := b.Get(op.Key)
	if err != nil {
		return nil, nil, err
	}
	var v int64
	if found {
		if len(cur) != 8 {
			return nil, kverr.BadRequestf("increment: key holds %d bytes, not a counter", len(cur)), nil
		}
		v = int64(binary.BigEndian.Uint64(cur))
	}
	v += op.Delta
	return &rpcpb.OpResult{IntValue: v, Found: found}, nil, b.Set(op.Key, EncodeCounter(v))
}

// EncodeCounter is the stored form of a counter value.
func EncodeCounter(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

// DecodeCounter reads a stored counter.
func DecodeCounter(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("replica: counter of %d bytes: %s", len(b), strconv.Quote(string(b)))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

func evalMetaPut(b *storage.Batch, op *rpcpb.Op) (*rpcpb.OpResult, error, error) {
	next := &rpcpb.RangeDescriptor{}
	if err := proto.Unmarshal(op.Value, next); err != nil {
		return nil, kverr.BadRequestf("meta put: corrupt descriptor: %v", err), nil
	}
	cur, found, err := b.Get(op.Key)
	if err != nil {
		return nil, nil, err
	}
	if found {
		old := &rpcpb.RangeDescriptor{}
		if err := proto.Unmarshal(cur, old); err == nil && !DescNewer(next, old) {
			return &rpcpb.OpResult{Found: true, Value: cur}, nil, nil
		}
	}
	return &rpcpb.OpResult{Swapped: true, Found: found}, nil, b.Set(op.Key, op.Value)
}
