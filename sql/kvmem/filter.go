package kvmem

import (
	"context"

	"github.com/RaduBerinde/btreemap"

	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowfilter"
)

// ScanFiltered implements kvapi.FilterScanner with the compiled filter a
// leaseholder would run (sql/rowfilter), so the SQL layer's tests exercise
// pushed filters. Like Scan, it locks the whole span; the limit counts the
// pairs the filter matches. Writes of the transaction are in the store
// already (undo log), so they are filtered like every other pair.
func (t *txn) ScanFiltered(ctx context.Context, start, end []byte, limit int, reverse bool, lock kvapi.Lock, filter []byte) ([]kvapi.KeyValue, int, error) {
	if len(filter) == 0 {
		kvs, err := t.Scan(ctx, start, end, limit, reverse, lock)
		return kvs, len(kvs), err
	}
	f, err := rowfilter.Compile(filter)
	if err != nil {
		return nil, 0, err
	}
	db := t.db
	db.mu.Lock()
	defer db.mu.Unlock()
	s, e := string(start), string(end)
	if err := t.lockLocked(ctx, s, e, mode(lock)); err != nil {
		return nil, 0, err
	}
	var out []kvapi.KeyValue
	scanned := 0
	var ferr error
	add := func(k string, v []byte) bool {
		scanned++
		ok, err := f.Match([]byte(k), v)
		if err != nil {
			ferr = err
			return false
		}
		if ok {
			out = append(out, kvapi.KeyValue{Key: []byte(k), Value: clone(v)})
		}
		return limit <= 0 || len(out) < limit
	}
	seq := db.mu.data.Ascend(btreemap.GE(s), btreemap.LT(e))
	if reverse {
		seq = db.mu.data.Descend(btreemap.LT(e), btreemap.GE(s))
	}
	for k, v := range seq {
		if !add(k, v) {
			break
		}
	}
	if ferr != nil {
		return nil, 0, ferr
	}
	return out, scanned, nil
}
