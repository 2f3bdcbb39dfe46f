package listappend

import (
	"math/rand/v2"
	"testing"
)

// randomGraph returns a graph of n nodes with random edges of random kinds.
func randomGraph(rng *rand.Rand, n int32, edges int) *graph {
	g := &graph{nTxn: n}
	for i := 0; i < edges; i++ {
		a, b := rng.Int32N(n), rng.Int32N(n)
		if a != b {
			g.edges = append(g.edges, edge{from: a, to: b, kind: 1 << rng.IntN(5)})
		}
	}
	g.finish(n)
	return g
}

// reach is the naive transitive closure under mask (Floyd-Warshall), with
// dist the shortest path length (0 = unreachable).
func reach(g *graph, mask uint8) [][]int {
	n := int(g.nodes())
	dist := make([][]int, n)
	for i := range dist {
		dist[i] = make([]int, n)
	}
	for _, e := range g.edges {
		if e.kind&mask != 0 {
			dist[e.from][e.to] = 1
		}
	}
	for k := 0; k < n; k++ {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if dist[i][k] > 0 && dist[k][j] > 0 && (dist[i][j] == 0 || dist[i][k]+dist[k][j] < dist[i][j]) {
					dist[i][j] = dist[i][k] + dist[k][j]
				}
			}
		}
	}
	return dist
}

func TestSCCAndPathAgainstClosure(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		g := randomGraph(rng, 1+rng.Int32N(12), rng.IntN(40))
		mask := uint8(1 + rng.IntN(31))
		dist := reach(g, mask)
		all := make([]int32, g.nodes())
		for i := range all {
			all[i] = int32(i)
		}
		g.setMembers(all)
		comp := make([]int, g.nodes())
		for i, s := range g.sccs(all, mask) {
			for _, n := range s {
				comp[n] = i + 1
			}
		}
		for a := range all {
			for b := range all {
				same := a != b && dist[a][b] > 0 && dist[b][a] > 0
				if same != (comp[a] != 0 && comp[a] == comp[b] && a != b) {
					t.Fatalf("seed %d: nodes %d,%d: closure says same=%t, comps %v", seed, a, b, same, comp)
				}
			}
			p := g.path(int32(a), int32(a), mask, 0)
			if (p != nil) != (dist[a][a] > 0) || (p != nil && len(p) != dist[a][a]) {
				t.Fatalf("seed %d: cycle through %d: got %v, want length %d", seed, a, p, dist[a][a])
			}
			checkPath(t, g, p, int32(a), int32(a), mask)
		}
	}
}

func checkPath(t *testing.T, g *graph, p []int32, src, dst int32, mask uint8) {
	t.Helper()
	at := src
	for _, i := range p {
		e := g.edges[i]
		if e.from != at || e.kind&mask == 0 {
			t.Fatalf("bad path %v from %d", p, src)
		}
		at = e.to
	}
	if len(p) > 0 && at != dst {
		t.Fatalf("path %v ends at %d, not %d", p, at, dst)
	}
}

func TestPathNeed(t *testing.T) {
	// 0 -ww-> 1 -ww-> 2, and 0 -ww-> 3 -rt-> 2: with need=rt the path goes
	// through 3.
	g := &graph{nTxn: 4, edges: []edge{
		{from: 0, to: 1, kind: ww}, {from: 1, to: 2, kind: ww},
		{from: 0, to: 3, kind: ww}, {from: 3, to: 2, kind: rt},
	}}
	g.finish(4)
	g.setMembers([]int32{0, 1, 2, 3})
	p := g.path(0, 2, ww|rt, rt)
	if len(p) != 2 || g.edges[p[0]].to != 3 {
		t.Fatalf("got %v", p)
	}
	if p := g.path(0, 2, ww, rt); p != nil {
		t.Fatalf("path without a needed edge: %v", p)
	}
}
