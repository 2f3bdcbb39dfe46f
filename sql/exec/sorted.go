package exec

import (
	"bytes"
	"slices"
)

// entry is a KV pair to write for row number row of a bulk rewrite.
type entry struct {
	key, value []byte
	row        int
}

// replaceSorted makes the span hold entries instead of oldKeys: it sorts
// entries and walks both lists in key order, deleting old-only keys,
// putting shared ones and writing new ones, so every write lands after the
// transaction's previous ones. (The leaseholder keeps a transaction's
// pending writes in a sorted slice; writes in key order append, random
// order costs a memmove each.) Two entries with one key call dup.
func replaceSorted(c *Ctx, oldKeys [][]byte, entries []entry, dup func(entry) error) error {
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	i := 0
	for j, e := range entries {
		if j > 0 && bytes.Equal(entries[j-1].key, e.key) {
			return dup(e)
		}
		for ; i < len(oldKeys) && bytes.Compare(oldKeys[i], e.key) < 0; i++ {
			if err := c.kv().Delete(c.Context, oldKeys[i]); err != nil {
				return err
			}
		}
		if i < len(oldKeys) && bytes.Equal(oldKeys[i], e.key) {
			i++
		}
		if err := c.kv().Put(c.Context, e.key, e.value); err != nil {
			return err
		}
	}
	for ; i < len(oldKeys); i++ {
		if err := c.kv().Delete(c.Context, oldKeys[i]); err != nil {
			return err
		}
	}
	return nil
}
