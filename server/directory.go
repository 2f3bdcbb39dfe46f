package server

import (
	"sort"
	"sync"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

// directory knows the addresses of the cluster's nodes (from the registry,
// refreshed in the background) and where the meta range is.
type directory struct {
	mu struct {
		sync.Mutex
		self  *rpcpb.NodeDescriptor
		nodes map[uint64]*rpcpb.NodeDescriptor
		meta  *rpcpb.RangeDescriptor
	}
}

func newDirectory(self *rpcpb.NodeDescriptor) *directory {
	d := &directory{}
	d.mu.self = self
	d.mu.nodes = map[uint64]*rpcpb.NodeDescriptor{}
	return d
}

func (d *directory) setSelf(id uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mu.self.NodeId = id
	d.mu.nodes[id] = d.mu.self
}

func (d *directory) self() *rpcpb.NodeDescriptor {
	d.mu.Lock()
	defer d.mu.Unlock()
	return proto.Clone(d.mu.self).(*rpcpb.NodeDescriptor)
}

func (d *directory) update(nodes ...*rpcpb.NodeDescriptor) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range nodes {
		if n != nil && n.NodeId != 0 && n.NodeId != d.mu.self.NodeId {
			d.mu.nodes[n.NodeId] = n
		}
	}
}

// NodeAddr implements kv.Resolver.
func (d *directory) NodeAddr(id uint64) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.mu.nodes[id]
	if !ok || n.Address == "" {
		return "", false
	}
	return n.Address, true
}

func (d *directory) list() []*rpcpb.NodeDescriptor {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*rpcpb.NodeDescriptor, 0, len(d.mu.nodes))
	for _, n := range d.mu.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeId < out[j].NodeId })
	return out
}

func (d *directory) addrs() []string {
	var out []string
	for _, n := range d.list() {
		out = append(out, n.Address)
	}
	return out
}

func (d *directory) setMeta(m *rpcpb.RangeDescriptor) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mu.meta == nil || m.Generation >= d.mu.meta.Generation {
		d.mu.meta = m
	}
}

func (d *directory) meta() *rpcpb.RangeDescriptor {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mu.meta
}
