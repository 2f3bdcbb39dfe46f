package verify

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Report is one workload run's figures (testing.md §8.6), one entry of
// results.json.
type Report struct {
	Workload  string   `json:"workload"`
	Seed      uint64   `json:"seed"`
	Version   string   `json:"version,omitempty"` // filled in by the caller
	Hosts     []string `json:"hosts,omitempty"`   // filled in by the caller
	Nodes     int      `json:"nodes"`
	Clients   int      `json:"clients"`
	Isolation string   `json:"isolation"`
	Nemesis   string   `json:"nemesis"`
	DurationS float64  `json:"durationS"`

	Invoked  int     `json:"invoked"`
	Ok       int     `json:"ok"`
	Fail     int     `json:"fail"`
	Info     int     `json:"info"`
	OkPerSec float64 `json:"okPerSec"`
	P50Ms    float64 `json:"p50Ms"`
	P99Ms    float64 `json:"p99Ms"`
	// Errors counts fail and info outcomes by SQLSTATE ("" for errors that
	// are not server errors).
	Errors map[string]int `json:"errors,omitempty"`

	Valid       bool           `json:"valid"`
	Level       string         `json:"level"`
	Anomalies   map[string]int `json:"anomalies"`
	Checker     string         `json:"checker"`
	CheckerMs   float64        `json:"checkerMs"`
	Figures     string         `json:"figures"`
	Explanation string         `json:"explanation,omitempty"`
	History     string         `json:"history,omitempty"` // filled in by the caller

	// With a nemesis (filled in by the caller): the faults injected, the
	// recovery after each heal, and a one-line summary of both.
	Faults         int        `json:"faults,omitempty"`
	Recovery       []Recovery `json:"recovery,omitempty"`
	NemesisSummary string     `json:"nemesisSummary,omitempty"`
	// SettledMs (local cluster only, filled in by the caller): how long
	// after the run every lock and prepared record was gone from every
	// user range; -1 if they were not within the bound (a failure).
	SettledMs float64 `json:"settledMs,omitempty"`
	// RangesAgreed (local cluster only) is the number of user ranges whose
	// replicas were compared at one applied index and found equal.
	RangesAgreed int `json:"rangesAgreed,omitempty"`
}

// Recovery is the time from one heal until an operation invoked after it
// completed ok.
type Recovery struct {
	Fault string  `json:"fault"`
	HealS float64 `json:"healS"` // since the run's start
	// RecoveryMs is -1 if no operation invoked after the heal completed ok.
	RecoveryMs float64 `json:"recoveryMs"`
	// ThroughputMs is the time until a 1 s window had half the ok rate of
	// the time before the fault; -1 if none did (or nothing to compare).
	ThroughputMs float64 `json:"throughputMs"`
}

func newReport(cfg Config, name string, elapsed, checking time.Duration, ops []history.Op, v Verdict) *Report {
	r := &Report{
		Workload: name, Seed: cfg.Seed, Nodes: cfg.Nodes, Clients: cfg.Clients,
		Isolation: string(cfg.Isolation), Nemesis: cfg.Nemesis, DurationS: elapsed.Seconds(),
		Valid: v.Valid, Level: v.Level, Anomalies: v.Counts, Checker: v.Checker,
		CheckerMs: ms(checking), Figures: v.Figures, Explanation: v.Explanation,
		Errors: map[string]int{},
	}
	var lat []time.Duration
	for _, op := range ops {
		if op.Process == history.NemesisProcess {
			continue
		}
		r.Invoked++
		switch op.Status {
		case history.Ok:
			r.Ok++
			lat = append(lat, time.Duration(op.CompleteNs-op.InvokeNs))
		case history.Fail:
			r.Fail++
		case history.Info:
			r.Info++
		}
		if op.Status != history.Ok {
			r.Errors[op.Status.String()+" "+errorClass(op.Error)]++
		}
	}
	if elapsed > 0 {
		r.OkPerSec = float64(r.Ok) / elapsed.Seconds()
	}
	slices.Sort(lat)
	r.P50Ms, r.P99Ms = ms(percentile(lat, 50)), ms(percentile(lat, 99))
	return r
}

// errorClass extracts "SQLSTATE xxxxx" from an error text, or "other".
func errorClass(text string) string {
	if i := strings.Index(text, "(SQLSTATE "); i >= 0 && len(text) >= i+16 {
		return text[i+10 : i+15]
	}
	if strings.Contains(text, errInsufficient.Error()) {
		return "insufficient-funds"
	}
	return "other"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile returns the p-th percentile (nearest rank) of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Summary is the run's one summary line (testing.md §8.6).
func (r *Report) Summary() string {
	verdict := "PASS"
	if !r.Valid {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%s: %s: %d nodes, %d clients, %.0f s, nemesis %s, %s: %d ops (%d ok, %d fail, %d info), %.0f ok/s, p50 %.1f ms, p99 %.1f ms; %s; seed %d",
		verdict, r.Workload, r.Nodes, r.Clients, r.DurationS, r.Nemesis, strings.ToUpper(r.Isolation),
		r.Invoked, r.Ok, r.Fail, r.Info, r.OkPerSec, r.P50Ms, r.P99Ms, r.Figures, r.Seed)
}
