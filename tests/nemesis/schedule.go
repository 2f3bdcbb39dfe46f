package nemesis

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Event names in a history (F of an op with Process ==
// history.NemesisProcess; Value is the fault, "NAME DESC").
const (
	EventStart = "nemesis-start"
	EventEnd   = "nemesis-end"
	EventError = "nemesis-error"
)

// Schedule injects faults one at a time: quiet, fault, hold, heal, again.
type Schedule struct {
	Cluster *Cluster
	Nemeses []Nemesis
	// Seed seeds the choice of nemesis, target and shape, and the jitter.
	Seed uint64
	// Quiet is the time between a heal and the next fault; Hold how long a
	// fault lasts. Each is jittered by ±50%. Defaults 5 s and 5 s.
	Quiet, Hold time.Duration
	// HealTimeout bounds a heal (a restarted node's health included).
	// Default 60 s.
	HealTimeout time.Duration
	// Tail is the fault-free time Run leaves before ctx's deadline, so
	// that the recovery from the last fault shows. Default Quiet.
	Tail time.Duration
	// Event, if set, records an event in the run's history
	// (history.Recorder.Event).
	Event func(history.Op) history.Op
	// Log, if set, gets one line per event.
	Log io.Writer
}

func (s *Schedule) withDefaults() {
	if s.Quiet <= 0 {
		s.Quiet = 5 * time.Second
	}
	if s.Hold <= 0 {
		s.Hold = 5 * time.Second
	}
	if s.HealTimeout <= 0 {
		s.HealTimeout = 60 * time.Second
	}
	if s.Tail <= 0 {
		s.Tail = s.Quiet
	}
}

// Run injects faults until ctx is done, or until less than a fault's hold
// and the Tail are left before ctx's deadline, and returns how many faults
// it injected.
// The fault in place when ctx ends is cut short and healed before Run
// returns. The error is a fault that did not take effect or did not heal;
// Run stops at the first.
func (s *Schedule) Run(ctx context.Context) (int, error) {
	s.withDefaults()
	if len(s.Nemeses) == 0 {
		<-ctx.Done()
		return 0, nil
	}
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-s.Tail))
		defer cancel()
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x6e656d))
	faults := 0
	for {
		quiet, hold := jitter(rng, s.Quiet), jitter(rng, s.Hold)
		if !sleep(ctx, quiet) || !timeFor(ctx, hold) {
			return faults, nil
		}
		n := s.Nemeses[rng.IntN(len(s.Nemeses))]
		f, err := n.Inject(ctx, s.Cluster, rng)
		if err != nil {
			if ctx.Err() != nil {
				return faults, nil
			}
			s.event(EventError, n.Name(), err)
			return faults, err
		}
		faults++
		s.event(EventStart, f.String(), nil)
		sleep(ctx, hold)
		if err := s.heal(f); err != nil {
			s.event(EventError, f.String(), err)
			return faults, err
		}
		s.event(EventEnd, f.ended(), nil)
	}
}

// heal heals f under its own deadline: ctx may be over already.
func (s *Schedule) heal(f *Fault) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.HealTimeout)
	defer cancel()
	if err := f.Heal(ctx); err != nil {
		return fmt.Errorf("nemesis: heal %s: %w", f, err)
	}
	return nil
}

func (s *Schedule) event(f, value string, err error) {
	op := history.Op{F: f, Value: value}
	if err != nil {
		op.Status, op.Error = history.Fail, err.Error()
	}
	if s.Event != nil {
		op = s.Event(op)
	}
	if s.Log != nil {
		line := fmt.Sprintf("nemesis: %s %s", f, value)
		if s.Event != nil {
			line = fmt.Sprintf("nemesis: %4.1fs %s %s", time.Duration(op.InvokeNs).Seconds(), f, value)
		}
		if err != nil {
			line += ": " + err.Error()
		}
		fmt.Fprintln(s.Log, line)
	}
}

// jitter returns d ± 50%.
func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	return d/2 + time.Duration(rng.Int64N(int64(d)+1))
}

// sleep waits d or until ctx is done; false if ctx is.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// timeFor reports whether ctx leaves d before its deadline.
func timeFor(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return ctx.Err() == nil && (!ok || time.Until(deadline) >= d)
}

