package nemesis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/grpc"
)

// The range nemeses act through ordo's own admin RPCs, sent straight to a
// node's gRPC listener (never through a proxy, so they work whatever the
// network faults): lease moves leases, split splits ranges.

// adminTimeout bounds one admin RPC; moveWait is how long lease waits to
// see a moved lease.
const (
	adminTimeout = 10 * time.Second
	moveWait     = 10 * time.Second
)

// admin runs fn against node i's gRPC listener.
func (c *Cluster) admin(ctx context.Context, i int, fn func(context.Context, rpcpb.NodeClient) error) error {
	conn, err := grpc.NewClient(c.Nodes[i].Addr, rpc.DialOptions()...)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	return fn(ctx, rpcpb.NewNodeClient(conn))
}

// nodeIndex maps node ids to the cluster's node indexes, by SQL address.
func (c *Cluster) nodeIndex(ctx context.Context, i int) (map[uint64]int, error) {
	var resp *rpcpb.NodeStatusResponse
	err := c.admin(ctx, i, func(ctx context.Context, nc rpcpb.NodeClient) (err error) {
		resp, err = nc.NodeStatus(ctx, &rpcpb.NodeStatusRequest{}, grpc.WaitForReady(true))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[uint64]int{}
	for _, ns := range resp.Nodes {
		for j, n := range c.Nodes {
			if ns.GetNode().GetSqlAddress() == n.SQLAddr {
				out[ns.GetNode().GetNodeId()] = j
			}
		}
	}
	return out, nil
}

// UserRange is a range of user data and where its lease is.
type UserRange struct {
	Desc *rpcpb.RangeDescriptor
	// Leaseholder is the node index of the leaseholder, -1 if none is
	// known; Replicas the node indexes of its replicas.
	Leaseholder int
	Replicas    []int
	// Locks and Prepared count the locks held and the prepared records
	// awaiting resolution at the leaseholder; Keys the keys it holds (as
	// its last statistics say).
	Locks, Prepared int
	Keys            int64
}

// UserRanges lists the ranges holding user keys (tables), asking node i.
func (c *Cluster) UserRanges(ctx context.Context, i int) ([]UserRange, error) {
	idx, err := c.nodeIndex(ctx, i)
	if err != nil {
		return nil, err
	}
	var resp *rpcpb.RangeListResponse
	err = c.admin(ctx, i, func(ctx context.Context, nc rpcpb.NodeClient) (err error) {
		resp, err = nc.RangeList(ctx, &rpcpb.RangeListRequest{}, grpc.WaitForReady(true))
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []UserRange
	for _, ri := range resp.Ranges {
		d := ri.GetDesc()
		if end := d.GetEndKey(); len(end) != 0 && bytes.Compare(end, keys.UserMin) <= 0 {
			continue // system ranges
		}
		ur := UserRange{Desc: d, Leaseholder: -1}
		if j, ok := idx[ri.NodeId]; ok && ri.IsLeaseholder {
			ur.Leaseholder = j
			ur.Locks, ur.Prepared, ur.Keys = int(ri.LocksHeld), len(ri.Prepared), ri.KeyCount
		}
		for _, r := range d.Replicas {
			if j, ok := idx[r.NodeId]; ok {
				ur.Replicas = append(ur.Replicas, j)
			}
		}
		slices.Sort(ur.Replicas)
		out = append(out, ur)
	}
	return out, nil
}

// aimAtLeaseholder decides, with probability 1/2, to aim a fault at the
// leaseholder of a random user range (testing.md §4: the leaseholder is
// where a stale read or a lost write would come from) and returns its node
// index and the range id. False (aim at random) on the other half, or if
// no running node answers the range list in time.
func (c *Cluster) aimAtLeaseholder(ctx context.Context, rng *rand.Rand) (int, uint64, bool) {
	if rng.IntN(2) == 0 {
		return 0, 0, false
	}
	return c.leaseholderOf(ctx, rng)
}

// leaseholderOf returns the node index of the leaseholder of a random user
// range and the range id, asking a running node; false if none answers in
// time or no user range has a leaseholder.
func (c *Cluster) leaseholderOf(ctx context.Context, rng *rand.Rand) (int, uint64, bool) {
	for _, i := range rng.Perm(len(c.Nodes)) {
		if st, err := ProcState(c.Pid(i)); err != nil || st == 'T' || !c.Running(i) {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ranges, err := c.UserRanges(ctx, i)
		cancel()
		if err != nil {
			continue
		}
		var held []UserRange
		for _, r := range ranges {
			if r.Leaseholder >= 0 {
				held = append(held, r)
			}
		}
		if len(held) == 0 {
			return 0, 0, false
		}
		r := held[rng.IntN(len(held))]
		return r.Leaseholder, r.Desc.RangeId, true
	}
	return 0, 0, false
}

// nodeID is the node id of node index i, from idx.
func nodeID(idx map[uint64]int, i int) (uint64, bool) {
	for id, j := range idx {
		if j == i {
			return id, true
		}
	}
	return 0, false
}

// lease moves the leases of up to three user ranges, each to another of
// its replicas, and checks that each moved (a transfer to a learner fails;
// the fault fails only if no lease moved).
type lease struct{}

func (lease) Name() string { return LeaseName }

func (lease) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	from := rng.IntN(len(c.Nodes))
	idx, err := c.nodeIndex(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("nemesis: lease: %w", err)
	}
	ranges, err := c.UserRanges(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("nemesis: lease: %w", err)
	}
	rng.Shuffle(len(ranges), func(a, b int) { ranges[a], ranges[b] = ranges[b], ranges[a] })
	var moves []string
	var errs []error
	for _, r := range ranges {
		if len(moves) == 3 {
			break
		}
		var targets []int
		for _, j := range r.Replicas {
			if j != r.Leaseholder {
				targets = append(targets, j)
			}
		}
		if r.Leaseholder < 0 || len(targets) == 0 {
			continue
		}
		to := targets[rng.IntN(len(targets))]
		if err := c.moveLease(ctx, idx, r, to); err != nil {
			errs = append(errs, err)
			continue
		}
		moves = append(moves, fmt.Sprintf("r%d n%d→n%d", r.Desc.RangeId, r.Leaseholder+1, to+1))
	}
	if len(moves) == 0 {
		if len(errs) == 0 {
			errs = append(errs, errors.New("no user range has a leaseholder and another voter"))
		}
		return nil, fmt.Errorf("nemesis: lease: %w", errors.Join(errs...))
	}
	return &Fault{Name: LeaseName, Desc: joinWords(moves), heal: func(context.Context) error { return nil }}, nil
}

// moveLease asks r's leaseholder to hand the lease to node index to, and
// waits until the range list shows it there (or, if the new leaseholder
// lost it again at once, anywhere but the old one).
func (c *Cluster) moveLease(ctx context.Context, idx map[uint64]int, r UserRange, to int) error {
	target, ok := nodeID(idx, to)
	if !ok {
		return fmt.Errorf("n%d has no node id", to+1)
	}
	err := c.admin(ctx, r.Leaseholder, func(ctx context.Context, nc rpcpb.NodeClient) error {
		resp, err := nc.TransferLease(ctx, &rpcpb.TransferLeaseRequest{RangeId: r.Desc.RangeId, TargetNodeId: target})
		if err != nil {
			return err
		}
		return kverr.FromProto(resp.Error)
	})
	if err != nil {
		return fmt.Errorf("r%d to n%d: %w", r.Desc.RangeId, to+1, err)
	}
	deadline := time.Now().Add(moveWait)
	for {
		ranges, err := c.UserRanges(ctx, to)
		if err == nil {
			for _, now := range ranges {
				if now.Desc.RangeId == r.Desc.RangeId && now.Leaseholder >= 0 && now.Leaseholder != r.Leaseholder {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("r%d: the lease did not leave n%d within %s (asked to move it to n%d)", r.Desc.RangeId, r.Leaseholder+1, moveWait, to+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// split splits a random user range that holds at least two keys at the
// middle of its data, and checks that the range list shows both halves.
// When no range holds two keys (every row already in a range of its own)
// there is nothing to split: the fault says so and does nothing.
type split struct{}

func (split) Name() string { return SplitName }

func (split) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	ranges, err := c.UserRanges(ctx, rng.IntN(len(c.Nodes)))
	if err != nil {
		return nil, fmt.Errorf("nemesis: split: %w", err)
	}
	rng.Shuffle(len(ranges), func(a, b int) { ranges[a], ranges[b] = ranges[b], ranges[a] })
	var errs []error
	tried := 0
	for _, r := range ranges {
		if r.Leaseholder < 0 || r.Keys < 2 {
			continue
		}
		tried++
		var resp *rpcpb.AdminSplitResponse
		err := c.admin(ctx, r.Leaseholder, func(ctx context.Context, nc rpcpb.NodeClient) (err error) {
			resp, err = nc.AdminSplit(ctx, &rpcpb.AdminSplitRequest{RangeId: r.Desc.RangeId})
			if err == nil {
				err = kverr.FromProto(resp.Error)
			}
			return err
		})
		if err != nil {
			if errors.Is(err, kverr.ErrBadRequest) {
				continue // fewer keys than its statistics said: try another
			}
			errs = append(errs, fmt.Errorf("r%d: %w", r.Desc.RangeId, err))
			if len(errs) == 3 {
				break
			}
			continue
		}
		if resp.Left == nil || resp.Right == nil {
			errs = append(errs, fmt.Errorf("r%d: the split answered no new range", r.Desc.RangeId))
			continue
		}
		desc := fmt.Sprintf("r%d at %s: new r%d", r.Desc.RangeId, keys.Pretty(resp.Right.StartKey), resp.Right.RangeId)
		if err := c.waitRange(ctx, r.Leaseholder, resp.Right.RangeId); err != nil {
			return nil, fmt.Errorf("nemesis: split %s: %w", desc, err)
		}
		return &Fault{Name: SplitName, Desc: desc, heal: func(context.Context) error { return nil }}, nil
	}
	if len(errs) == 0 {
		desc := fmt.Sprintf("nothing: none of %d user ranges holds two keys (%d tried)", len(ranges), tried)
		return &Fault{Name: SplitName, Desc: desc, heal: func(context.Context) error { return nil }}, nil
	}
	return nil, fmt.Errorf("nemesis: split: %w", errors.Join(errs...))
}

// waitRange waits until node i's range list has the range.
func (c *Cluster) waitRange(ctx context.Context, i int, rangeID uint64) error {
	deadline := time.Now().Add(moveWait)
	for {
		ranges, err := c.UserRanges(ctx, i)
		if err == nil {
			for _, r := range ranges {
				if r.Desc.RangeId == rangeID {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("r%d is not in the range list after %s (last error: %v)", rangeID, moveWait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func joinWords(ws []string) string {
	var b bytes.Buffer
	for i, w := range ws {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w)
	}
	return b.String()
}

// Settled waits (up to bound) until every user range has a leaseholder
// holding no lock and no prepared record: what a finished run must leave
// (testing.md §8.2, R4: in-doubt transactions resolved, lock tables empty).
// It returns how long that took, or what was left at the bound.
func (c *Cluster) Settled(ctx context.Context, bound time.Duration) (time.Duration, error) {
	start := time.Now()
	var left string
	for {
		left = ""
		ranges, err := c.UserRanges(ctx, int(time.Since(start)/time.Second)%len(c.Nodes))
		if err != nil {
			left = err.Error()
		}
		for _, r := range ranges {
			switch {
			case r.Leaseholder < 0:
				left += fmt.Sprintf(" r%d has no leaseholder;", r.Desc.RangeId)
			case r.Locks > 0 || r.Prepared > 0:
				left += fmt.Sprintf(" r%d at n%d holds %d locks and %d prepared records;", r.Desc.RangeId, r.Leaseholder+1, r.Locks, r.Prepared)
			}
		}
		if left == "" {
			return time.Since(start), nil
		}
		if time.Since(start) > bound {
			return time.Since(start), fmt.Errorf("%s after the run:%s", bound, left)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// membership decommissions a random node (the replicate queue moves its
// replicas and leases to the others: replication changes, snapshots,
// learners promoted) and recommissions it at the heal (they come back as
// the queue rebalances). It needs more nodes than the replication factor
// to move anything; with three it only marks the node.
type membership struct{}

func (membership) Name() string { return MembershipName }

func (membership) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	i := rng.IntN(len(c.Nodes))
	via := (i + 1) % len(c.Nodes)
	idx, err := c.nodeIndex(ctx, via)
	if err != nil {
		return nil, fmt.Errorf("nemesis: membership: %w", err)
	}
	id, ok := nodeID(idx, i)
	if !ok {
		return nil, fmt.Errorf("nemesis: membership: n%d has no node id", i+1)
	}
	if err := c.decommission(ctx, via, id, false); err != nil {
		return nil, err
	}
	return &Fault{Name: MembershipName, Desc: fmt.Sprintf("n%d decommissioned", i+1), heal: func(ctx context.Context) error {
		return c.decommission(ctx, via, id, true)
	}}, nil
}

// decommission marks node id as being decommissioned (or, with recommission,
// clears the mark), asking node index via, and checks the mark.
func (c *Cluster) decommission(ctx context.Context, via int, id uint64, recommission bool) error {
	return c.admin(ctx, via, func(ctx context.Context, nc rpcpb.NodeClient) error {
		if _, err := nc.Decommission(ctx, &rpcpb.DecommissionRequest{NodeId: id, Recommission: recommission}, grpc.WaitForReady(true)); err != nil {
			return fmt.Errorf("nemesis: membership: decommission node %d (recommission %v): %w", id, recommission, err)
		}
		resp, err := nc.NodeStatus(ctx, &rpcpb.NodeStatusRequest{}, grpc.WaitForReady(true))
		if err != nil {
			return err
		}
		for _, ns := range resp.Nodes {
			if ns.GetNode().GetNodeId() == id && ns.Decommissioning == recommission {
				return fmt.Errorf("nemesis: membership: node %d shows decommissioning=%v after the change", id, ns.Decommissioning)
			}
		}
		return nil
	})
}

// ReplicasAgree waits (up to bound) until every replica of every user range
// is at the same applied index, and then checks that their checksums are
// equal (testing.md §8.2: range checksums equal across replicas at the same
// applied index). It returns the number of ranges compared; the error is a
// divergence, or replicas still apart at the bound.
func (c *Cluster) ReplicasAgree(ctx context.Context, bound time.Duration) (int, error) {
	deadline := time.Now().Add(bound)
	for {
		n, apart, err := c.compareReplicas(ctx)
		if err != nil || apart == "" {
			return n, err
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("replicas still apart %s after the run: %s", bound, apart)
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// compareReplicas checksums every user range at each replica: apart names
// a range whose replicas are at different applied indexes (try again); the
// error is a divergence at one applied index.
func (c *Cluster) compareReplicas(ctx context.Context) (n int, apart string, err error) {
	ranges, err := c.UserRanges(ctx, 0)
	if err != nil {
		return 0, err.Error(), nil
	}
	for _, r := range ranges {
		var first *rpcpb.ChecksumResponse
		firstNode := 0
		for _, i := range r.Replicas {
			var resp *rpcpb.ChecksumResponse
			err := c.admin(ctx, i, func(ctx context.Context, nc rpcpb.NodeClient) (err error) {
				resp, err = nc.Checksum(ctx, &rpcpb.ChecksumRequest{RangeId: r.Desc.RangeId}, grpc.WaitForReady(true))
				if err == nil {
					err = kverr.FromProto(resp.Error)
				}
				return err
			})
			if err != nil {
				return n, fmt.Sprintf("r%d at n%d: %v", r.Desc.RangeId, i+1, err), nil
			}
			if first == nil {
				first, firstNode = resp, i
				continue
			}
			if resp.AppliedIndex != first.AppliedIndex {
				return n, fmt.Sprintf("r%d applied %d at n%d, %d at n%d", r.Desc.RangeId, first.AppliedIndex, firstNode+1, resp.AppliedIndex, i+1), nil
			}
			if !bytes.Equal(resp.Checksum, first.Checksum) {
				return n, "", fmt.Errorf("r%d: replicas DIVERGE at applied index %d: n%d holds %d keys, n%d %d keys, checksums differ",
					r.Desc.RangeId, resp.AppliedIndex, firstNode+1, first.KeyCount, i+1, resp.KeyCount)
			}
		}
		n++
	}
	return n, "", nil
}
