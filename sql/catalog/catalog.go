package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/sql/kvapi"
)

// FirstUserID is the first ID the counter hands out; lower IDs are reserved.
const FirstUserID = 100

func nsKey(parent uint64, name string) []byte {
	k := append(keys.CatalogPrefix(), "ns/"...)
	k = encoding.EncodeUvarintAscending(k, parent)
	return encoding.AppendString(k, name, encoding.Ascending)
}

func nsPrefix(parent uint64) []byte {
	k := append(keys.CatalogPrefix(), "ns/"...)
	return encoding.EncodeUvarintAscending(k, parent)
}

func descKey(id uint64) []byte {
	return encoding.EncodeUvarintAscending(append(keys.CatalogPrefix(), "desc/"...), id)
}

func idGenKey() []byte { return append(keys.CatalogPrefix(), "idgen"...) }

func seqKey(id uint64) []byte {
	return encoding.EncodeUvarintAscending(append(keys.CatalogPrefix(), "seq/"...), id)
}

func bootstrapKey() []byte { return append(keys.CatalogPrefix(), "bootstrapped"...) }

// ErrNameExists is returned by CreateName for a taken name.
var ErrNameExists = errors.New("catalog: name exists")

type cached struct {
	desc *Descriptor
	lock kvapi.Lock
}

type nameKey struct {
	parent uint64
	name   string
}

type cachedName struct {
	id    uint64
	found bool
	lock  kvapi.Lock
}

// Txn reads and writes the catalog through one KV transaction, caching what
// it read for the life of that transaction.
type Txn struct {
	KV    kvapi.Txn
	descs map[uint64]cached
	names map[nameKey]cachedName
}

// NewTxn returns a catalog view over kv.
func NewTxn(kv kvapi.Txn) *Txn {
	return &Txn{KV: kv, descs: map[uint64]cached{}, names: map[nameKey]cachedName{}}
}

// LookupID resolves a name under parent.
func (c *Txn) LookupID(ctx context.Context, parent uint64, name string, lock kvapi.Lock) (uint64, bool, error) {
	nk := nameKey{parent, name}
	if e, ok := c.names[nk]; ok && e.lock >= lock {
		return e.id, e.found, nil
	}
	v, found, err := c.KV.Get(ctx, nsKey(parent, name), lock)
	if err != nil {
		return 0, false, err
	}
	var id uint64
	if found {
		id = binary.BigEndian.Uint64(v)
	}
	c.names[nk] = cachedName{id: id, found: found, lock: lock}
	return id, found, nil
}

// CreateName binds name under parent to id; ErrNameExists if taken.
func (c *Txn) CreateName(ctx context.Context, parent uint64, name string, id uint64) error {
	err := c.KV.Insert(ctx, nsKey(parent, name), binary.BigEndian.AppendUint64(nil, id))
	if errors.Is(err, kvapi.ErrKeyExists) {
		return fmt.Errorf("%w: %q", ErrNameExists, name)
	}
	if err != nil {
		return err
	}
	c.names[nameKey{parent, name}] = cachedName{id: id, found: true, lock: kvapi.LockExclusive}
	return nil
}

// DeleteName removes a namespace entry.
func (c *Txn) DeleteName(ctx context.Context, parent uint64, name string) error {
	if err := c.KV.Delete(ctx, nsKey(parent, name)); err != nil {
		return err
	}
	c.names[nameKey{parent, name}] = cachedName{lock: kvapi.LockExclusive}
	return nil
}

// ListNames returns the names under parent and their IDs, locking the span.
func (c *Txn) ListNames(ctx context.Context, parent uint64, lock kvapi.Lock) (map[string]uint64, error) {
	p := nsPrefix(parent)
	kvs, err := c.KV.Scan(ctx, p, keys.PrefixEnd(p), 0, false, lock)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(kvs))
	for _, kv := range kvs {
		_, name, err := encoding.DecodeString(kv.Key[len(p):], encoding.Ascending)
		if err != nil {
			return nil, fmt.Errorf("catalog: bad namespace key: %w", err)
		}
		out[name] = binary.BigEndian.Uint64(kv.Value)
	}
	return out, nil
}

// Get returns the descriptor with the ID, nil if there is none. The
// returned descriptor is shared with the cache: copy before changing
// (Mutable does).
func (c *Txn) Get(ctx context.Context, id uint64, lock kvapi.Lock) (*Descriptor, error) {
	if e, ok := c.descs[id]; ok && e.lock >= lock {
		return e.desc, nil
	}
	v, found, err := c.KV.Get(ctx, descKey(id), lock)
	if err != nil || !found {
		return nil, err
	}
	d := new(Descriptor)
	if err := json.Unmarshal(v, d); err != nil {
		return nil, fmt.Errorf("catalog: descriptor %d: %w", id, err)
	}
	c.descs[id] = cached{desc: d, lock: lock}
	return d, nil
}

// Mutable returns a deep copy of the descriptor read with LockExclusive.
func (c *Txn) Mutable(ctx context.Context, id uint64) (*Descriptor, error) {
	d, err := c.Get(ctx, id, kvapi.LockExclusive)
	if err != nil || d == nil {
		return nil, err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	out := new(Descriptor)
	return out, json.Unmarshal(b, out)
}

// Put writes a descriptor with its version incremented.
func (c *Txn) Put(ctx context.Context, d *Descriptor) error {
	d.Version++
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := c.KV.Put(ctx, descKey(d.ID), b); err != nil {
		return err
	}
	c.descs[d.ID] = cached{desc: d, lock: kvapi.LockExclusive}
	return nil
}

// Delete removes a descriptor.
func (c *Txn) Delete(ctx context.Context, id uint64) error {
	delete(c.descs, id)
	return c.KV.Delete(ctx, descKey(id))
}

// AllocID returns a new descriptor ID.
func (c *Txn) AllocID(ctx context.Context) (uint64, error) {
	v, found, err := c.KV.Get(ctx, idGenKey(), kvapi.LockExclusive)
	if err != nil {
		return 0, err
	}
	next := uint64(FirstUserID)
	if found {
		next = binary.BigEndian.Uint64(v)
	}
	return next, c.KV.Put(ctx, idGenKey(), binary.BigEndian.AppendUint64(nil, next+1))
}
