package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Names of the nemeses Parse knows.
const (
	PartitionName = "partition"
	KillName      = "kill"
	PauseName     = "pause"
	DelayName     = "delay"
	LossName      = "loss"
	LeaseName     = "lease"
	SplitName     = "split"
	FailpointName = "failpoint"
	ZombieName    = "zombie"
	ClockName     = "clock"
	// KillAllName kills every node at once.
	KillAllName    = "killall"
	MembershipName = "membership"
	// PartitionAllName cuts a node off from its peers and its clients.
	PartitionAllName = "partition-all"
)

// Names lists every nemesis, in the order help texts show them.
var Names = []string{PartitionName, KillName, PauseName, DelayName, LossName, LeaseName, SplitName, FailpointName, ZombieName, ClockName, KillAllName, MembershipName, PartitionAllName}

// Nemesis injects one kind of fault.
type Nemesis interface {
	Name() string
	// Inject applies a fault chosen with rng and checks that it took
	// effect; on error nothing is left applied.
	Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error)
}

// Fault is one applied fault.
type Fault struct {
	// Name is the nemesis's; Desc says what was done ("one: n2 | n1 n3").
	Name, Desc string
	// Outcome, set by Heal, says what the fault came to where that is not
	// known at injection ("(fired: …)" for a failpoint); it ends the
	// nemesis-end event.
	Outcome string
	heal    func(ctx context.Context) error
}

// String is "NAME DESC".
func (f *Fault) String() string { return f.Name + " " + f.Desc }

// ended is the fault as its nemesis-end event names it.
func (f *Fault) ended() string {
	if f.Outcome == "" {
		return f.String()
	}
	return f.String() + " " + f.Outcome
}

// Heal undoes the fault and checks that it is undone.
func (f *Fault) Heal(ctx context.Context) error { return f.heal(ctx) }

// Parse returns the nemeses named in names ("none" or nothing: none).
func Parse(names []string) ([]Nemesis, error) {
	var out []Nemesis
	for _, n := range names {
		switch n {
		case "none":
		case PartitionName:
			out = append(out, partition{})
		case KillName:
			out = append(out, kill{})
		case PauseName:
			out = append(out, pause{})
		case DelayName:
			out = append(out, delay{Link{Delay: 100 * time.Millisecond, Jitter: 50 * time.Millisecond}})
		case LossName:
			out = append(out, loss{0.2})
		case LeaseName:
			out = append(out, lease{})
		case SplitName:
			out = append(out, split{})
		case FailpointName:
			out = append(out, failpointNemesis{})
		case ZombieName:
			out = append(out, zombie{})
		case ClockName:
			out = append(out, clockNemesis{})
		case KillAllName:
			out = append(out, killAll{})
		case MembershipName:
			out = append(out, membership{})
		case PartitionAllName:
			out = append(out, partitionAll{})
		default:
			return nil, fmt.Errorf("nemesis: unknown nemesis %q (want some of %s)", n, strings.Join(Names, ","))
		}
	}
	return out, nil
}

// Probe timeouts: across a cut a probe must get no answer within cutProbe;
// along a healthy link it must be answered within healthyProbe.
const (
	cutProbe     = time.Second
	healthyProbe = 3 * time.Second
)

// partition cuts node-to-node links in one of the shapes of Shape.
type partition struct{}

func (partition) Name() string { return PartitionName }

func (partition) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	desc, grudge := Shape(c.Net.Nodes(), rng)
	if lh, r, ok := c.aimAtLeaseholder(ctx, rng); ok {
		perm := rng.Perm(c.Net.Nodes())
		for j, n := range perm {
			if n == lh {
				perm[0], perm[j] = perm[j], perm[0]
			}
		}
		desc, grudge = ShapeOf("one", perm)
		desc = fmt.Sprintf("%s (the leaseholder of r%d cut off)", desc, r)
	}
	c.Net.Cut(grudge)
	if err := checkCut(ctx, c, grudge); err != nil {
		c.Net.Heal()
		return nil, fmt.Errorf("nemesis: partition %s: %w", desc, err)
	}
	return &Fault{Name: PartitionName, Desc: desc, heal: func(ctx context.Context) error {
		c.Net.Heal()
		return checkAllLinks(ctx, c)
	}}, nil
}

// Shape picks a partition of n nodes (one of Shapes(n)) and returns it
// described and the links to cut.
func Shape(n int, rng *rand.Rand) (string, []Pair) {
	shapes := Shapes(n)
	return ShapeOf(shapes[rng.IntN(len(shapes))], rng.Perm(n))
}

// Shapes are the partition shapes of n nodes: "one" isolates a node;
// "asymmetric" drops everything one node sends to the others (it still
// hears them); "bridge" (3 nodes or more) cuts the others into two groups
// that only the bridge node sees both of; "majority" (5 nodes or more)
// cuts a minority from a majority.
func Shapes(n int) []string {
	shapes := []string{"one", "asymmetric"}
	if n >= 3 {
		shapes = append(shapes, "bridge")
	}
	if n >= 5 {
		shapes = append(shapes, "majority")
	}
	return shapes
}

