package listappend

import (
	"fmt"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Config tunes Check. The zero value is the default.
type Config struct {
	// ProcessOrder adds an edge between consecutive committed txns of each
	// process; cycles that need one are reported as *-process.
	ProcessOrder bool
	// MaxExamples caps the anomalies kept per class (counts are exact).
	// Default 8.
	MaxExamples int
	// SearchBudget caps the candidate rw edges tried per SCC when looking
	// for a G-single cycle. Default 64.
	SearchBudget int
}

func (c Config) withDefaults() Config {
	if c.MaxExamples <= 0 {
		c.MaxExamples = 8
	}
	if c.SearchBudget <= 0 {
		c.SearchBudget = 64
	}
	return c
}

// txn is a transaction attempt with interned keys.
type txn struct {
	op       *history.Op
	mops     []mop
	node     int32 // graph node, or -1 when not committed
	observed bool  // some ok read saw one of its appends
}

type mop struct {
	append bool
	key    int32
	val    int64   // append
	list   []int64 // read
}

// kv names one appended element.
type kv struct {
	key int32
	val int64
}

// writer is the txn that appended an element, and whether it was that txn's
// last append to the key.
type writer struct {
	txn   int32
	final bool
}

// read is an ok read of one key.
type read struct {
	txn    int32
	list   []int64
	compat bool // a prefix of the key's version order
}

// keyState is everything known about one key.
type keyState struct {
	name    string
	order   []int64  // L: the longest ok read
	orderBy int32    // the txn that read L, or -1
	writers []writer // writer of order[i]; txn -1 for garbage
	reads   []read
}

type checker struct {
	cfg     Config
	res     *Result
	txns    []txn
	keys    []keyState
	keyIdx  map[string]int32
	writers map[kv]writer
	g       graph
}

// Check checks a list-append history. Ops of the nemesis process are
// skipped; every other op must be a txn. The error reports a malformed
// history (a harness bug), never an anomaly.
func Check(ops []history.Op, cfg Config) (*Result, error) {
	c := &checker{
		cfg:     cfg.withDefaults(),
		res:     &Result{Counts: map[Class]int{}},
		keyIdx:  map[string]int32{},
		writers: map[kv]writer{},
	}
	if err := c.parse(ops); err != nil {
		return nil, err
	}
	c.buildOrders()
	c.checkElements()
	c.checkTxns()
	c.buildGraph()
	c.findCycles()
	c.checkLost()
	c.res.Txns, c.res.Keys = len(c.txns), len(c.keys)
	return c.res, nil
}

func (c *checker) parse(ops []history.Op) error {
	for i := range ops {
		op := &ops[i]
		if op.Process == history.NemesisProcess {
			continue
		}
		if err := c.addTxn(op); err != nil {
			return fmt.Errorf("listappend: op %d: %w", op.ID, err)
		}
	}
	return nil
}

func (c *checker) addTxn(op *history.Op) error {
	switch {
	case op.F != history.FTxn:
		return fmt.Errorf("f %q is not %q", op.F, history.FTxn)
	case op.Status < history.Ok || op.Status > history.Info:
		return fmt.Errorf("invalid status %d", op.Status)
	case op.Status == history.Ok && op.CompleteNs < op.InvokeNs:
		return fmt.Errorf("completes at %d before invoke at %d", op.CompleteNs, op.InvokeNs)
	}
	t := int32(len(c.txns))
	tx := txn{op: op, node: -1, mops: make([]mop, len(op.Mops))}
	for i, m := range op.Mops {
		k := c.intern(m.Key)
		switch m.F {
		case history.FAppend:
			tx.mops[i] = mop{append: true, key: k, val: m.Val}
			e := kv{k, m.Val}
			if w, dup := c.writers[e]; dup {
				return fmt.Errorf("value %d appended to %q twice (also by op %d): a harness bug",
					m.Val, m.Key, c.txns[w.txn].op.ID)
			}
			c.writers[e] = writer{txn: t}
		case history.FRead:
			tx.mops[i] = mop{key: k, list: m.List}
		default:
			return fmt.Errorf("mop %d: unknown f %q", i, m.F)
		}
	}
	markFinal(c.writers, t, tx.mops)
	c.txns = append(c.txns, tx)
	return nil
}

// markFinal flags each key's last append in mops.
func markFinal(writers map[kv]writer, t int32, mops []mop) {
	for i := len(mops) - 1; i >= 0; i-- {
		m := mops[i]
		if !m.append || laterAppend(mops[i+1:], m.key) {
			continue
		}
		writers[kv{m.key, m.val}] = writer{txn: t, final: true}
	}
}

func laterAppend(mops []mop, key int32) bool {
	for _, m := range mops {
		if m.append && m.key == key {
			return true
		}
	}
	return false
}

func (c *checker) intern(name string) int32 {
	k, ok := c.keyIdx[name]
	if !ok {
		k = int32(len(c.keys))
		c.keyIdx[name] = k
		c.keys = append(c.keys, keyState{name: name, orderBy: -1})
	}
	return k
}

func (c *checker) ok(t int32) bool { return c.txns[t].op.Status == history.Ok }

// buildOrders picks each key's version order and sorts reads into
// compatible ones and incompatible-order anomalies.
func (c *checker) buildOrders() {
	for t := range c.txns {
		if !c.ok(int32(t)) {
			continue
		}
		for _, m := range c.txns[t].mops {
			if !m.append {
				ks := &c.keys[m.key]
				ks.reads = append(ks.reads, read{txn: int32(t), list: m.list})
				if len(m.list) > len(ks.order) {
					ks.order, ks.orderBy = m.list, int32(t)
				}
			}
		}
	}
	for k := range c.keys {
		c.orderKey(int32(k))
	}
}

func (c *checker) orderKey(k int32) {
	ks := &c.keys[k]
	ks.writers = make([]writer, len(ks.order))
	for i, v := range ks.order {
		w, ok := c.writers[kv{k, v}]
		if !ok {
			w.txn = -1
		}
		ks.writers[i] = w
	}
	var bad []int
	for i := range ks.reads {
		r := &ks.reads[i]
		r.compat = isPrefix(r.list, ks.order)
		if !r.compat {
			bad = append(bad, c.txns[r.txn].op.ID)
		}
	}
	if len(bad) > 0 {
		bad = bad[:min(len(bad), maxListed)]
		c.report(IncompatibleOrder, bad, fmt.Sprintf(
			"reads of key %q by ops %v are not prefixes of the longest read %s by op %d",
			ks.name, bad, fmtList(ks.order), c.txns[ks.orderBy].op.ID))
	}
}

func isPrefix(a, b []int64) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (c *checker) report(class Class, txns []int, why string) {
	c.res.add(Anomaly{Class: class, Txns: txns, Explanation: why}, c.cfg.MaxExamples)
}
