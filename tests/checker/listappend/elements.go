package listappend

import (
	"fmt"

	"github.com/ordodb/ordo/tests/checker/history"
)

// maxListed caps op lists in explanations.
const maxListed = 10

// checkElements checks every element read in an ok txn once: garbage, G1a
// and duplicates, and marks the writers of observed elements. Compatible
// reads are prefixes of the version order, so checking the order covers
// them; incompatible reads are checked element by element.
func (c *checker) checkElements() {
	reported := map[kv]bool{}
	for k := range c.keys {
		ks := &c.keys[k]
		if len(ks.order) > 0 {
			c.checkList(int32(k), ks.orderBy, ks.order, reported)
		}
		for _, r := range ks.reads {
			if !r.compat {
				c.checkList(int32(k), r.txn, r.list, reported)
			}
		}
	}
}

// checkList checks the elements of one read of key k by txn t.
func (c *checker) checkList(k, t int32, list []int64, reported map[kv]bool) {
	seen := make(map[int64]struct{}, len(list))
	dupReported := false
	for _, v := range list {
		if _, dup := seen[v]; dup && !dupReported {
			dupReported = true
			c.report(DuplicateAppend, []int{c.txns[t].op.ID}, fmt.Sprintf(
				"op %d read %d twice in key %q: %s", c.txns[t].op.ID, v, c.keys[k].name, fmtList(list)))
		}
		seen[v] = struct{}{}
		w, ok := c.writers[kv{k, v}]
		if ok {
			c.txns[w.txn].observed = true
		}
		if reported[kv{k, v}] {
			continue
		}
		switch {
		case !ok:
			reported[kv{k, v}] = true
			c.report(GarbageRead, []int{c.txns[t].op.ID}, fmt.Sprintf(
				"op %d read %d in key %q, which no txn appended", c.txns[t].op.ID, v, c.keys[k].name))
		case c.txns[w.txn].op.Status == history.Fail:
			reported[kv{k, v}] = true
			c.report(G1a, []int{c.txns[t].op.ID, c.txns[w.txn].op.ID}, fmt.Sprintf(
				"op %d read %d in key %q, appended by op %d, which failed",
				c.txns[t].op.ID, v, c.keys[k].name, c.txns[w.txn].op.ID))
		}
	}
}

// checkTxns runs the per-read checks of ok txns: internal consistency and
// G1b.
func (c *checker) checkTxns() {
	for t := range c.txns {
		if c.ok(int32(t)) {
			c.checkInternal(int32(t))
			c.checkIntermediate(int32(t))
		}
	}
}

// view is what a txn knows of one key: the full list if it has read the key
// (known), else only its own appends (a required suffix).
type view struct {
	key   int32
	known bool
	list  []int64
}

func (c *checker) checkInternal(t int32) {
	var views []view
	for i, m := range c.txns[t].mops {
		v := findView(&views, m.key)
		switch {
		case m.append:
			v.list = append(v.list[:len(v.list):len(v.list)], m.val)
		case v.known && !equal(m.list, v.list):
			c.reportInternal(t, i, "expected "+fmtList(v.list))
		case !v.known && !hasSuffix(m.list, v.list):
			c.reportInternal(t, i, "expected a list ending in its own appends "+fmtList(v.list))
		}
		if !m.append {
			v.known, v.list = true, m.list
		}
	}
}

func findView(views *[]view, k int32) *view {
	for i := range *views {
		if (*views)[i].key == k {
			return &(*views)[i]
		}
	}
	*views = append(*views, view{key: k})
	return &(*views)[len(*views)-1]
}

func (c *checker) reportInternal(t int32, i int, want string) {
	op := c.txns[t].op
	c.report(Internal, []int{op.ID}, fmt.Sprintf("op %d: mop %d %s; %s", op.ID, i, fmtMop(op.Mops[i]), want))
}

// checkIntermediate reports reads whose last element is not its writer's
// final append to the key (G1b).
func (c *checker) checkIntermediate(t int32) {
	for _, m := range c.txns[t].mops {
		if m.append || len(m.list) == 0 {
			continue
		}
		v := m.list[len(m.list)-1]
		w, ok := c.writers[kv{m.key, v}]
		if !ok || w.final || w.txn == t || c.txns[w.txn].op.Status == history.Fail {
			continue
		}
		id, wid := c.txns[t].op.ID, c.txns[w.txn].op.ID
		last := c.txns[w.txn].op.Mops[lastAppendIdx(c.txns[w.txn].mops, m.key)]
		c.report(G1b, []int{id, wid}, fmt.Sprintf(
			"op %d read key %q ending in %d, an intermediate append of op %d, whose final append to it is %d",
			id, c.keys[m.key].name, v, wid, last.Val))
	}
}

func lastAppendIdx(mops []mop, k int32) int {
	for i := len(mops) - 1; i >= 0; i-- {
		if mops[i].append && mops[i].key == k {
			return i
		}
	}
	return -1
}

func equal(a, b []int64) bool { return len(a) == len(b) && isPrefix(a, b) }

func hasSuffix(list, suffix []int64) bool {
	return len(list) >= len(suffix) && equal(list[len(list)-len(suffix):], suffix)
}

// fmtList prints a list, eliding the middle of long ones.
func fmtList(l []int64) string {
	if len(l) <= 12 {
		return fmt.Sprint(l)
	}
	return fmt.Sprintf("%v ... %v (%d elements)", l[:4], l[len(l)-4:], len(l))
}

func fmtMop(m history.Mop) string {
	if m.F == history.FAppend {
		return fmt.Sprintf("[append %q %d]", m.Key, m.Val)
	}
	return fmt.Sprintf("[read %q %s]", m.Key, fmtList(m.List))
}
