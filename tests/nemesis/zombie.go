package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// zombie makes a deposed leader that does not know it: the leaseholder of a
// user range is paused and everything its peers send it is cut at once, so
// the others elect a new leader and go on writing while none of their
// messages can reach it; after zombieAfter it is resumed behind the cut. It
// still believes it leads — it hears no newer term — and its own SQL clients
// (never faulted) reach it, until its CheckQuorum notices it hears no
// quorum and it steps down (one to two election timeouts). Whatever it
// serves in that window must not be stale: this is the trap for leaseholder
// reads without a ReadIndex round (testing.md §4.3; the mut_stale_reads
// mutation). The heal removes the cut.
type zombie struct{}

// zombieAfter is how long the old leader stays paused: long enough for an
// election (1–2 s) and for the other gateways to give up on it (their
// probes of it go unanswered: rpc.Dialer, about 5 s) and find the new one.
const zombieAfter = 8 * time.Second

func (zombie) Name() string { return ZombieName }

func (zombie) Inject(ctx context.Context, c *Cluster, rng *rand.Rand) (*Fault, error) {
	lh, r, ok := c.leaseholderOf(ctx, rng)
	if !ok {
		return nil, errors.New("nemesis: zombie: no user range has a known leaseholder")
	}
	var inbound []Pair
	for o := range c.Nodes {
		if o != lh {
			inbound = append(inbound, Pair{From: o, To: lh})
		}
	}
	c.Net.Cut(inbound)
	if err := c.Pause(lh); err != nil {
		_ = c.Resume(lh)
		c.Net.Heal()
		return nil, err
	}
	if !sleep(ctx, zombieAfter) {
		_ = c.Resume(lh)
		c.Net.Heal()
		return nil, ctx.Err()
	}
	if err := c.Resume(lh); err != nil {
		c.Net.Heal()
		return nil, err
	}
	if err := checkCut(ctx, c, inbound); err != nil {
		c.Net.Heal()
		return nil, fmt.Errorf("nemesis: zombie: %w", err)
	}
	desc := fmt.Sprintf("n%d, the leaseholder of r%d: paused %s behind a cut of all it receives, resumed behind it", lh+1, r, zombieAfter)
	return &Fault{Name: ZombieName, Desc: desc, heal: func(ctx context.Context) error {
		c.Net.Heal()
		return checkAllLinks(ctx, c)
	}}, nil
}
