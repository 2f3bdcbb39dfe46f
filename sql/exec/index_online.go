package exec

import (
	"bytes"
	"errors"
	"slices"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// DefaultBackfillBatch is the number of rows one backfill transaction of
// an online index build covers.
const DefaultBackfillBatch = 1000

// BackfillKnobs tune an online index build in tests.
type BackfillKnobs struct {
	// Batch is the rows per backfill transaction; 0 means
	// DefaultBackfillBatch.
	Batch int
	// AfterBatch, if set, runs after each backfill transaction commits.
	AfterBatch func()
}

// CreateIndexOnline runs an autocommit CREATE [UNIQUE] INDEX as several
// transactions of its own (c.Cat is unused): add the index WRITE_ONLY,
// backfill it in batches, make it public; on failure remove it. See
// docs/catalog.md, "Online index builds".
func CreateIndexOnline(c *Ctx, s *pg.IndexStmt) (*Result, error) {
	var tableID uint64
	var idx catalog.Index
	err := c.inTxn(func(tc *Ctx) (err error) {
		tableID, idx, err = addWriteOnlyIndex(tc, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	if tableID == 0 {
		return &Result{Tag: "CREATE INDEX"}, nil
	}
	if err := buildIndex(c, tableID, &idx); err != nil {
		if rerr := c.inTxn(func(tc *Ctx) error { return removeIndex(tc, tableID, idx.ID) }); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	return &Result{Tag: "CREATE INDEX"}, nil
}

// inTxn runs fn in a transaction of its own, retrying retryable conflicts.
func (c *Ctx) inTxn(fn func(*Ctx) error) error {
	for attempt := 0; ; attempt++ {
		kv, err := c.DB.Begin(c.Context)
		if err != nil {
			return err
		}
		tc := *c
		tc.Cat, tc.buf = catalog.NewTxn(kv), nil
		if err = fn(&tc); err == nil {
			err = kv.Commit(c.Context)
		} else {
			_ = kv.Rollback(c.Context)
		}
		if err == nil || !kvapi.IsRetryable(err) || attempt >= 100 || c.Context.Err() != nil {
			return err
		}
	}
}

// addWriteOnlyIndex is the first transaction: the index enters the
// descriptor WRITE_ONLY. tableID is 0 when IF NOT EXISTS found the name.
func addWriteOnlyIndex(c *Ctx, s *pg.IndexStmt) (uint64, catalog.Index, error) {
	d, idx, err := prepareIndex(c, s)
	if err != nil || d == nil {
		return 0, idx, err
	}
	idx.State = catalog.IndexWriteOnly
	d.Table.Indexes = append(d.Table.Indexes, idx)
	d.Table.NextIndexID++
	return d.ID, idx, c.Cat.Put(c.Context, d)
}

// buildIndex backfills the index batch by batch, then makes it public.
func buildIndex(c *Ctx, tableID uint64, idx *catalog.Index) error {
	n := c.Backfill.Batch
	if n <= 0 {
		n = DefaultBackfillBatch
	}
	var from []byte
	for {
		var next []byte
		err := c.inTxn(func(tc *Ctx) error {
			d, i, err := buildingIndex(tc, tableID, idx, kvapi.LockShared)
			if err != nil {
				return err
			}
			next, err = backfillBatch(tc, d, &d.Table.Indexes[i], from, n)
			return err
		})
		if err != nil {
			return err
		}
		if c.Backfill.AfterBatch != nil {
			c.Backfill.AfterBatch()
		}
		if next == nil {
			break
		}
		from = next
	}
	return c.inTxn(func(tc *Ctx) error {
		d, i, err := buildingIndex(tc, tableID, idx, kvapi.LockExclusive)
		if err != nil {
			return err
		}
		if d, err = tc.Cat.Mutable(tc.Context, d.ID); err != nil {
			return err
		}
		d.Table.Indexes[i].State = catalog.IndexPublic
		return tc.Cat.Put(tc.Context, d)
	})
}

// buildingIndex reads the table's descriptor and finds the index being
// built; DDL between batches may have dropped either.
func buildingIndex(c *Ctx, tableID uint64, idx *catalog.Index, lock kvapi.Lock) (*catalog.Descriptor, int, error) {
	d, err := c.Cat.Get(c.Context, tableID, lock)
	if err != nil {
		return nil, 0, err
	}
	if d == nil || d.Table == nil {
		return nil, 0, pgcode.New(sqlerr.ObjectNotInPrerequisite, "table of index %q was dropped during the index build", idx.Name)
	}
	i, ok := d.Table.IndexByID(idx.ID)
	if !ok || d.Table.Indexes[i].Public() {
		return nil, 0, pgcode.New(sqlerr.ObjectNotInPrerequisite, "index %q was dropped during its build", idx.Name)
	}
	return d, i, nil
}

// backfillBatch writes the entries of up to n rows of the primary index
// from key from (its start when nil) and returns the key to go on from, nil
// after the last row. The span is found without locks, then read with
// shared ones, so writers elsewhere in the table do not wait.
func backfillBatch(c *Ctx, d *catalog.Descriptor, idx *catalog.Index, from []byte, n int) ([]byte, error) {
	codec := rowenc.NewCodec(d.ID, d.Table)
	p := codec.IndexPrefix(catalog.PrimaryIndexID)
	if from == nil {
		from = p
	}
	end := keys.PrefixEnd(p)
	probe, err := c.kv().Scan(c.Context, from, end, n, false, kvapi.LockNone)
	if err != nil || len(probe) == 0 {
		return nil, err
	}
	var next []byte
	if len(probe) == n {
		next = append(slices.Clip(probe[n-1].Key), 0)
		end = next
	}
	kvs, err := c.kv().Scan(c.Context, from, end, 0, false, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	rows := make([]sem.Row, len(kvs))
	for i, kv := range kvs {
		if rows[i], err = codec.DecodeRow(kv.Key, kv.Value); err != nil {
			return nil, err
		}
	}
	w := &writer{desc: d, codec: codec}
	entries := indexEntries(w, idx, rows)
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	for _, e := range entries {
		if err := putBackfillEntry(c, w, idx, e, rows[e.row]); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// putBackfillEntry writes one row's entry idempotently: a concurrent write
// may have written it already. A unique key held by another row is a
// duplicate.
func putBackfillEntry(c *Ctx, w *writer, idx *catalog.Index, e entry, row sem.Row) error {
	if _, _, unique := w.codec.IndexEntry(idx, row); !unique {
		return c.kv().Put(c.Context, e.key, e.value)
	}
	err := c.kv().Insert(c.Context, e.key, e.value)
	if !errors.Is(err, kvapi.ErrKeyExists) {
		return err
	}
	v, _, err := c.kv().Get(c.Context, e.key, kvapi.LockShared)
	if err != nil || bytes.Equal(v, e.value) {
		return err
	}
	return backfillErr(w.dupErr(kvapi.ErrKeyExists, idx, row), idx)
}

// removeIndex deletes a failed build's entries and descriptor entry.
func removeIndex(c *Ctx, tableID uint64, id uint32) error {
	d, err := c.Cat.Get(c.Context, tableID, kvapi.LockExclusive)
	if err != nil || d == nil || d.Table == nil {
		return err
	}
	i, ok := d.Table.IndexByID(id)
	if !ok {
		return nil
	}
	if d, err = c.Cat.Mutable(c.Context, d.ID); err != nil {
		return err
	}
	p := keys.IndexPrefix(d.ID, uint64(id))
	if err := c.kv().DeleteRange(c.Context, p, keys.PrefixEnd(p)); err != nil {
		return err
	}
	d.Table.Indexes = slices.Delete(d.Table.Indexes, i, i+1)
	return c.Cat.Put(c.Context, d)
}
