package main

import (
	"fmt"
	"strconv"
	"strings"
)

// benchLoadWorkload is the workload of a result line that records how long
// a target took to load a workload's tables (its Seconds), not a run.
const benchLoadWorkload = "load"

// benchGoal is a goal on one ratio of two results: each side a label on a
// target, e.g. tpcb-c32@ordo-3 / tpcb-c32@postgres, tps >= 0.5; or, for a
// latency, p50 <= 2.
type benchGoal struct {
	Name      string  `json:"name"`
	NumLabel  string  `json:"num_label"`
	NumTarget string  `json:"num_target"`
	DenLabel  string  `json:"den_label"`
	DenTarget string  `json:"den_target"`
	Metric    string  `json:"metric"` // tps, p50 or p99
	Op        string  `json:"op"`     // ">=" or "<="
	Want      float64 `json:"want"`
	Measured  bool    `json:"measured"` // both sides were in the results
	Ratio     float64 `json:"ratio"`
	Met       bool    `json:"met"`
	// MissedBy is how many times better the ratio had to be (want/ratio
	// for >=, ratio/want for <=), when missed.
	MissedBy float64 `json:"missed_by,omitempty"`
}

// parseBenchGoals parses LABEL@TARGET/LABEL@TARGET:METRIC>=X (or <=X).
func parseBenchGoals(specs []string) ([]*benchGoal, error) {
	var out []*benchGoal
	for _, spec := range specs {
		pair, cond, ok := strings.Cut(spec, ":")
		num, den, ok2 := strings.Cut(pair, "/")
		g := &benchGoal{}
		var ok3, ok4 bool
		g.NumLabel, g.NumTarget, ok3 = strings.Cut(num, "@")
		g.DenLabel, g.DenTarget, ok4 = strings.Cut(den, "@")
		if !ok || !ok2 || !ok3 || !ok4 {
			return nil, fmt.Errorf("goal %q: want LABEL@TARGET/LABEL@TARGET:METRIC>=X", spec)
		}
		for _, op := range []string{">=", "<="} {
			if m, v, found := strings.Cut(cond, op); found {
				g.Metric, g.Op = m, op
				w, err := strconv.ParseFloat(v, 64)
				if err != nil || w <= 0 {
					return nil, fmt.Errorf("goal %q: %q is not a positive number", spec, v)
				}
				g.Want = w
			}
		}
		switch {
		case g.Op == "":
			return nil, fmt.Errorf("goal %q: want METRIC>=X or METRIC<=X", spec)
		case g.Metric != "tps" && g.Metric != "p50" && g.Metric != "p99":
			return nil, fmt.Errorf("goal %q: metric %q: want tps, p50 or p99", spec, g.Metric)
		}
		switch {
		case g.NumLabel == g.DenLabel:
			g.Name = g.NumLabel + " " + g.NumTarget + "/" + g.DenTarget
		case g.NumTarget == g.DenTarget:
			g.Name = g.NumLabel + "/" + g.DenLabel + " on " + g.NumTarget
		default:
			g.Name = num + "/" + den
		}
		out = append(out, g)
	}
	return out, nil
}

// evalGoals computes each goal's ratio from the results.
func (rep *benchReport) evalGoals() {
	for _, g := range rep.Goals {
		a, b := rep.find(g.NumLabel, g.NumTarget), rep.find(g.DenLabel, g.DenTarget)
		if a == nil || b == nil {
			continue
		}
		get := func(r *benchResult) float64 {
			switch g.Metric {
			case "p50":
				return r.P50Ms
			case "p99":
				return r.P99Ms
			}
			return r.TPS
		}
		x, y := get(a), get(b)
		if x == 0 || y == 0 { // no successful transaction on one side
			continue
		}
		g.Measured, g.Ratio = true, x/y
		if g.Op == ">=" {
			g.Met = g.Ratio >= g.Want
			if !g.Met {
				g.MissedBy = g.Want / g.Ratio
			}
		} else {
			g.Met = g.Ratio <= g.Want
			if !g.Met {
				g.MissedBy = g.Ratio / g.Want
			}
		}
	}
}

// verdict is "met", "missed by 1.61x" or "not measured".
func (g *benchGoal) verdict() string {
	switch {
	case !g.Measured:
		return "not measured"
	case g.Met:
		return "met"
	}
	return fmt.Sprintf("missed by %.2fx", g.MissedBy)
}

// short is the goal column of the table: "ordo-3/postgres >= 0.50x: met".
func (g *benchGoal) short() string {
	who := g.NumTarget + "/" + g.DenTarget
	if g.NumLabel != g.DenLabel {
		who = g.NumLabel + "/" + g.DenLabel
	}
	return fmt.Sprintf("%s %s %.2fx: %s", who, g.Op, g.Want, g.verdict())
}

// long is a line of the goal list: "0.31x (goal >= 0.50x): missed by 1.61x".
func (g *benchGoal) long() string {
	if !g.Measured {
		return fmt.Sprintf("goal %s %.2fx: not measured", g.Op, g.Want)
	}
	return fmt.Sprintf("%.2fx (goal %s %.2fx): %s", g.Ratio, g.Op, g.Want, g.verdict())
}
