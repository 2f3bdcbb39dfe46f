package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

// Resolver maps node ids to addresses.
type Resolver interface {
	NodeAddr(nodeID uint64) (string, bool)
}

// LocalSender serves requests for ranges on the gateway's own node without
// a network hop.
type LocalSender interface {
	NodeID() uint64
	Send(ctx context.Context, rangeID uint64, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error)
}

// SenderConfig configures a DistSender. Zero values are defaults.
type SenderConfig struct {
	Dialer   *rpc.Dialer
	Resolver Resolver
	// Local, if set, serves ranges with a replica on this node.
	Local LocalSender
	// MetaDesc returns the meta range's descriptor.
	MetaDesc func(ctx context.Context) (*rpcpb.RangeDescriptor, error)
	// Timeout bounds a request whose context has no deadline (10s).
	Timeout time.Duration
	// ConnectTimeout bounds waiting for a connection to a replica (1s).
	ConnectTimeout time.Duration
	Logger         *slog.Logger
}

// DistSender routes requests to the leaseholders of ranges.
type DistSender struct {
	cfg   SenderConfig
	cache *RangeCache
}

// NewDistSender returns a DistSender with an empty range cache.
func NewDistSender(cfg SenderConfig) *DistSender {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &DistSender{cfg: cfg, cache: NewRangeCache()}
}

// Cache exposes the range cache.
func (ds *DistSender) Cache() *RangeCache { return ds.cache }

// retryError says no replica served the request, and it was not delivered
// anywhere it could have taken effect: safe to try again.
type retryError struct{ last error }

func (e *retryError) Error() string {
	return fmt.Sprintf("kv: no replica could serve the request: %v", e.last)
}
func (e *retryError) Unwrap() error { return e.last }

// Retryable wraps err, from a replica that could not serve a request that
// had no effect, so Route tries elsewhere.
func Retryable(err error) error { return &retryError{last: err} }

// Send sends ops, which must all address the range holding ops[0].Key.
func (ds *DistSender) Send(ctx context.Context, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	res, _, err := ds.send(ctx, ops[0].Key, func(*rpcpb.RangeDescriptor) []*rpcpb.Op { return ops })
	return res, err
}

// send looks up the range holding key, builds the ops for it and sends them
// to its leaseholder, retrying on routing errors until ctx's deadline.
func (ds *DistSender) send(ctx context.Context, key []byte, build func(*rpcpb.RangeDescriptor) []*rpcpb.Op) ([]*rpcpb.OpResult, *rpcpb.RangeDescriptor, error) {
	var res []*rpcpb.OpResult
	desc, err := ds.Route(ctx, key, func(ctx context.Context, desc *rpcpb.RangeDescriptor, node uint64) error {
		var err error
		res, err = ds.sendToNode(ctx, node, desc.RangeId, build(desc))
		return err
	})
	return res, desc, err
}

// NodeCall is one attempt to serve a request at a replica of desc on node.
type NodeCall func(ctx context.Context, desc *rpcpb.RangeDescriptor, node uint64) error

