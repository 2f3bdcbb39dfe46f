package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// ordo bench report reads the --json lines of several ordo bench runs (each
// with --target and --label) and prints one side-by-side table: per label,
// each target's figures and the ratios between targets.

// benchRatio compares two targets on one label.
type benchRatio struct {
	Label       string  `json:"label"`
	Numerator   string  `json:"numerator"`
	Denominator string  `json:"denominator"`
	TPS         float64 `json:"tps"`
	P50         float64 `json:"p50"`
	P99         float64 `json:"p99"`
	Seconds     float64 `json:"seconds,omitempty"` // load rows: the ratio of their durations
}

// benchReport is the table, and what report --json writes.
type benchReport struct {
	Labels  []string       `json:"labels"`
	Targets []string       `json:"targets"`
	Results []*benchResult `json:"results"`
	Ratios  []benchRatio   `json:"ratios"`
	Goals   []*benchGoal   `json:"goals,omitempty"`
}

func runBenchReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.String("json", "", "also write the figures and ratios as JSON to this file")
	ratios := fs.String("ratios", "", "comma-separated NUM/DEN target pairs (default: every target over the first)")
	goals := fs.String("goals", "", "comma-separated goals LABEL@TARGET/LABEL@TARGET:METRIC>=X or <=X (METRIC tps, p50 or p99), e.g. tpcb@ordo-3/tpcb@postgres:tps>=0.5")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: ordo bench report [--json FILE] [--ratios A/B,...] RESULTS.jsonl")
		return 2
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fail(stderr, "bench report", err)
	}
	defer f.Close()
	results, err := readBenchResults(f)
	if err != nil {
		return fail(stderr, "bench report", err)
	}
	rep, err := buildBenchReport(results, splitList(*ratios))
	if err != nil {
		return fail(stderr, "bench report", err)
	}
	if rep.Goals, err = parseBenchGoals(splitList(*goals)); err != nil {
		return fail(stderr, "bench report", err)
	}
	rep.evalGoals()
	printBenchReport(stdout, rep)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = os.WriteFile(*jsonOut, append(b, '\n'), 0o644)
		}
		if err != nil {
			return fail(stderr, "bench report", err)
		}
	}
	return 0
}

func readBenchResults(r io.Reader) ([]*benchResult, error) {
	var out []*benchResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var res benchResult
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, &res)
	}
	return out, sc.Err()
}

