package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// errClass is how ordo bench counts the end of a transaction.
type errClass int

const (
	classOK              errClass = iota
	classSerialization            // SQLSTATE 40001: aborted, the client may retry
	classUniqueViolation          // SQLSTATE 23505: e.g. the username is taken
	classOther                    // anything else, including lost connections
	numClasses
)

// classify maps a transaction's error to its class.
func classify(err error) errClass {
	if err == nil {
		return classOK
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001":
			return classSerialization
		case "23505":
			return classUniqueViolation
		}
	}
	return classOther
}

// benchStats are the latencies of successful transactions and the counts of
// every class, over some window.
type benchStats struct {
	lat      []time.Duration
	n        [numClasses]int64
	firstErr string // the first error of classOther
	sorted   bool
}

// record adds one finished transaction.
func (s *benchStats) record(d time.Duration, err error) {
	c := classify(err)
	s.n[c]++
	if c == classOK {
		s.lat = append(s.lat, d)
		s.sorted = false
	} else if c == classOther && s.firstErr == "" {
		s.firstErr = err.Error()
	}
}

// merge adds o to s (o is not changed).
func (s *benchStats) merge(o *benchStats) {
	s.lat = append(s.lat, o.lat...)
	s.sorted = s.sorted && len(o.lat) == 0
	for i := range s.n {
		s.n[i] += o.n[i]
	}
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

func (s *benchStats) ok() int64 { return s.n[classOK] }

func (s *benchStats) sort() {
	if !s.sorted {
		slices.Sort(s.lat)
		s.sorted = true
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of the
// latencies, 0 if there are none. Call sort first.
func (s *benchStats) percentile(p float64) time.Duration {
	return percentile(s.lat, p)
}

// percentile is the nearest-rank p-th percentile of sorted: the smallest
// value such that at least p percent of the values are at most it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// rank = ceil(p% of n), the number of values at or below the answer.
	exact := p * float64(n) / 100
	rank := int(exact)
	if float64(rank) < exact {
		rank++
	}
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// benchResult is what ordo bench reports, and what --json prints.
type benchResult struct {
	Target        string  `json:"target,omitempty"`
	Label         string  `json:"label"`
	Workload      string  `json:"workload"`
	Mode          string  `json:"mode"`
	Clients       int     `json:"clients"`
	URLs          int     `json:"urls"`
	Seconds       float64 `json:"seconds"`
	Txns          int64   `json:"txns"`
	TPS           float64 `json:"tps"`
	P50Ms         float64 `json:"p50_ms"`
	P90Ms         float64 `json:"p90_ms"`
	P99Ms         float64 `json:"p99_ms"`
	P999Ms        float64 `json:"p999_ms"`
	MaxMs         float64 `json:"max_ms"`
	Serialization int64   `json:"serialization_failures_40001"`
	UniqueViol    int64   `json:"unique_violations_23505"`
	OtherErrors   int64   `json:"other_errors"`
	FirstError    string  `json:"first_error,omitempty"`
	// kv --ranges: how many ranges the table had, and each one's
	// leaseholder node id at the end of the run (0: unknown).
	Ranges       int      `json:"ranges,omitempty"`
	Leaseholders []uint64 `json:"leaseholders,omitempty"`
}

func newBenchResult(cfg *benchConfig, s *benchStats, window time.Duration) *benchResult {
	s.sort()
	r := &benchResult{
		Target: cfg.target, Label: cfg.label, Workload: cfg.workload, Mode: cfg.modeName,
		Clients: cfg.clients, URLs: len(cfg.urls), Seconds: window.Seconds(), Txns: s.ok(),
		P50Ms: ms(s.percentile(50)), P90Ms: ms(s.percentile(90)), P99Ms: ms(s.percentile(99)),
		P999Ms: ms(s.percentile(99.9)), MaxMs: ms(s.percentile(100)),
		Serialization: s.n[classSerialization], UniqueViol: s.n[classUniqueViolation],
		OtherErrors: s.n[classOther], FirstError: s.firstErr,
	}
	if window > 0 {
		r.TPS = float64(s.ok()) / window.Seconds()
	}
	return r
}

// printBenchResult prints the final figures as a small table.
func printBenchResult(w io.Writer, r *benchResult) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "workload\t%s (-M %s)\n", r.Workload, r.Mode)
	fmt.Fprintf(tw, "clients\t%d over %d URL(s)\n", r.Clients, r.URLs)
	fmt.Fprintf(tw, "measured\t%.1f s\n", r.Seconds)
	fmt.Fprintf(tw, "committed\t%d\n", r.Txns)
	fmt.Fprintf(tw, "tps\t%.1f\n", r.TPS)
	fmt.Fprintf(tw, "latency ms\tp50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", r.P50Ms, r.P90Ms, r.P99Ms, r.P999Ms, r.MaxMs)
	fmt.Fprintf(tw, "40001\t%d (serialization failures, not retried)\n", r.Serialization)
	fmt.Fprintf(tw, "23505\t%d (unique violations)\n", r.UniqueViol)
	fmt.Fprintf(tw, "other errors\t%d\n", r.OtherErrors)
	if r.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", r.FirstError)
	}
	if r.Ranges > 0 {
		fmt.Fprintf(tw, "ranges\t%d, leaseholders at the end %v\n", r.Ranges, r.Leaseholders)
	}
	_ = tw.Flush()
}
