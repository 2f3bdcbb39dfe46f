package record

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// sim is a small model of one transaction's commit protocol: an anchor
// with its record and lock table, participants with prepared records and
// applied writes, and a coordinator that may crash. The scripts drive it
// step by step; every step checks atomicity.
type sim struct {
	anchor       string
	parts        []string
	record       Status
	live         bool // the transaction is in the anchor's lock table
	coordinator  bool // the coordinator process is alive
	prepared     map[string]bool
	applied      map[string]bool
	lockTermHeld bool
}

func newSim(anchor string, parts []string) *sim {
	return &sim{anchor: anchor, parts: parts, live: true, coordinator: true,
		prepared: map[string]bool{}, applied: map[string]bool{}, lockTermHeld: true}
}

func (s *sim) all() []string { return append([]string{s.anchor}, s.parts...) }

// checkAtomic fails if some participant applied and another discarded for
// good, or applied without a commit record ever having been written.
func (s *sim) checkAtomic() error {
	for _, p := range s.all() {
		if s.applied[p] && s.record == Aborted {
			return fmt.Errorf("ATOMICITY: %s applied a transaction recorded aborted", p)
		}
	}
	return nil
}

func (s *sim) print() string {
	var b strings.Builder
	fmt.Fprintf(&b, "record=%s live=%v coordinator=%v\n", s.record, s.live, s.coordinator)
	parts := s.all()
	sort.Strings(parts)
	for _, p := range parts {
		fmt.Fprintf(&b, "%s: prepared=%v applied=%v\n", p, s.prepared[p], s.applied[p])
	}
	return b.String()
}

func (s *sim) query() string {
	ans := Query(s.record, s.live)
	if ans.WriteAbort {
		st, write := AbortRecord(s.record)
		if write {
			s.record = st
		}
		return fmt.Sprintf("anchor wrote ABORT_RECORD: %s", st)
	}
	return fmt.Sprintf("anchor answers %s", ans.Status)
}

func (s *sim) recover(p string) string {
	if !s.prepared[p] {
		return fmt.Sprintf("%s: nothing prepared", p)
	}
	q := s.query()
	act := Recover(Query(s.record, s.live).Status)
	switch act {
	case ApplyWrites:
		s.applied[p], s.prepared[p] = true, false
	case Discard:
		s.prepared[p] = false
	}
	return fmt.Sprintf("%s; %s: %s", q, p, act)
}

func (s *sim) run(d *datadriven.TestData) string {
	arg := func(k string) string {
		for _, a := range d.CmdArgs {
			if a.Key == k && len(a.Vals) > 0 {
				return a.Vals[0]
			}
		}
		return ""
	}
	var out string
	switch d.Cmd {
	case "prepare":
		s.prepared[arg("p")] = true
		out = "ok"
	case "lease-moved":
		s.lockTermHeld, s.live = false, false
		out = "ok"
	case "commit":
		st, err := Commit(s.record, s.lockTermHeld)
		if err != nil {
			out = "refused: " + err.Error()
			break
		}
		s.record, s.applied[s.anchor], s.live = st, true, false
		out = "committed at the anchor"
	case "crash-coordinator":
		s.coordinator = false
		out = "ok"
	case "coordinator-gone-at-anchor":
		// The anchor asked the coordinator (TxnAlive) and aborted the
		// transaction's unprepared locks.
		s.live = false
		out = "ok"
	case "resolve":
		p := arg("p")
		if s.prepared[p] && s.record == Committed {
			s.applied[p], s.prepared[p] = true, false
		}
		out = "ok"
	case "query":
		out = s.query()
	case "recover":
		out = s.recover(arg("p"))
	case "forget":
		for _, p := range s.parts {
			if s.prepared[p] {
				d.Fatalf(nil, "forget with %s still prepared", p)
			}
		}
		s.record = None
		out = "forgotten"
	case "print":
		return s.print()
	default:
		d.Fatalf(nil, "unknown command %s", d.Cmd)
	}
	if err := s.checkAtomic(); err != nil {
		return err.Error()
	}
	return out
}

func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var s *sim
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd == "txn" {
				var anchor string
				var parts []string
				for _, a := range d.CmdArgs {
					switch a.Key {
					case "anchor":
						anchor = a.Vals[0]
					case "participants":
						parts = a.Vals
					}
				}
				s = newSim(anchor, parts)
				return s.print()
			}
			return s.run(d)
		})
	})
}

func TestRules(t *testing.T) {
	tests := []struct {
		cur  Status
		held bool
		want Status
		err  error
	}{
		{None, true, Committed, nil},
		{None, false, None, ErrLeaseMoved},
		{Aborted, true, Aborted, ErrAborted},
		{Committed, true, Committed, nil},
	}
	for _, tc := range tests {
		got, err := Commit(tc.cur, tc.held)
		if got != tc.want || err != tc.err {
			t.Errorf("Commit(%s, %v) = %s, %v", tc.cur, tc.held, got, err)
		}
	}
	if st, w := AbortRecord(Committed); st != Committed || w {
		t.Error("an abort record must not overwrite a commit")
	}
	if a := Query(None, true); a.Status != Pending || a.WriteAbort {
		t.Error("a live transaction is pending")
	}
	if a := Query(None, false); !a.WriteAbort {
		t.Error("a dead transaction without a record is aborted")
	}
}