// ShapeOf lays shape out over the nodes of perm (a permutation of all
// nodes): perm[0] is the isolated, one-way or bridge node.
func ShapeOf(shape string, perm []int) (string, []Pair) {
	switch shape {
	case "bridge":
		rest := perm[1:]
		a, b := rest[:len(rest)/2], rest[len(rest)/2:]
		return fmt.Sprintf("bridge: %s | %s via %s", nodeList(a), nodeList(b), nodeList(perm[:1])), Both(a, b)
	case "asymmetric":
		var pairs []Pair
		for _, o := range perm[1:] {
			pairs = append(pairs, Pair{perm[0], o})
		}
		return fmt.Sprintf("asymmetric: %s → %s dropped", nodeList(perm[:1]), nodeList(perm[1:])), pairs
	case "majority":
		minority := (len(perm) - 1) / 2
		return fmt.Sprintf("majority: %s | %s", nodeList(perm[:minority]), nodeList(perm[minority:])),
			Both(perm[:minority], perm[minority:])
	default:
		return fmt.Sprintf("one: %s | %s", nodeList(perm[:1]), nodeList(perm[1:])), Both(perm[:1], perm[1:])
	}
}

// nodeList renders node indexes as "n1 n3".
func nodeList(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprintf("n%d", n+1)
	}
	return strings.Join(parts, " ")
}

// checkCut probes every cut link (each must get no answer) and one link
// left whole in both directions (it must answer), all at once.
func checkCut(ctx context.Context, c *Cluster, grudge []Pair) error {
	cut := map[Pair]bool{}
	for _, p := range grudge {
		cut[p] = true
	}
	var probes []probe
	for p := range cut {
		probes = append(probes, probe{p, false})
	}
	if p, ok := wholePair(c.Net.Nodes(), cut); ok {
		probes = append(probes, probe{p, true})
	}
	return runProbes(ctx, c, probes)
}

// wholePair returns a pair of nodes with neither direction cut.
func wholePair(n int, cut map[Pair]bool) (Pair, bool) {
	for a := range n {
		for b := a + 1; b < n; b++ {
			if !cut[Pair{a, b}] && !cut[Pair{b, a}] {
				return Pair{a, b}, true
			}
		}
	}
	return Pair{}, false
}

// checkAllLinks checks that every link answers (after a heal).
func checkAllLinks(ctx context.Context, c *Cluster) error {
	var probes []probe
	for a := range c.Net.Nodes() {
		for b := range c.Net.Nodes() {
			if a != b {
				probes = append(probes, probe{Pair{a, b}, true})
			}
		}
	}
	return runProbes(ctx, c, probes)
}

// probe is one expected probe outcome.
type probe struct {
	pair   Pair
	answer bool
}

func runProbes(ctx context.Context, c *Cluster, probes []probe) error {
	errs := make([]error, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			if !p.answer {
				err := c.Probe(ctx, p.pair.From, p.pair.To, cutProbe)
				if !errors.Is(err, errNoAnswer) {
					errs[i] = fmt.Errorf("a probe across the cut %s was answered (%v)", p.pair, err)
				}
				return
			}
			if err := c.Probe(ctx, p.pair.From, p.pair.To, healthyProbe); err != nil {
				errs[i] = fmt.Errorf("link %s: %w", p.pair, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// kill sends SIGKILL to a node; healing restarts it on its store.
type kill struct{}

func (kill) Name() string { return KillName }

func (kill) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	i := rng.IntN(len(c.Nodes))
	pid := c.Pid(i)
	if err := c.Kill(i); err != nil {
		return nil, err
	}
	return &Fault{Name: KillName, Desc: fmt.Sprintf("n%d (pid %d)", i+1, pid), heal: func(ctx context.Context) error {
		if err := c.Start(i); err != nil {
			return err
		}
		return c.WaitHealthy(ctx, i)
	}}, nil
}

// pause stops a node with SIGSTOP; healing continues it.
type pause struct{}

func (pause) Name() string { return PauseName }

func (pause) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	i := rng.IntN(len(c.Nodes))
	aim := ""
	if lh, r, ok := c.aimAtLeaseholder(ctx, rng); ok {
		i, aim = lh, fmt.Sprintf(", the leaseholder of r%d", r)
	}
	if err := c.Pause(i); err != nil {
		_ = c.Resume(i)
		return nil, err
	}
	return &Fault{Name: PauseName, Desc: fmt.Sprintf("n%d (pid %d%s)", i+1, c.Pid(i), aim), heal: func(context.Context) error {
		return c.Resume(i)
	}}, nil
}

// delay slows every link to and from one node.
type delay struct{ link Link }

func (delay) Name() string { return DelayName }

func (d delay) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	i := rng.IntN(len(c.Nodes))
	c.Net.Set(nodeLinks(c, i, d.link))
	o := (i + 1) % len(c.Nodes)
	start := time.Now()
	err := c.Probe(ctx, o, i, healthyProbe+4*d.link.Delay)
	if min := 2 * (d.link.Delay - d.link.Jitter); err == nil && time.Since(start) < min {
		err = fmt.Errorf("a round trip took %s, less than %s", time.Since(start), min)
	}
	if err != nil {
		c.Net.Heal()
		return nil, fmt.Errorf("nemesis: delay n%d: %w", i+1, err)
	}
	desc := fmt.Sprintf("n%d %s±%s", i+1, d.link.Delay, d.link.Jitter)
	return &Fault{Name: DelayName, Desc: desc, heal: func(ctx context.Context) error {
		c.Net.Heal()
		return checkAllLinks(ctx, c)
	}}, nil
}

// loss makes every link to and from one node lose chunks.
type loss struct{ p float64 }

func (loss) Name() string { return LossName }

func (l loss) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	i := rng.IntN(len(c.Nodes))
	before := c.lost()
	c.Net.Set(nodeLinks(c, i, Link{Loss: l.p}))
	return &Fault{Name: LossName, Desc: fmt.Sprintf("n%d %.0f%%", i+1, 100*l.p), heal: func(ctx context.Context) error {
		c.Net.Heal()
		if c.lost() == before {
			return fmt.Errorf("nemesis: loss on n%d's links lost nothing", i+1)
		}
		return checkAllLinks(ctx, c)
	}}, nil
}

