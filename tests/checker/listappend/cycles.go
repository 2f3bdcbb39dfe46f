package listappend

import (
	"fmt"
	"strings"
)

// layer is one pass of the cycle search: the edge kinds it adds to ww, wr,
// rw (extra), the kinds a reported cycle must use (need), and its classes
// in order G0, G1c, G-single, G2-item.
type layer struct {
	extra, need uint8
	classes     [4]Class
}

// maxStarts caps the start points tried when looking for a short cycle.
const maxStarts = 4

func (c *checker) layers() []layer {
	ls := []layer{{classes: [4]Class{G0, G1c, GSingle, G2Item}}}
	var extra uint8
	if c.cfg.ProcessOrder {
		extra = pr
		ls = append(ls, layer{extra: pr, need: pr,
			classes: [4]Class{G0Process, G1cProcess, GSingleProcess, G2ItemProcess}})
	}
	return append(ls, layer{extra: extra | rt, need: rt,
		classes: [4]Class{G0Realtime, G1cRealtime, GSingleRealtime, G2ItemRealtime}})
}

// findCycles runs the layers. A later layer reports only SCCs whose txns
// are not all in one SCC of the layer before.
func (c *checker) findCycles() {
	g := &c.g
	all := make([]int32, g.nodes())
	for i := range all {
		all[i] = int32(i)
	}
	prevSize := make([]int32, g.nTxn) // txn node -> size of its SCC so far
	for i := range prevSize {
		prevSize[i] = 1
	}
	for li, l := range c.layers() {
		nodes := all[:g.nTxn]
		if l.extra&rt != 0 {
			nodes = all
		}
		g.setMembers(nodes)
		comps := g.sccs(nodes, data|l.extra)
		size := make([]int32, len(comps))
		for i, s := range comps {
			size[i] = int32(countBelow(s, g.nTxn))
			if li == 0 || size[i] != prevSize[firstBelow(s, g.nTxn)] {
				c.classify(s, l)
			}
		}
		for i, s := range comps {
			for _, n := range s {
				if n < g.nTxn {
					prevSize[n] = size[i]
				}
			}
		}
	}
}

// firstBelow returns the first node of nodes below n. Every SCC has a txn
// node: barriers alone are acyclic.
func firstBelow(nodes []int32, n int32) int32 {
	for _, x := range nodes {
		if x < n {
			return x
		}
	}
	panic("listappend: SCC of barriers only")
}

func countBelow(nodes []int32, n int32) int {
	k := 0
	for _, x := range nodes {
		if x < n {
			k++
		}
	}
	return k
}

// classify finds the most specific cycle in SCC s and reports it.
func (c *checker) classify(s []int32, l layer) {
	g := &c.g
	masks := [2]uint8{ww | l.extra, ww | wr | l.extra}
	for i, mask := range masks {
		g.setMembers(s)
		sub := g.sccs(s, mask)
		if cyc := c.cycleIn(sub, mask, l.need); cyc != nil {
			c.reportCycle(l.classes[i], cyc, s)
			return
		}
	}
	if cyc := c.singleRW(s, ww|wr|l.extra, l.need); cyc != nil {
		c.reportCycle(l.classes[2], cyc, s)
		return
	}
	if cyc := c.cycleIn([][]int32{s}, data|l.extra, l.need); cyc != nil {
		c.reportCycle(l.classes[3], cyc, s)
		return
	}
	panic("listappend: SCC without a cycle")
}

// cycleIn returns a short cycle within one of comps (SCCs under mask) that
// uses an edge of a kind in need, if need != 0. It searches each comp alone
// and stops after maxStarts comps with a cycle. It changes the member set.
func (c *checker) cycleIn(comps [][]int32, mask, need uint8) []int32 {
	g := &c.g
	var best []int32
	found := 0
	for _, comp := range comps {
		g.setMembers(comp)
		var cyc []int32
		if need == 0 {
			for _, n := range comp[:min(len(comp), maxStarts)] {
				cyc = shorter(cyc, g.path(n, n, mask, 0))
			}
		}
		for _, e := range c.needEdges(comp, need) {
			if p := g.path(g.edges[e].to, g.edges[e].from, mask, 0); p != nil {
				cyc = shorter(cyc, append([]int32{e}, p...))
			}
		}
		if cyc != nil {
			best = shorter(best, cyc)
			if found++; found == maxStarts {
				break
			}
		}
	}
	return best
}