// Route calls call at the replicas of the range holding key, the believed
// leaseholder first, following NotLeaseholder hints and RangeKeyMismatch
// descriptors and retrying until ctx's deadline. It returns the descriptor
// of the range that served the call.
func (ds *DistSender) Route(ctx context.Context, key []byte, call NodeCall) (*rpcpb.RangeDescriptor, error) {
	if !keys.Addressable(key) {
		return nil, kverr.BadRequestf("key %s is not addressable", keys.Pretty(key))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ds.cfg.Timeout)
		defer cancel()
	}
	backoff := 5 * time.Millisecond
	var last error
	for attempt := 0; ; attempt++ {
		desc, err := ds.lookup(ctx, key)
		if err == nil {
			err = ds.tryReplicas(ctx, desc, call)
			if err == nil {
				return desc, nil
			}
			var km *kverr.RangeKeyMismatchError
			if errors.As(err, &km) {
				ds.cache.Evict(desc.RangeId)
				ds.cache.Insert(km.Descriptors...)
				last = err
				continue
			}
			var re *retryError
			if !errors.As(err, &re) {
				return nil, err
			}
			if attempt%4 == 3 {
				ds.cache.Evict(desc.RangeId) // perhaps stale; look it up again
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v (last error: %v)", kverr.ErrUnavailable, ctx.Err(), last)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// lookup finds the descriptor of the range holding key.
func (ds *DistSender) lookup(ctx context.Context, key []byte) (*rpcpb.RangeDescriptor, error) {
	if d := ds.cache.Lookup(key); d != nil {
		return d, nil
	}
	meta, err := ds.cfg.MetaDesc(ctx)
	if err != nil {
		return nil, &retryError{last: err}
	}
	if bytes.Compare(key, meta.EndKey) < 0 {
		ds.cache.Insert(meta)
		return meta, nil
	}
	op := &rpcpb.Op{Kind: rpcpb.Op_SCAN, Key: keys.MetaLookupStart(key), EndKey: keys.MetaSpanEnd(), Limit: 1}
	var res []*rpcpb.OpResult
	err = ds.tryReplicas(ctx, meta, func(ctx context.Context, desc *rpcpb.RangeDescriptor, node uint64) error {
		var err error
		res, err = ds.sendToNode(ctx, node, desc.RangeId, []*rpcpb.Op{op})
		return err
	})
	if err != nil {
		var km *kverr.RangeKeyMismatchError
		if errors.As(err, &km) {
			return nil, &retryError{last: err}
		}
		return nil, err
	}
	if len(res[0].Rows) == 0 {
		return nil, &retryError{last: fmt.Errorf("kv: no meta record for key %s", keys.Pretty(key))}
	}
	d := &rpcpb.RangeDescriptor{}
	if err := proto.Unmarshal(res[0].Rows[0].Value, d); err != nil {
		return nil, fmt.Errorf("kv: corrupt meta record: %w", err)
	}
	ds.cache.Insert(d)
	if bytes.Compare(key, d.StartKey) < 0 {
		// Meta is behind a split that has applied; retry after repair.
		return nil, &retryError{last: fmt.Errorf("kv: meta record of range %d does not cover %s", d.RangeId, keys.Pretty(key))}
	}
	return d, nil
}

func isWrite(ops []*rpcpb.Op) bool {
	for _, op := range ops {
		if op.Kind != rpcpb.Op_GET && op.Kind != rpcpb.Op_SCAN {
			return true
		}
	}
	return false
}

// tryReplicas tries the range's replicas, the believed leaseholder first.
func (ds *DistSender) tryReplicas(ctx context.Context, desc *rpcpb.RangeDescriptor, call NodeCall) error {
	order := ds.replicaOrder(desc)
	tried := map[uint64]bool{}
	var last error = fmt.Errorf("range %d has no reachable replica", desc.RangeId)
	for len(order) > 0 {
		node := order[0]
		order = order[1:]
		if tried[node] {
			continue
		}
		tried[node] = true
		err := call(ctx, desc, node)
		if err == nil {
			ds.cache.SetLeaseholder(desc.RangeId, node)
			return nil
		}
		var nl *kverr.NotLeaseholderError
		var nf *kverr.RangeNotFoundError
		var re *retryError
		switch {
		case errors.As(err, &nl):
			if nl.Leaseholder != nil && nl.Leaseholder.NodeId != 0 && !tried[nl.Leaseholder.NodeId] {
				ds.cache.SetLeaseholder(desc.RangeId, nl.Leaseholder.NodeId)
				order = append([]uint64{nl.Leaseholder.NodeId}, order...)
			}
		case errors.As(err, &nf), errors.As(err, &re):
		default:
			return err
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return &retryError{last: last}
}

func (ds *DistSender) replicaOrder(desc *rpcpb.RangeDescriptor) []uint64 {
	lh := ds.cache.Leaseholder(desc.RangeId)
	order := make([]uint64, 0, len(desc.Replicas)+1)
	if lh != 0 {
		order = append(order, lh)
	}
	for _, r := range desc.Replicas {
		if r.NodeId != lh {
			order = append(order, r.NodeId)
		}
	}
	return order
}

// sendToNode sends to one replica. A failure that may have delivered a write
// is ambiguous; one that cannot have delivered it is a retryError.
func (ds *DistSender) sendToNode(ctx context.Context, node, rangeID uint64, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	if l := ds.cfg.Local; l != nil && l.NodeID() == node {
		return l.Send(ctx, rangeID, ops)
	}
	addr, ok := ds.cfg.Resolver.NodeAddr(node)
	if !ok {
		return nil, &retryError{last: fmt.Errorf("address of node %d unknown", node)}
	}
	if err := ds.cfg.Dialer.Ready(ctx, addr, ds.cfg.ConnectTimeout); err != nil {
		return nil, &retryError{last: err}
	}
	client, err := ds.cfg.Dialer.Client(addr)
	if err != nil {
		return nil, &retryError{last: err}
	}
	resp, err := client.Batch(ctx, &rpcpb.BatchRequest{RangeId: rangeID, Ops: ops})
	if err != nil {
		if isWrite(ops) {
			return nil, &kverr.AmbiguousError{Reason: fmt.Sprintf("range %d on node %d: %v", rangeID, node, err)}
		}
		return nil, &retryError{last: err}
	}
	if resp.Error != nil {
		return nil, kverr.FromProto(resp.Error)
	}
	if len(resp.Results) != len(ops) {
		return nil, fmt.Errorf("kv: node %d returned %d results for %d ops", node, len(resp.Results), len(ops))
	}
	return resp.Results, nil
}
