package register

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/ordodb/ordo/tests/checker/history"
)

// Errors returned by Check. Branch on them with errors.Is.
var (
	// ErrNotLinearizable means porcupine proved the history illegal.
	ErrNotLinearizable = errors.New("register: history is not linearizable")
	// ErrUnknown means porcupine timed out. It is a failure, never a pass.
	ErrUnknown = errors.New("register: linearizability unknown (checker timed out)")
)

// Operations converts register ops from a history into porcupine
// operations, applying the conventions in the package doc. Nemesis events
// are skipped; any other op whose F is not read, write or cas is an error.
func Operations(ops []history.Op) ([]porcupine.Operation, error) {
	out := make([]porcupine.Operation, 0, len(ops))
	for _, op := range ops {
		if op.Process == history.NemesisProcess {
			continue
		}
		p, keep, err := operation(op)
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, p)
		}
	}
	return out, nil
}

// operation converts one op; keep is false for ops that are dropped.
func operation(op history.Op) (p porcupine.Operation, keep bool, err error) {
	if op.Status < history.Ok || op.Status > history.Info {
		return p, false, fmt.Errorf("register: op %d: invalid status %d", op.ID, op.Status)
	}
	p = porcupine.Operation{ClientId: op.Process, Call: op.InvokeNs, Return: op.CompleteNs, Metadata: op.ID}
	in := Input{Key: op.Key, Value: op.Value, Expected: op.Expected}
	var o Output
	switch op.F {
	case history.FRead:
		in.Op = Read
		o = Output{Ok: op.Exists, Value: op.Value, Exists: op.Exists}
		if !op.Exists && op.Value != "" {
			return p, false, fmt.Errorf("register: op %d: read of a missing key returned %q", op.ID, op.Value)
		}
		if op.Status != history.Ok {
			return p, false, nil
		}
	case history.FWrite:
		in.Op = Write
	case history.FCAS:
		in.Op = CAS
		o.Ok = op.Swapped
	default:
		return p, false, fmt.Errorf("register: op %d: unknown f %q", op.ID, op.F)
	}
	switch op.Status {
	case history.Fail:
		return p, false, nil
	case history.Info:
		p.Return = math.MaxInt64
		o = Output{Unknown: true}
	}
	if p.Return < p.Call {
		return p, false, fmt.Errorf("register: op %d: completes at %d before invoke at %d", op.ID, p.Return, p.Call)
	}
	p.Input, p.Output = in, o
	return p, true, nil
}

// Check checks ops for linearizability with a total timeout (0 means
// none). Anything but porcupine.Ok comes with an error: ErrNotLinearizable
// or ErrUnknown.
func Check(ops []porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, error) {
	return CheckVisualize(ops, timeout, "")
}

// CheckVisualize is Check that also writes porcupine's HTML visualization
// to path, unless path is empty.
func CheckVisualize(ops []porcupine.Operation, timeout time.Duration, path string) (porcupine.CheckResult, error) {
	m := Model()
	if path == "" {
		return resultError(porcupine.CheckOperationsTimeout(m, ops, timeout))
	}
	res, info := porcupine.CheckOperationsVerbose(m, ops, timeout)
	if err := porcupine.VisualizePath(m, info, path); err != nil {
		return res, fmt.Errorf("register: visualize: %w", err)
	}
	return resultError(res)
}

func resultError(res porcupine.CheckResult) (porcupine.CheckResult, error) {
	switch res {
	case porcupine.Ok:
		return res, nil
	case porcupine.Illegal:
		return res, ErrNotLinearizable
	default:
		return res, ErrUnknown
	}
}

// CheckHistory converts ops with Operations and checks them.
func CheckHistory(ops []history.Op, timeout time.Duration, vizPath string) (porcupine.CheckResult, error) {
	p, err := Operations(ops)
	if err != nil {
		return porcupine.Unknown, err
	}
	return CheckVisualize(p, timeout, vizPath)
}

// IllegalKeys checks each key's operations alone, within timeout each, and
// returns the keys porcupine proves illegal, sorted: what to name when a
// whole history is illegal. Keys whose check times out are not listed.
func IllegalKeys(ops []porcupine.Operation, timeout time.Duration) []string {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range ops {
		k := op.Input.(Input).Key
		byKey[k] = append(byKey[k], op)
	}
	var keys []string
	for k, part := range byKey {
		if porcupine.CheckOperationsTimeout(Model(), part, timeout) == porcupine.Illegal {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
