package txn

import (
	"bytes"
	"context"
	"slices"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

// batchRequestBytes bounds the keys and values of one OPS request a Batch
// sends, well under rpc.MaxMessageBytes; a range's share of a larger batch
// goes in several requests.
const batchRequestBytes = 4 << 20

// Batch sends writes (PUT, DELETE and INSERT ops) with one OPS request per
// range they fall in (more when a range's share passes 4 MiB) instead of
// one request per write. Writes to one key keep their order; writes to
// different keys commute, so the batch is sent in key order. The results
// are in the order of ops (an INSERT that found its key says Found). On an
// error some of the writes may have been made: the caller treats the
// batch like a failed statement.
func (t *Txn) Batch(ctx context.Context, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	out := make([]*rpcpb.OpResult, len(ops))
	order := make([]int, len(ops))
	for i, op := range ops {
		switch op.Kind {
		case rpcpb.Op_PUT, rpcpb.Op_DELETE, rpcpb.Op_INSERT:
		default:
			return nil, &batchOpError{op.Kind}
		}
		op.Seq = t.seq
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(ops[a].Key, ops[b].Key) })
	for next := 0; next < len(order); {
		var n int
		res, desc, err := t.send(ctx, ops[order[next]].Key, false, func(d *rpcpb.RangeDescriptor) []*rpcpb.Op {
			var sent []*rpcpb.Op
			size := 0
			for _, i := range order[next:] {
				op := ops[i]
				if len(d.EndKey) > 0 && bytes.Compare(op.Key, d.EndKey) >= 0 {
					break
				}
				if len(sent) > 0 && size+len(op.Key)+len(op.Value) > batchRequestBytes {
					break
				}
				size += len(op.Key) + len(op.Value)
				sent = append(sent, op)
			}
			n = len(sent)
			return sent
		})
		if err != nil {
			return nil, err
		}
		if n == 0 || len(res) != n {
			return nil, &batchOpError{ops[order[next]].Kind}
		}
		for j := 0; j < n; j++ {
			out[order[next+j]] = res[j]
		}
		// send recorded the first key written; record the last one too.
		if p := t.parts[desc.RangeId]; p != nil && p.wrote {
			last := ops[order[next+n-1]].Key
			if bytes.Compare(last, p.last) > 0 {
				p.last = bytes.Clone(last)
			}
		}
		next += n
	}
	return out, nil
}

type batchOpError struct{ kind rpcpb.Op_Kind }

func (e *batchOpError) Error() string { return "txn: " + e.kind.String() + " in a write batch" }