// Recovery is the time from one heal until the workload's operations
// succeeded again.
type Recovery struct {
	Fault string
	// HealNs is when the heal completed, in the history's clock.
	HealNs int64
	// After is the time from the heal until the first operation invoked
	// after it completed ok; -1 if none did.
	After time.Duration
	// Throughput is the time from the heal until the start of the first
	// 1 s window with at least half the ok rate of the quiet time before
	// the fault (up to 5 s of it); -1 if none had, or there was no quiet
	// time to compare with.
	Throughput time.Duration
}

// Throughput windows of Recoveries.
const (
	rateWindow     = time.Second
	baselineWindow = 5 * time.Second
	windowStep     = 100 * time.Millisecond
)

// Recoveries reads the recovery after each heal from a history.
func Recoveries(ops []history.Op) []Recovery {
	var done []int64 // completion times of ok operations, sorted
	for _, op := range ops {
		if op.Process != history.NemesisProcess && op.Status == history.Ok {
			done = append(done, op.CompleteNs)
		}
	}
	slices.Sort(done)
	count := func(from, to int64) int {
		i, _ := slices.BinarySearch(done, from)
		j, _ := slices.BinarySearch(done, to)
		return j - i
	}
	var out []Recovery
	var prevEnd, start int64
	for _, e := range ops {
		if e.Process != history.NemesisProcess {
			continue
		}
		switch e.F {
		case EventStart:
			start = e.InvokeNs
			continue
		case EventEnd:
		default:
			continue
		}
		r := Recovery{Fault: e.Value, HealNs: e.InvokeNs, After: firstOk(ops, e.InvokeNs), Throughput: -1}
		from := max(prevEnd, start-int64(baselineWindow))
		if base := count(from, start); base > 0 && start-from >= int64(rateWindow) && len(done) > 0 {
			want := float64(base) * float64(rateWindow) / float64(start-from) / 2
			for t := e.InvokeNs; t+int64(rateWindow) <= done[len(done)-1]; t += int64(windowStep) {
				if float64(count(t, t+int64(rateWindow))) >= want {
					r.Throughput = time.Duration(t - e.InvokeNs)
					break
				}
			}
		}
		prevEnd = e.InvokeNs
		out = append(out, r)
	}
	return out
}

// firstOk is the time from heal until the first operation invoked after it
// completed ok, -1 if none did.
func firstOk(ops []history.Op, heal int64) time.Duration {
	after := time.Duration(-1)
	for _, op := range ops {
		if op.Process == history.NemesisProcess || op.Status != history.Ok || op.InvokeNs < heal {
			continue
		}
		if d := time.Duration(op.CompleteNs - heal); after < 0 || d < after {
			after = d
		}
	}
	return after
}

// Summarize renders faults and recoveries in one line: "3 faults (kill 1,
// partition 2); recovery after heal: max 2.1 s, median 0.3 s".
func Summarize(ops []history.Op) string {
	counts := map[string]int{}
	var errs []string
	for _, op := range ops {
		if op.Process != history.NemesisProcess {
			continue
		}
		switch op.F {
		case EventStart:
			name, _, _ := strings.Cut(op.Value, " ")
			counts[name]++
		case EventError:
			errs = append(errs, op.Value+": "+op.Error)
		}
	}
	names := make([]string, 0, len(counts))
	total := 0
	for n, k := range counts {
		names = append(names, fmt.Sprintf("%s %d", n, k))
		total += k
	}
	slices.Sort(names)
	line := fmt.Sprintf("%d faults", total)
	if total > 0 {
		line += fmt.Sprintf(" (%s)", strings.Join(names, ", "))
	}
	var after, rate []time.Duration
	never := 0
	for _, r := range Recoveries(ops) {
		if r.Throughput >= 0 {
			rate = append(rate, r.Throughput)
		}
		if r.After < 0 {
			never++
			continue
		}
		after = append(after, r.After)
	}
	if len(after) > 0 {
		slices.Sort(after)
		line += fmt.Sprintf("; recovery after heal: max %.1f s, median %.1f s", after[len(after)-1].Seconds(), after[len(after)/2].Seconds())
	}
	if len(rate) > 0 {
		line += fmt.Sprintf(" (half the ok rate: max %.1f s)", slices.Max(rate).Seconds())
	}
	if armed, fired := FailpointsFired(ops); armed > 0 {
		line += fmt.Sprintf("; failpoints fired %d of %d", fired, armed)
	}
	if never > 0 {
		line += fmt.Sprintf("; %d heals never followed by an ok operation", never)
	}
	if len(errs) > 0 {
		line += "; nemesis errors: " + strings.Join(errs, "; ")
	}
	return line
}
