package listappend

import (
	"fmt"
	"slices"

	"github.com/ordodb/ordo/tests/checker/history"
)

// buildGraph makes the committed txns graph nodes and adds every edge.
func (c *checker) buildGraph() {
	for t := range c.txns {
		tx := &c.txns[t]
		if tx.op.Status == history.Ok || (tx.op.Status == history.Info && tx.observed) {
			tx.node = int32(len(c.g.nodeTxn))
			c.g.nodeTxn = append(c.g.nodeTxn, int32(t))
		}
	}
	c.g.nTxn = int32(len(c.g.nodeTxn))
	c.res.Committed = int(c.g.nTxn)
	for k := range c.keys {
		c.addKeyEdges(int32(k))
	}
	if c.cfg.ProcessOrder {
		c.addProcessEdges()
	}
	nBarriers := c.addRealtimeEdges()
	c.g.finish(c.g.nTxn + nBarriers)
}

// addEdge adds an edge between the nodes of txns a and b, unless either is
// not committed or they are the same.
func (c *checker) addEdge(a, b int32, kind uint8, key int32, v1, v2 int64) {
	if a < 0 || b < 0 {
		return
	}
	na, nb := c.txns[a].node, c.txns[b].node
	if na < 0 || nb < 0 || na == nb {
		return
	}
	c.g.edges = append(c.g.edges, edge{from: na, to: nb, kind: kind, key: key, v1: v1, v2: v2})
}

func (c *checker) addKeyEdges(k int32) {
	ks := &c.keys[k]
	for i := 1; i < len(ks.order); i++ {
		c.addEdge(ks.writers[i-1].txn, ks.writers[i].txn, ww, k, ks.order[i-1], ks.order[i])
	}
	for _, r := range ks.reads {
		m := len(r.list)
		switch {
		case !r.compat && m > 0:
			if w, ok := c.writers[kv{k, r.list[m-1]}]; ok {
				c.addEdge(w.txn, r.txn, wr, k, r.list[m-1], 0)
			}
		case r.compat:
			if m > 0 {
				c.addEdge(ks.writers[m-1].txn, r.txn, wr, k, r.list[m-1], 0)
			}
			if m < len(ks.order) {
				c.addEdge(r.txn, ks.writers[m].txn, rw, k, ks.order[m], 0)
			}
		}
	}
}

// addProcessEdges chains each process's committed txns in invocation order.
func (c *checker) addProcessEdges() {
	byProc := map[int][]int32{}
	for _, t := range c.g.nodeTxn {
		p := c.txns[t].op.Process
		byProc[p] = append(byProc[p], t)
	}
	for _, ts := range byProc {
		slices.SortFunc(ts, func(a, b int32) int { return cmpInt64(c.invoke(a), c.invoke(b)) })
		for i := 1; i < len(ts); i++ {
			c.addEdge(ts[i-1], ts[i], pr, -1, 0, 0)
		}
	}
}

func (c *checker) invoke(t int32) int64   { return c.txns[t].op.InvokeNs }
func (c *checker) complete(t int32) int64 { return c.txns[t].op.CompleteNs }

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// addRealtimeEdges adds barrier nodes so that a path T1 ~> T2 through
// barriers exists iff T1 is ok and T1.complete < T2.invoke. Info txns have
// no known completion, so no edges leave them. It returns the number of
// barriers.
func (c *checker) addRealtimeEdges() int32 {
	var times []int64
	for _, t := range c.g.nodeTxn {
		if c.ok(t) {
			times = append(times, c.complete(t))
		}
	}
	slices.Sort(times)
	times = slices.Compact(times)
	barrier := func(i int) int32 { return c.g.nTxn + int32(i) }
	for i := 1; i < len(times); i++ {
		c.g.edges = append(c.g.edges, edge{from: barrier(i - 1), to: barrier(i), kind: rt})
	}
	for n, t := range c.g.nodeTxn {
		if c.ok(t) {
			i, _ := slices.BinarySearch(times, c.complete(t))
			c.g.edges = append(c.g.edges, edge{from: int32(n), to: barrier(i), kind: rt})
		}
		// The latest completion strictly before the invocation.
		if i, _ := slices.BinarySearch(times, c.invoke(t)); i > 0 {
			c.g.edges = append(c.g.edges, edge{from: barrier(i - 1), to: int32(n), kind: rt})
		}
	}
	return int32(len(times))
}

// txnVal is an append: its txn and value.
type txnVal struct {
	txn int32
	val int64
}

// checkLost reports ok appends that completed before the invocation of the
// last ok read of their key but are missing from it.
func (c *checker) checkLost() {
	appends := make([][]txnVal, len(c.keys)) // ok appends per key
	for t := range c.txns {
		if !c.ok(int32(t)) {
			continue
		}
		for _, m := range c.txns[t].mops {
			if m.append {
				appends[m.key] = append(appends[m.key], txnVal{int32(t), m.val})
			}
		}
	}
	for k := range c.keys {
		final := int32(-1)
		var list []int64
		for _, r := range c.keys[k].reads {
			if final < 0 || c.invoke(r.txn) >= c.invoke(final) {
				final, list = r.txn, r.list
			}
		}
		if final >= 0 {
			c.checkLostKey(int32(k), final, list, appends[k])
		}
	}
}

func (c *checker) checkLostKey(k, final int32, list []int64, appends []txnVal) {
	in := make(map[int64]struct{}, len(list))
	for _, v := range list {
		in[v] = struct{}{}
	}
	for _, a := range appends {
		t := a.txn
		if _, ok := in[a.val]; ok || c.complete(t) >= c.invoke(final) {
			continue
		}
		w, r := c.txns[t].op, c.txns[final].op
		c.report(LostAppend, []int{w.ID, r.ID}, fmt.Sprintf(
			"op %d appended %d to %q and completed at %d, but the final read of %q by op %d, invoked at %d, is %s",
			w.ID, a.val, c.keys[k].name, w.CompleteNs, c.keys[k].name, r.ID, r.InvokeNs, fmtList(list)))
	}
}