// needEdges returns up to maxStarts edges of a kind in need with both ends
// in comp, the current member set.
func (c *checker) needEdges(comp []int32, need uint8) []int32 {
	g := &c.g
	var es []int32
	if need == 0 {
		return nil
	}
	for _, n := range comp {
		for i := g.start[n]; i < g.start[n+1]; i++ {
			if g.edges[i].kind&need != 0 && g.in(g.edges[i].to) {
				if es = append(es, i); len(es) == maxStarts {
					return es
				}
			}
		}
	}
	return es
}

// singleRW looks for a cycle of one rw edge a -> b and a path b ~> a under
// mask, trying up to SearchBudget rw edges of the current member set s.
func (c *checker) singleRW(s []int32, mask, need uint8) []int32 {
	g := &c.g
	g.setMembers(s)
	var best []int32
	tries, found := 0, 0
	for _, a := range s {
		for i := g.start[a]; i < g.start[a+1]; i++ {
			e := &g.edges[i]
			if e.kind != rw || !g.in(e.to) {
				continue
			}
			if p := g.path(e.to, a, mask, need); p != nil {
				best = shorter(best, append([]int32{i}, p...))
				found++
			}
			if tries++; tries >= c.cfg.SearchBudget || found >= maxStarts {
				return best
			}
		}
	}
	return best
}

func shorter(a, b []int32) []int32 {
	if a == nil || (b != nil && len(b) < len(a)) {
		return b
	}
	return a
}

// step is one edge of a cycle between txns, barrier runs collapsed to rt.
type step struct {
	from, to int32 // txn indexes
	e        edge
}

// steps turns a cycle of edge indexes into txn-to-txn steps.
func (c *checker) steps(cyc []int32) []step {
	g := &c.g
	// Rotate so that the cycle starts at a txn node.
	for i, e := range cyc {
		if g.edges[e].from < g.nTxn {
			cyc = append(cyc[i:len(cyc):len(cyc)], cyc[:i]...)
			break
		}
	}
	var out []step
	for i := 0; i < len(cyc); i++ {
		e := g.edges[cyc[i]]
		from := e.from
		for e.to >= g.nTxn { // through barriers
			i++
			e = g.edges[cyc[i]]
		}
		out = append(out, step{from: g.nodeTxn[from], to: g.nodeTxn[e.to], e: e})
	}
	return out
}

func (c *checker) reportCycle(class Class, cyc []int32, scc []int32) {
	steps := c.steps(cyc)
	name := map[int32]string{}
	var ids []int
	var b strings.Builder
	b.WriteString("Let:\n")
	for _, st := range steps {
		name[st.from] = fmt.Sprintf("T%d", len(name)+1)
		ids = append(ids, c.txns[st.from].op.ID)
		fmt.Fprintf(&b, "  %s = %s\n", name[st.from], c.describeTxn(st.from))
	}
	b.WriteString("Then:\n")
	for i, st := range steps {
		lead := "  - "
		if i == len(steps)-1 && i > 0 {
			lead = "  - However, "
		}
		fmt.Fprintf(&b, "%s%s < %s, because %s", lead, name[st.from], name[st.to], c.because(st, name))
		if i == len(steps)-1 {
			b.WriteString(": a contradiction!")
		} else {
			b.WriteString(".\n")
		}
	}
	fmt.Fprintf(&b, "\n(SCC of %d txns)", countBelow(scc, c.g.nTxn))
	c.report(class, ids, b.String())
}

func (c *checker) because(st step, name map[int32]string) string {
	a, b := name[st.from], name[st.to]
	var key string
	if st.e.key >= 0 && st.e.kind&data != 0 {
		key = c.keys[st.e.key].name
	}
	switch st.e.kind {
	case ww:
		return fmt.Sprintf("%s appended %d after %s appended %d to %q", b, st.e.v2, a, st.e.v1, key)
	case wr:
		return fmt.Sprintf("%s observed %s's append of %d to %q", b, a, st.e.v1, key)
	case rw:
		return fmt.Sprintf("%s did not observe %s's append of %d to %q", a, b, st.e.v1, key)
	case pr:
		return fmt.Sprintf("process %d executed %s before %s", c.txns[st.from].op.Process, a, b)
	default:
		return fmt.Sprintf("%s completed at %d, before %s was invoked at %d",
			a, c.complete(st.from), b, c.invoke(st.to))
	}
}

func (c *checker) describeTxn(t int32) string {
	op := c.txns[t].op
	var b strings.Builder
	fmt.Fprintf(&b, "op %d (process %d, %s, %d..%d):", op.ID, op.Process, op.Status, op.InvokeNs, op.CompleteNs)
	for _, m := range op.Mops {
		b.WriteString(" " + fmtMop(m))
	}
	return b.String()
}