// buildBenchReport orders labels and targets as they first appear and
// computes the ratios of pairs ("num/den"; none: every target over the
// first).
func buildBenchReport(results []*benchResult, pairs []string) (*benchReport, error) {
	rep := &benchReport{Results: results}
	for _, r := range results {
		if !slices.Contains(rep.Labels, r.Label) {
			rep.Labels = append(rep.Labels, r.Label)
		}
		if !slices.Contains(rep.Targets, r.Target) {
			rep.Targets = append(rep.Targets, r.Target)
		}
	}
	if len(pairs) == 0 {
		for _, t := range rep.Targets[min(1, len(rep.Targets)):] {
			pairs = append(pairs, t+"/"+rep.Targets[0])
		}
	}
	for _, p := range pairs {
		num, den, ok := strings.Cut(p, "/")
		if !ok {
			return nil, fmt.Errorf("ratio %q: want NUM/DEN", p)
		}
		for _, l := range rep.Labels {
			a, b := rep.find(l, num), rep.find(l, den)
			if a == nil || b == nil {
				continue
			}
			r := benchRatio{Label: l, Numerator: num, Denominator: den,
				TPS: ratio(a.TPS, b.TPS), P50: ratio(a.P50Ms, b.P50Ms), P99: ratio(a.P99Ms, b.P99Ms)}
			if a.Workload == benchLoadWorkload {
				r.Seconds = ratio(a.Seconds, b.Seconds)
			}
			rep.Ratios = append(rep.Ratios, r)
		}
	}
	return rep, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (rep *benchReport) find(label, target string) *benchResult {
	for _, r := range rep.Results {
		if r.Label == label && r.Target == target {
			return r
		}
	}
	return nil
}

// pairNames lists the ratio columns in order of first appearance.
func (rep *benchReport) pairNames() []string {
	var out []string
	for _, r := range rep.Ratios {
		if n := r.Numerator + "/" + r.Denominator; !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// printBenchReport prints, per label, rows of tps, p50, p99 and error
// counts (40001/23505/other) with a column per target and per ratio, and a
// last column with the goal that applies to the row, if any; then the goals
// one per line. A load row (workload "load") is one row of seconds.
func printBenchReport(w io.Writer, rep *benchReport) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	pairs := rep.pairNames()
	goalCol := ""
	if len(rep.Goals) > 0 {
		goalCol = "goal\t"
	}
	fmt.Fprintf(tw, "workload\tclients\t\t%s\t%s\t%s\n", strings.Join(rep.Targets, "\t"), strings.Join(pairs, "\t"), goalCol)
	type row struct {
		name   string
		metric string // for goals
		cell   func(*benchResult) string
		rat    func(benchRatio) float64
	}
	for _, l := range rep.Labels {
		clients, load := "", false
		for _, t := range rep.Targets {
			if r := rep.find(l, t); r != nil {
				clients, load = fmt.Sprint(r.Clients), r.Workload == benchLoadWorkload
				break
			}
		}
		rows := []row{
			{"tps", "tps", func(r *benchResult) string { return fmt.Sprintf("%.0f", r.TPS) }, func(x benchRatio) float64 { return x.TPS }},
			{"p50 ms", "p50", func(r *benchResult) string { return fmt.Sprintf("%.2f", r.P50Ms) }, func(x benchRatio) float64 { return x.P50 }},
			{"p99 ms", "p99", func(r *benchResult) string { return fmt.Sprintf("%.2f", r.P99Ms) }, func(x benchRatio) float64 { return x.P99 }},
			{"40001/23505/err", "", func(r *benchResult) string {
				return fmt.Sprintf("%d/%d/%d", r.Serialization, r.UniqueViol, r.OtherErrors)
			}, nil},
		}
		if load {
			clients = ""
			rows = []row{{"seconds", "", func(r *benchResult) string { return fmt.Sprintf("%.1f", r.Seconds) }, func(x benchRatio) float64 { return x.Seconds }}}
		}
		for i, row := range rows {
			name, cl := "", ""
			if i == 0 {
				name, cl = l, clients
			}
			cells := []string{name, cl, row.name}
			for _, t := range rep.Targets {
				cell := "-"
				if r := rep.find(l, t); r != nil {
					cell = row.cell(r)
				}
				cells = append(cells, cell)
			}
			for _, p := range pairs {
				cells = append(cells, rep.ratioCell(l, p, row.rat))
			}
			if goalCol != "" {
				var gs []string
				for _, g := range rep.Goals {
					if g.NumLabel == l && g.Metric == row.metric && row.metric != "" {
						gs = append(gs, g.short())
					}
				}
				cells = append(cells, strings.Join(gs, "; "))
			}
			fmt.Fprintf(tw, "%s\t\n", strings.Join(cells, "\t"))
		}
	}
	_ = tw.Flush()
	if len(rep.Goals) == 0 {
		return
	}
	met := 0
	for _, g := range rep.Goals {
		if g.Met {
			met++
		}
	}
	fmt.Fprintf(w, "\ngoals: %d of %d met\n", met, len(rep.Goals))
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, g := range rep.Goals {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", g.Name, g.Metric, g.long())
	}
	_ = tw.Flush()
}

func (rep *benchReport) ratioCell(label, pair string, get func(benchRatio) float64) string {
	if get == nil {
		return ""
	}
	for _, r := range rep.Ratios {
		if r.Label == label && r.Numerator+"/"+r.Denominator == pair {
			return fmt.Sprintf("%.2fx", get(r))
		}
	}
	return "-"
}
