package listappend

import (
	"fmt"
	"slices"
	"strings"
)

// Class names an anomaly class.
type Class string

// Anomaly classes.
const (
	G0       Class = "G0"
	G1a      Class = "G1a"
	G1b      Class = "G1b"
	G1c      Class = "G1c"
	GSingle  Class = "G-single"
	G2Item   Class = "G2-item"
	Internal Class = "internal"
	// GarbageRead is a read of a value no transaction appended.
	GarbageRead Class = "garbage-read"
	// DuplicateAppend is a value that appears twice in one read.
	DuplicateAppend Class = "duplicate-append"
	// IncompatibleOrder is a read that is not a prefix of the longest read.
	IncompatibleOrder Class = "incompatible-order"
	// LostAppend is an ok append missing from a later final read.
	LostAppend Class = "lost-append"

	G0Process      Class = "G0-process"
	G1cProcess     Class = "G1c-process"
	GSingleProcess Class = "G-single-process"
	G2ItemProcess  Class = "G2-item-process"

	G0Realtime      Class = "G0-realtime"
	G1cRealtime     Class = "G1c-realtime"
	GSingleRealtime Class = "G-single-realtime"
	G2ItemRealtime  Class = "G2-item-realtime"
)

// nonSerializable are the classes that violate serializability.
var nonSerializable = []Class{G0, G1a, G1b, G1c, GSingle, G2Item, Internal,
	GarbageRead, DuplicateAppend, IncompatibleOrder}

// nonStrict are the further classes that violate strict serializability.
var nonStrict = []Class{G0Process, G1cProcess, GSingleProcess, G2ItemProcess,
	G0Realtime, G1cRealtime, GSingleRealtime, G2ItemRealtime, LostAppend}

// Anomaly is one anomaly: a cycle (one per SCC) or a single bad read.
type Anomaly struct {
	Class Class
	// Txns are the op IDs involved (a cycle's txns in cycle order).
	Txns []int
	// Explanation says why, Elle style.
	Explanation string
}

// Result is the checker's verdict.
type Result struct {
	Txns      int // txn ops in the history
	Committed int // graph nodes: ok txns and observed info txns
	Keys      int
	// Counts holds the number of anomalies of each class found.
	Counts map[Class]int
	// Anomalies holds up to Config.MaxExamples anomalies per class.
	Anomalies []Anomaly
}

// Serializable reports whether no anomaly excludes serializability.
func (r *Result) Serializable() bool { return r.none(nonSerializable) }

// StrictSerializable reports whether the history is also consistent with
// real-time order (and process order, if checked) and lost no append.
func (r *Result) StrictSerializable() bool {
	return r.Serializable() && r.none(nonStrict)
}

func (r *Result) none(classes []Class) bool {
	for _, c := range classes {
		if r.Counts[c] > 0 {
			return false
		}
	}
	return true
}

// Summary is one line: sizes, verdicts and nonzero counts.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d txns (%d committed), %d keys: serializable=%t strict-serializable=%t",
		r.Txns, r.Committed, r.Keys, r.Serializable(), r.StrictSerializable())
	classes := make([]Class, 0, len(r.Counts))
	for c, n := range r.Counts {
		if n > 0 {
			classes = append(classes, c)
		}
	}
	slices.Sort(classes)
	for _, c := range classes {
		fmt.Fprintf(&b, " %s=%d", c, r.Counts[c])
	}
	return b.String()
}

// String is the summary followed by every kept anomaly's explanation.
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Summary())
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "\n\n%s %v\n%s", a.Class, a.Txns, a.Explanation)
	}
	return b.String()
}

func (r *Result) add(a Anomaly, maxExamples int) {
	r.Counts[a.Class]++
	if r.Counts[a.Class] <= maxExamples {
		r.Anomalies = append(r.Anomalies, a)
	}
}