// nodeLinks sets l on every link to and from node i.
func nodeLinks(c *Cluster, i int, l Link) map[Pair]Link {
	links := map[Pair]Link{}
	for o := range c.Nodes {
		if o != i {
			links[Pair{i, o}], links[Pair{o, i}] = l, l
		}
	}
	return links
}

// lost is the number of chunks every proxy held as lost.
func (c *Cluster) lost() int64 {
	var n int64
	for _, p := range c.proxies {
		n += p.Lost.Load()
	}
	return n
}

// killAll sends SIGKILL to every node at once; healing restarts them all.
type killAll struct{}

func (killAll) Name() string { return KillAllName }

func (killAll) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	var killed []int
	var errs []error
	for i := range c.Nodes {
		if !c.Running(i) {
			continue
		}
		if err := c.Kill(i); err != nil {
			errs = append(errs, err)
			continue
		}
		killed = append(killed, i)
	}
	heal := func(ctx context.Context) error {
		for _, i := range killed {
			if err := c.Start(i); err != nil {
				return err
			}
		}
		for _, i := range killed {
			if err := c.WaitHealthy(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	if len(errs) > 0 {
		_ = heal(ctx)
		return nil, errors.Join(errs...)
	}
	return &Fault{Name: KillAllName, Desc: fmt.Sprintf("%s (every node)", nodeList(killed)), heal: heal}, nil
}

// partitionAll is a partition of all ports: a node (with five nodes or
// more, sometimes a minority) is cut off from its peers and from the SQL
// clients too, which stay with the others — testing.md §4.1's "all
// ports", next to partition's peer-only cuts, where the isolated node
// still serves its clients.
type partitionAll struct{}

func (partitionAll) Name() string { return PartitionAllName }

func (partitionAll) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	n := c.Net.Nodes()
	shape := "one"
	if n >= 5 && rng.IntN(2) == 0 {
		shape = "majority"
	}
	perm := rng.Perm(n)
	if lh, _, ok := c.aimAtLeaseholder(ctx, rng); ok && shape == "one" {
		for j, x := range perm {
			if x == lh {
				perm[0], perm[j] = perm[j], perm[0]
			}
		}
	}
	desc, grudge := ShapeOf(shape, perm)
	cutOff := perm[:1]
	if shape == "majority" {
		cutOff = perm[:(n-1)/2]
	}
	clients := c.Net.Clients()
	for _, i := range cutOff {
		grudge = append(grudge, Pair{clients, i}, Pair{i, clients})
	}
	c.Net.Cut(grudge)
	err := checkCut(ctx, c, grudge[:len(grudge)-2*len(cutOff)])
	for _, i := range cutOff {
		if perr := ProbeSQL(ctx, c.Nodes[i].SQLProxy, cutProbe); !errors.Is(perr, errNoAnswer) {
			err = errors.Join(err, fmt.Errorf("the SQL port of n%d answered its clients across the cut (%v)", i+1, perr))
		}
	}
	if err != nil {
		c.Net.Heal()
		return nil, fmt.Errorf("nemesis: partition-all %s: %w", desc, err)
	}
	return &Fault{Name: PartitionAllName, Desc: desc + " (clients with the others)", heal: func(ctx context.Context) error {
		c.Net.Heal()
		for i := range c.Nodes {
			if err := ProbeSQL(ctx, c.Nodes[i].SQLProxy, healthyProbe); err != nil {
				return err
			}
		}
		return checkAllLinks(ctx, c)
	}}, nil
}
