package kv

import (
	"context"
	"fmt"
	"sync"

	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// Dial returns a DB for a program outside the cluster: it learns node
// addresses and the meta range from any of hosts (--listen-addr values) and
// then sends each request straight to the leaseholder. Close releases it.
func Dial(ctx context.Context, hosts []string) (*DB, func(), error) {
	c, err := DialCluster(ctx, hosts)
	if err != nil {
		return nil, nil, err
	}
	return c.DB, c.Close, nil
}

// Cluster is a connection to a cluster from outside it.
type Cluster struct {
	DB       *DB
	Sender   *DistSender
	Resolver Resolver
	Dialer   *rpc.Dialer
}

// Close releases the connections.
func (c *Cluster) Close() { c.Dialer.Close() }

// DialCluster connects to the cluster that hosts belong to.
func DialCluster(ctx context.Context, hosts []string) (*Cluster, error) {
	dialer := rpc.NewDialer()
	dir := &hostDirectory{dialer: dialer, hosts: hosts}
	if err := dir.refresh(ctx); err != nil {
		dialer.Close()
		return nil, err
	}
	ds := NewDistSender(SenderConfig{Dialer: dialer, Resolver: dir, MetaDesc: dir.metaDesc})
	return &Cluster{DB: NewDB(ds), Sender: ds, Resolver: dir, Dialer: dialer}, nil
}

// hostDirectory learns the cluster's layout from ClusterInfo.
type hostDirectory struct {
	dialer *rpc.Dialer
	hosts  []string
	mu     struct {
		sync.Mutex
		nodes map[uint64]string
		meta  *rpcpb.RangeDescriptor
	}
}

func (d *hostDirectory) refresh(ctx context.Context) error {
	var last error = fmt.Errorf("kv: no hosts given")
	for _, h := range d.hosts {
		c, err := d.dialer.Client(h)
		if err != nil {
			last = err
			continue
		}
		info, err := c.ClusterInfo(ctx, &rpcpb.ClusterInfoRequest{})
		if err != nil {
			last = err
			continue
		}
		if !info.Initialized || info.MetaRange == nil {
			last = fmt.Errorf("kv: node %s is not part of an initialized cluster", h)
			continue
		}
		d.mu.Lock()
		d.mu.nodes = map[uint64]string{}
		for _, n := range info.Nodes {
			d.mu.nodes[n.NodeId] = n.Address
		}
		d.mu.meta = info.MetaRange
		d.mu.Unlock()
		return nil
	}
	return fmt.Errorf("kv: cannot learn the cluster layout: %w", last)
}

// NodeAddr implements Resolver.
func (d *hostDirectory) NodeAddr(id uint64) (string, bool) {
	d.mu.Lock()
	a, ok := d.mu.nodes[id]
	d.mu.Unlock()
	if !ok {
		_ = d.refresh(context.Background())
		d.mu.Lock()
		a, ok = d.mu.nodes[id]
		d.mu.Unlock()
	}
	return a, ok
}

func (d *hostDirectory) metaDesc(ctx context.Context) (*rpcpb.RangeDescriptor, error) {
	d.mu.Lock()
	m := d.mu.meta
	d.mu.Unlock()
	if m != nil {
		return m, nil
	}
	if err := d.refresh(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mu.meta, nil
}
