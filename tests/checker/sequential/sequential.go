package sequential

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ordodb/ordo/tests/checker/history"
)

// maxExamples caps the anomalies kept.
const maxExamples = 8

// Anomaly is one read that saw a subkey without an earlier one.
type Anomaly struct {
	Op      int // op ID of the read
	Key     string
	Saw     []int64
	Missing []int64
}

// String explains the anomaly in words.
func (a Anomaly) String() string {
	return fmt.Sprintf("read %d of key %s saw subkeys %v but not %v, whose writes had been acknowledged before the first of those it saw was written, and which it read after it",
		a.Op, a.Key, a.Saw, a.Missing)
}

// Result is the checker's verdict.
type Result struct {
	Writes, Reads, OkReads int
	// NonEmpty counts the ok reads that saw at least one subkey.
	NonEmpty int
	// Bad counts the anomalous reads; Examples holds up to maxExamples.
	Bad      int
	Examples []Anomaly
}

// Valid reports whether no read was anomalous.
func (r *Result) Valid() bool { return r.Bad == 0 }

// Summary is one line.
func (r *Result) Summary() string {
	return fmt.Sprintf("sequential: %d reads (%d ok, %d saw subkeys), %d bad", r.Reads, r.OkReads, r.NonEmpty, r.Bad)
}

// String explains every anomaly kept, one per paragraph.
func (r *Result) String() string {
	var b strings.Builder
	for i, a := range r.Examples {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(a.String())
	}
	if r.Bad > len(r.Examples) {
		fmt.Fprintf(&b, "\n\n(%d more)", r.Bad-len(r.Examples))
	}
	return b.String()
}

// Check judges ops. The error is a malformed history (an op the workload
// cannot have produced), never an anomaly.
func Check(ops []history.Op) (*Result, error) {
	r := &Result{}
	for _, op := range ops {
		if op.Process == history.NemesisProcess {
			continue
		}
		switch op.F {
		case history.FWrite:
			r.Writes++
			continue
		case history.FRead:
		default:
			return nil, fmt.Errorf("sequential: op %d: unknown f %q", op.ID, op.F)
		}
		r.Reads++
		if op.Status != history.Ok {
			continue
		}
		r.OkReads++
		if len(op.Elements) == 0 {
			continue
		}
		r.NonEmpty++
		saw := slices.Sorted(slices.Values(op.Elements))
		if saw[0] < 0 {
			return nil, fmt.Errorf("sequential: op %d: negative subkey %d", op.ID, saw[0])
		}
		var missing []int64
		for j := int64(0); j < saw[len(saw)-1]; j++ {
			if _, found := slices.BinarySearch(saw, j); !found {
				missing = append(missing, j)
			}
		}
		if len(missing) > 0 {
			r.Bad++
			if len(r.Examples) < maxExamples {
				r.Examples = append(r.Examples, Anomaly{Op: op.ID, Key: op.Key, Saw: saw, Missing: missing})
			}
		}
	}
	return r, nil
}
