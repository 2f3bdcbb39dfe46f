package nemesis

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// Link is the fault state of the bytes flowing from one node to another.
// The zero Link is healthy.
type Link struct {
	// Cut drops every byte (a blackhole: connections stay open and stall,
	// as behind a DROP rule; a connection that lost bytes is closed when the
	// link heals, as a stalled TCP connection would time out).
	Cut bool
	// Delay holds each chunk for Delay plus a uniform jitter in
	// [-Jitter, +Jitter], never reordering a connection's bytes.
	Delay, Jitter time.Duration
	// Loss is the probability that a chunk is "lost": a TCP stream cannot
	// lose bytes, so a loss shows as a retransmission stall of LossStall.
	Loss float64
}

// LossStall is how long a lost chunk is held: about a TCP retransmission
// timeout on loopback after a loss (Linux's minimum RTO is 200 ms).
const LossStall = 200 * time.Millisecond

// Pair names a directed link: bytes from node From to node To (indexes).
type Pair struct{ From, To int }

func (p Pair) String() string { return fmt.Sprintf("n%d→n%d", p.From+1, p.To+1) }

// Net is the fault state of every directed link between n nodes, shared by
// the proxies in front of the nodes. It is safe for concurrent use.
type Net struct {
	n  int
	mu struct {
		sync.Mutex
		links   map[Pair]Link
		proxies []*Proxy
	}
}

// NewNet returns a healthy network of n nodes.
func NewNet(n int) *Net {
	nt := &Net{n: n}
	nt.mu.links = map[Pair]Link{}
	return nt
}

// Nodes is the number of nodes.
func (nt *Net) Nodes() int { return nt.n }

// Clients is the index that stands for the SQL clients in links: the
// SQL-port proxies (NewClientProxy) apply the links Clients→node and
// node→Clients to every connection, so a partition of all ports can cut a
// node off from its clients too.
func (nt *Net) Clients() int { return nt.n }

// link returns the state of from→to; a source that is no node (-1: a client
// or the harness) and a node's link to itself are always healthy.
func (nt *Net) link(from, to int) Link {
	if from < 0 || to < 0 || from == to {
		return Link{}
	}
	nt.mu.Lock()
	defer nt.mu.Unlock()
	return nt.mu.links[Pair{from, to}]
}

// Set replaces the state of the given links and leaves the others alone.
func (nt *Net) Set(links map[Pair]Link) {
	nt.mu.Lock()
	for p, l := range links {
		if l == (Link{}) {
			delete(nt.mu.links, p)
		} else {
			nt.mu.links[p] = l
		}
	}
	proxies := nt.mu.proxies
	nt.mu.Unlock()
	for _, p := range proxies {
		p.closeHealed()
	}
}

// Cut cuts the given directed links (a grudge) on top of the current state.
func (nt *Net) Cut(pairs []Pair) {
	links := map[Pair]Link{}
	nt.mu.Lock()
	for _, p := range pairs {
		l := nt.mu.links[p]
		l.Cut = true
		links[p] = l
	}
	nt.mu.Unlock()
	nt.Set(links)
}

// Heal makes every link healthy.
func (nt *Net) Heal() {
	links := map[Pair]Link{}
	nt.mu.Lock()
	for p := range nt.mu.links {
		links[p] = Link{}
	}
	nt.mu.Unlock()
	nt.Set(links)
}

// Faulty returns the links that are not healthy, in order.
func (nt *Net) Faulty() []Pair {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	var out []Pair
	for p := range nt.mu.links {
		out = append(out, p)
	}
	sortPairs(out)
	return out
}

func (nt *Net) register(p *Proxy) {
	nt.mu.Lock()
	defer nt.mu.Unlock()
	nt.mu.proxies = append(nt.mu.proxies, p)
}

func sortPairs(ps []Pair) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].From != ps[j].From {
			return ps[i].From < ps[j].From
		}
		return ps[i].To < ps[j].To
	})
}

// Both returns the links a→b and b→a for every a in as and b in bs: a
// two-way cut between two groups.
func Both(as, bs []int) []Pair {
	var out []Pair
	for _, a := range as {
		for _, b := range bs {
			if a != b {
				out = append(out, Pair{a, b}, Pair{b, a})
			}
		}
	}
	return out
}
