package replica

import (
	"bytes"

	"github.com/ordodb/ordo/kv/keys"
)

// SizeSplitKey decides a split by size: if the range's data exceeds
// maxBytes it returns a key that leaves about half of maxBytes on the left
// (the right-hand side splits again later if it is still too large, so a
// check reads at most maxBytes). A table boundary between a quarter and
// three quarters of maxBytes is preferred, the one nearest the middle, so a
// table's rows stay together when they can. A range at or under maxBytes
// is never split: small tables share ranges, and transactions over them
// stay one-phase.
func (r *Replica) SizeSplitKey(maxBytes int64) ([]byte, bool) {
	desc := r.Desc()
	if desc == nil || maxBytes <= 0 {
		return nil, false
	}
	var (
		size      int64
		mid       []byte
		boundary  []byte
		bestDist  int64 = -1
		lastTable uint64
		haveTable bool
		over      bool
	)
	half := maxBytes / 2
	_ = r.cfg.Engine.Scan(desc.StartKey, desc.EndKey, false, func(k, v []byte) bool {
		if id, ok := keys.TableOf(k); ok {
			if haveTable && id != lastTable && size >= maxBytes/4 && size <= 3*maxBytes/4 {
				if d := abs64(size - half); bestDist < 0 || d < bestDist {
					boundary, bestDist = keys.TablePrefix(id), d
				}
			}
			lastTable, haveTable = id, true
		}
		if mid == nil && size >= half {
			mid = bytes.Clone(k)
		}
		size += int64(len(k) + len(v))
		if size > maxBytes {
			over = true
			return false
		}
		return true
	})
	if !over {
		return nil, false
	}
	key := mid
	if boundary != nil {
		key = boundary
	}
	if key == nil || bytes.Compare(key, desc.StartKey) <= 0 || bytes.Compare(key, keys.UserMin) <= 0 || !ContainsKey(desc, key) {
		return nil, false
	}
	return key, true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// MidKey returns the user key that about halves the range's data by size,
// for a split at no key given (AdminSplit with only a range id). False if
// the range holds fewer than two user keys, so no split could leave data
// on both sides.
func (r *Replica) MidKey() ([]byte, bool) {
	desc := r.Desc()
	if desc == nil {
		return nil, false
	}
	start := desc.StartKey
	if bytes.Compare(start, keys.UserMin) < 0 {
		start = keys.UserMin
	}
	var total int64
	n := 0
	_ = r.cfg.Engine.Scan(start, desc.EndKey, false, func(k, v []byte) bool {
		total += int64(len(k) + len(v))
		n++
		return true
	})
	if n < 2 {
		return nil, false
	}
	var size int64
	var mid, last []byte
	i := 0
	_ = r.cfg.Engine.Scan(start, desc.EndKey, false, func(k, v []byte) bool {
		if i > 0 && size >= total/2 {
			mid = bytes.Clone(k)
			return false
		}
		size += int64(len(k) + len(v))
		last = append(last[:0], k...)
		i++
		return true
	})
	if mid == nil && i > 1 {
		mid = last // the last key outweighs all the others
	}
	if mid == nil || !ContainsKey(desc, mid) || bytes.Compare(mid, desc.StartKey) <= 0 {
		return nil, false
	}
	return mid, true
}
