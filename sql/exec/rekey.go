package exec

import (
	"bytes"
	"errors"
	"slices"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// rekeyBatchRows is how many rows ADD PRIMARY KEY reads at a time.
const rekeyBatchRows = 1000

// rekeyRows moves every row of d from old's rowid key to d's new primary
// key (ADD PRIMARY KEY), a batch at a time, all in the statement's
// transaction (the KV layer spills a large transaction's writes): read
// the next rekeyBatchRows rows in key order from a cursor, delete their old
// keys, insert them under their new keys and their secondary index
// entries, move the cursor past them. Memory stays bounded by the batch
// (the KV layer's spilling holds the rest), whatever the table's size.
//
// Old and new keys share the primary index's key space. A new key behind
// the cursor is never read again. One at or past it would be met by a
// later batch: such keys are remembered (ahead) and skipped when met, and
// one that lands on a row not yet moved takes its place, and that row is
// moved at once (rekeyCollision). pgbench's integer keys sort before
// every rowid, so none of them is ahead.
func rekeyRows(c *Ctx, d *catalog.Descriptor, old *catalog.Table, rowidPos int) error {
	t := d.Table
	oldCodec := rowenc.NewCodec(d.ID, old)
	w := &writer{desc: d, codec: rowenc.NewCodec(d.ID, t)}
	r := &rekey{c: c, w: w, oldCodec: oldCodec, rowidPos: rowidPos, ahead: map[string]bool{}}
	return c.batched(func() error {
		// Secondary index entries hold the primary key: clear them first,
		// the rewrite makes each row's anew.
		for i := range t.Indexes {
			if err := clearSpan(c, keys.IndexPrefix(d.ID, uint64(t.Indexes[i].ID))); err != nil {
				return err
			}
		}
		p := oldCodec.IndexPrefix(catalog.PrimaryIndexID)
		start, end := p, keys.PrefixEnd(p)
		for {
			// The first locking scan locks the whole index span.
			kvs, err := c.kv().Scan(c.Context, start, end, rekeyBatchRows, false, kvapi.LockExclusive)
			if err != nil || len(kvs) == 0 {
				return err
			}
			r.cursor = append(bytes.Clone(kvs[len(kvs)-1].Key), 0)
			if err := r.batch(kvs); err != nil {
				return err
			}
			start = r.cursor
			if err := c.Context.Err(); err != nil {
				return err
			}
		}
	})
}

type rekey struct {
	c        *Ctx
	w        *writer
	oldCodec *rowenc.Codec
	rowidPos int
	cursor   []byte
	// ahead holds the new keys written at or past the cursor.
	ahead map[string]bool
	// collided are rows whose insert ahead of the cursor found its key.
	collided []rekeyed
	// maxNew is the greatest new key written so far.
	maxNew []byte
}

type rekeyed struct {
	key []byte
	row sem.Row
}

// newRow decodes an old entry and returns it without its rowid, with its
// new key.
func (r *rekey) newRow(key, value []byte) (rekeyed, error) {
	row, err := r.oldCodec.DecodeRow(key, value)
	if err != nil {
		return rekeyed{}, err
	}
	row = append(row[:r.rowidPos:r.rowidPos], row[r.rowidPos+1:]...)
	t := r.w.desc.Table
	for _, id := range t.Primary.Columns {
		if p := t.ColumnByID(id); row[p] == nil {
			return rekeyed{}, pgcode.New(sqlerr.NotNullViolation, "column %q of relation %q contains null values", t.Columns[p].Name, r.w.desc.Name)
		}
	}
	return rekeyed{key: r.w.codec.PrimaryKey(row), row: row}, nil
}

func (r *rekey) batch(kvs []kvapi.KeyValue) error {
	c := r.c
	moved := make([]rekeyed, 0, len(kvs))
	for i, kv := range kvs {
		if r.ahead[string(kv.Key)] {
			delete(r.ahead, string(kv.Key)) // moved here earlier
			continue
		}
		m, err := r.newRow(kv.Key, kv.Value)
		if err != nil {
			return err
		}
		kvs[i] = kvapi.KeyValue{}
		if err := c.del(kv.Key); err != nil {
			return err
		}
		moved = append(moved, m)
	}
	blind := r.ascending(moved)
	for _, m := range moved {
		if err := r.put(m, blind); err != nil {
			return err
		}
	}
	if err := c.flush(); err != nil {
		return err
	}
	for len(r.collided) > 0 {
		m := r.collided[0]
		r.collided = r.collided[1:]
		if err := r.collision(m); err != nil {
			return err
		}
	}
	return nil
}

// ascending reports whether the batch's new keys can be written without
// looking (Put, not Insert: an Insert reads the key, and once the
// transaction has spilled, its provisional writes too): they are distinct,
// all behind the cursor (where every old row is gone) and all above every
// new key written before. Rows loaded in key order (pgbench's COPY) come
// back in rowid order with ascending new keys, so each batch is.
func (r *rekey) ascending(moved []rekeyed) bool {
	if len(moved) == 0 || len(r.w.desc.Table.Indexes) > 0 {
		return false
	}
	keys := make([][]byte, len(moved))
	for i, m := range moved {
		keys[i] = m.key
	}
	slices.SortFunc(keys, bytes.Compare)
	for i := 1; i < len(keys); i++ {
		if bytes.Equal(keys[i-1], keys[i]) {
			return false // put finds the duplicate
		}
	}
	if bytes.Compare(keys[len(keys)-1], r.cursor) >= 0 || (r.maxNew != nil && bytes.Compare(keys[0], r.maxNew) <= 0) {
		return false
	}
	return true
}

// put inserts a moved row and its index entries (buffered); blind writes
// the row with Put (ascending said no key can exist).
func (r *rekey) put(m rekeyed, blind bool) error {
	c, w, t := r.c, r.w, r.w.desc.Table
	if r.maxNew == nil || bytes.Compare(m.key, r.maxNew) > 0 {
		r.maxNew = m.key
	}
	if blind {
		return c.put(m.key, w.codec.Value(m.row))
	}
	dup := w.dupFunc(&t.Primary, m.row)
	if bytes.Compare(m.key, r.cursor) >= 0 {
		if r.ahead[string(m.key)] {
			return backfillErr(dup(), &t.Primary)
		}
		r.ahead[string(m.key)] = true
		dup = func() error {
			r.collided = append(r.collided, m)
			return nil
		}
	} else {
		dup = func() error { return backfillErr(w.dupErr(kvapi.ErrKeyExists, &t.Primary, m.row), &t.Primary) }
	}
	if err := c.insert(m.key, w.codec.Value(m.row), dup); err != nil {
		return err
	}
	for i := range t.Indexes {
		idx := &t.Indexes[i]
		if err := w.putIndex(c, idx, m.row); err != nil {
			return backfillErr(err, idx)
		}
	}
	return nil
}

// collision handles a row whose new key, at or past the cursor, held a
// row not yet moved (it is in ahead, so its own earlier insert would have
// been the dup caught in put): that row is read, m takes its key, and it
// is moved at once, which may collide again.
func (r *rekey) collision(m rekeyed) error {
	c, w := r.c, r.w
	for {
		v, found, err := c.kv().Get(c.Context, m.key, kvapi.LockExclusive)
		if err != nil {
			return err
		}
		if !found {
			return c.kv().Put(c.Context, m.key, w.codec.Value(m.row))
		}
		next, err := r.newRow(m.key, v)
		if err != nil {
			return err
		}
		if err := c.kv().Put(c.Context, m.key, w.codec.Value(m.row)); err != nil {
			return err
		}
		if bytes.Compare(next.key, r.maxNew) > 0 {
			r.maxNew = next.key
		}
		t := w.desc.Table
		for i := range t.Indexes {
			if err := w.putIndex(c, &t.Indexes[i], next.row); err != nil {
				return backfillErr(err, &t.Indexes[i])
			}
		}
		if bytes.Compare(next.key, r.cursor) < 0 || r.ahead[string(next.key)] {
			err := c.kv().Insert(c.Context, next.key, w.codec.Value(next.row))
			if err != nil {
				return backfillErr(w.dupErr(err, &t.Primary, next.row), &t.Primary)
			}
			return nil
		}
		r.ahead[string(next.key)] = true
		if err := c.kv().Insert(c.Context, next.key, w.codec.Value(next.row)); err == nil {
			return nil
		} else if !isKeyExistsErr(err) {
			return err
		}
		m = next
	}
}

// clearSpan deletes every key of [p, PrefixEnd(p)) a batch at a time.
func clearSpan(c *Ctx, p []byte) error {
	start, end := p, keys.PrefixEnd(p)
	for {
		kvs, err := c.kv().Scan(c.Context, start, end, rekeyBatchRows, false, kvapi.LockExclusive)
		if err != nil || len(kvs) == 0 {
			return err
		}
		for _, kv := range kvs {
			if err := c.del(kv.Key); err != nil {
				return err
			}
		}
		start = append(bytes.Clone(kvs[len(kvs)-1].Key), 0)
	}
}
func isKeyExistsErr(err error) bool { return errors.Is(err, kvapi.ErrKeyExists) }
