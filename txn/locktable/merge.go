package locktable

import "bytes"

// KV is a key and its value.
type KV struct {
	Key, Value []byte
}

// Iterator yields stored KVs of a scan's span in scan order: ascending
// keys, or descending for a reverse scan.
type Iterator interface {
	// Next returns the next KV, or ok=false at the end.
	Next() (kv KV, ok bool, err error)
}

// SliceIterator iterates over a slice already in scan order.
type SliceIterator struct{ KVs []KV }

// Next implements Iterator.
func (s *SliceIterator) Next() (KV, bool, error) {
	if len(s.KVs) == 0 {
		return KV{}, false, nil
	}
	kv := s.KVs[0]
	s.KVs = s.KVs[1:]
	return kv, true, nil
}

// ScanOptions shape a merged scan.
type ScanOptions struct {
	// Limit bounds the number of KVs returned; 0 means no limit.
	Limit int
	// Reverse returns KVs in descending key order.
	Reverse bool
}

// MergeScan merges a transaction's pending writes (sorted ascending, as
// PendingWrites returns them, and restricted to the scan's span) with the
// stored KVs from it, so the transaction reads its own writes: a pending
// value replaces the stored one or adds a key, a pending deletion hides the
// key. The result is in scan order and has at most opts.Limit KVs; stored
// KVs are pulled only as far as needed.
func MergeScan(stored Iterator, pending []Write, opts ScanOptions) ([]KV, error) {
	m := merger{stored: stored, pending: pending, opts: opts}
	return m.run()
}

type merger struct {
	stored  Iterator
	pending []Write
	opts    ScanOptions
	next    KV   // the stored KV read ahead
	hasNext bool // next is valid
	done    bool // stored is exhausted
	out     []KV
}

func (m *merger) run() ([]KV, error) {
	for !m.full() {
		if err := m.fill(); err != nil {
			return nil, err
		}
		w, hasW := m.peekPending()
		switch {
		case !m.hasNext && !hasW:
			return m.out, nil
		case hasW && (!m.hasNext || !m.before(m.next.Key, w.Key)):
			if m.hasNext && bytes.Equal(m.next.Key, w.Key) {
				m.hasNext = false // overridden
			}
			m.popPending()
			m.emitWrite(w)
		default:
			m.out = append(m.out, m.next)
			m.hasNext = false
		}
	}
	return m.out, nil
}

func (m *merger) full() bool { return m.opts.Limit > 0 && len(m.out) >= m.opts.Limit }

// fill reads the next stored KV if none is buffered.
func (m *merger) fill() error {
	if m.hasNext || m.done {
		return nil
	}
	kv, ok, err := m.stored.Next()
	if err != nil {
		return err
	}
	m.next, m.hasNext, m.done = kv, ok, !ok
	return nil
}

// before reports whether key a comes before b in scan order.
func (m *merger) before(a, b []byte) bool {
	c := bytes.Compare(a, b)
	if m.opts.Reverse {
		return c > 0
	}
	return c < 0
}

func (m *merger) peekPending() (Write, bool) {
	if len(m.pending) == 0 {
		return Write{}, false
	}
	if m.opts.Reverse {
		return m.pending[len(m.pending)-1], true
	}
	return m.pending[0], true
}

func (m *merger) popPending() {
	if m.opts.Reverse {
		m.pending = m.pending[:len(m.pending)-1]
	} else {
		m.pending = m.pending[1:]
	}
}

func (m *merger) emitWrite(w Write) {
	if !w.Deleted {
		m.out = append(m.out, KV{Key: w.Key, Value: w.Value})
	}
}
