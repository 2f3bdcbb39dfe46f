package listappend

import "slices"

// Edge kinds, a bit each so that searches can take a mask.
const (
	ww uint8 = 1 << iota
	wr
	rw
	pr // process order
	rt // real-time order (through barriers)

	data = ww | wr | rw
)

// edge is a dependency with the data that explains it.
type edge struct {
	from, to int32
	kind     uint8
	key      int32 // ww, wr, rw
	v1, v2   int64 // ww: v1 then v2; wr, rw: v1
}

// graph is a CSR adjacency over txn nodes [0, nTxn) followed by barrier
// nodes. Scratch arrays are reused across searches; searches are not
// reentrant.
type graph struct {
	nTxn    int32
	nodeTxn []int32 // node -> txn index (txn nodes only)
	edges   []edge  // sorted by from
	start   []int32 // edges of n are edges[start[n]:start[n+1]]

	member     []uint32 // member[n] == stamp: n is in the current set
	stamp      uint32
	index, low []int32
	onStack    []bool
	seen       []uint32 // BFS: seen[2n+flag] == bfsStamp
	bfsStamp   uint32
	prevEdge   []int32 // BFS: edge that reached a state
	prevState  []int32 // BFS: state it came from
}

func (g *graph) nodes() int32 { return int32(len(g.start) - 1) }

// finish sorts edges into CSR form for nNodes nodes.
func (g *graph) finish(nNodes int32) {
	g.start = make([]int32, nNodes+1)
	for _, e := range g.edges {
		g.start[e.from+1]++
	}
	for n := int32(0); n < nNodes; n++ {
		g.start[n+1] += g.start[n]
	}
	sorted := make([]edge, len(g.edges))
	next := slices.Clone(g.start[:nNodes])
	for _, e := range g.edges {
		sorted[next[e.from]] = e
		next[e.from]++
	}
	g.edges = sorted
	g.member = make([]uint32, nNodes)
	g.index = make([]int32, nNodes)
	g.low = make([]int32, nNodes)
	g.onStack = make([]bool, nNodes)
	g.seen = make([]uint32, 2*nNodes)
	g.prevEdge = make([]int32, 2*nNodes)
	g.prevState = make([]int32, 2*nNodes)
}

// setMembers makes nodes the current set.
func (g *graph) setMembers(nodes []int32) {
	g.stamp++
	for _, n := range nodes {
		g.member[n] = g.stamp
	}
}

func (g *graph) in(n int32) bool { return g.member[n] == g.stamp }

// sccs returns the non-trivial strongly connected components of the current
// set using edges of kinds in mask (iterative Tarjan).
func (g *graph) sccs(nodes []int32, mask uint8) [][]int32 {
	for _, n := range nodes {
		g.index[n] = -1
	}
	type frame struct{ n, pos int32 }
	var (
		comps  [][]int32
		stack  []int32
		frames []frame
		next   int32
	)
	visit := func(n int32) {
		g.index[n], g.low[n] = next, next
		next++
		stack = append(stack, n)
		g.onStack[n] = true
		frames = append(frames, frame{n, g.start[n]})
	}
	for _, root := range nodes {
		if g.index[root] >= 0 {
			continue
		}
		visit(root)
		for len(frames) > 0 {
			f := &frames[len(frames)-1]
			v := f.n
			if f.pos < g.start[v+1] {
				e := &g.edges[f.pos]
				f.pos++
				switch w := e.to; {
				case e.kind&mask == 0 || !g.in(w):
				case g.index[w] < 0:
					visit(w)
				case g.onStack[w]:
					g.low[v] = min(g.low[v], g.index[w])
				}
				continue
			}
			frames = frames[:len(frames)-1]
			if len(frames) > 0 {
				p := frames[len(frames)-1].n
				g.low[p] = min(g.low[p], g.low[v])
			}
			if g.low[v] != g.index[v] {
				continue
			}
			i := len(stack) - 1
			for stack[i] != v {
				i--
			}
			for _, n := range stack[i:] {
				g.onStack[n] = false
			}
			if len(stack)-i > 1 {
				comps = append(comps, slices.Clone(stack[i:]))
			}
			stack = stack[:i]
		}
	}
	return comps
}

// path returns the edges of a shortest path from src to dst (at least one
// edge; src == dst asks for a cycle) within the current set, using edges
// of kinds in mask. If need != 0 the path must use an edge of a kind in
// need. It returns nil if there is none. BFS states are (node, flag), where
// flag records that a needed edge was used.
func (g *graph) path(src, dst int32, mask, need uint8) []int32 {
	g.bfsStamp++
	start := 2 * src
	if need == 0 {
		start++
	}
	queue := []int32{start}
	g.seen[start] = g.bfsStamp
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		n, flag := s/2, s%2
		for i := g.start[n]; i < g.start[n+1]; i++ {
			e := &g.edges[i]
			if e.kind&mask == 0 || !g.in(e.to) {
				continue
			}
			ns := 2*e.to + flag
			if e.kind&need != 0 {
				ns = 2*e.to + 1
			}
			if e.to == dst && ns%2 == 1 {
				return g.trace(start, s, i)
			}
			if g.seen[ns] != g.bfsStamp {
				g.seen[ns] = g.bfsStamp
				g.prevEdge[ns], g.prevState[ns] = i, s
				queue = append(queue, ns)
			}
		}
	}
	return nil
}

// trace returns the edges from start to state s, then edge last.
func (g *graph) trace(start, s, last int32) []int32 {
	p := []int32{last}
	for s != start {
		p = append(p, g.prevEdge[s])
		s = g.prevState[s]
	}
	slices.Reverse(p)
	return p
}
