package history

import (
	"fmt"
	"slices"
	"sync"
)

// Recorder collects a history from concurrent client goroutines. It assigns
// op IDs, stamps times from the injected clock and enforces the process
// discipline described in the package doc. Misuse (two pending ops on one
// process, reuse of a retired process, completing an unknown op) is a
// harness bug and panics.
type Recorder struct {
	now func() int64

	mu struct {
		sync.Mutex
		nextID      int
		nextProcess int
		pending     map[int]Op   // op ID -> invocation
		busy        map[int]bool // processes with a pending op
		retired     map[int]bool // processes retired after Info
		done        []Op         // completed ops and events
	}
}

// NewRecorder returns a Recorder that reads time from now, in nanoseconds
// since the run's base time.
func NewRecorder(now func() int64) *Recorder {
	r := &Recorder{now: now}
	r.mu.pending = make(map[int]Op)
	r.mu.busy = make(map[int]bool)
	r.mu.retired = make(map[int]bool)
	return r
}

// NewProcess allocates a fresh process id.
func (r *Recorder) NewProcess() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.newProcessLocked()
}

func (r *Recorder) newProcessLocked() int {
	p := r.mu.nextProcess
	r.mu.nextProcess++
	return p
}

// Invoke records the invocation of op by process and returns op with ID,
// Process and InvokeNs set. The caller fills in the result fields and passes
// it to Complete.
func (r *Recorder) Invoke(process int, op Op) Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case process < 0 || process >= r.mu.nextProcess:
		panic(fmt.Sprintf("history: invoke on unallocated process %d", process))
	case r.mu.retired[process]:
		panic(fmt.Sprintf("history: invoke on process %d retired after an info result", process))
	case r.mu.busy[process]:
		panic(fmt.Sprintf("history: process %d already has a pending op", process))
	}
	op.ID = r.mu.nextID
	r.mu.nextID++
	op.Process = process
	op.InvokeNs = r.now()
	op.CompleteNs = 0
	op.Status = 0
	r.mu.pending[op.ID] = op
	r.mu.busy[process] = true
	return op
}

// Complete records the completion of op (as returned by Invoke, with its
// result fields filled in) with status, and returns the process id the
// caller must use for its next op: the same one, or a fresh one after Info.
func (r *Recorder) Complete(op Op, status Status) (next int) {
	if status < Ok || status > Info {
		panic(fmt.Sprintf("history: complete op %d with invalid status %d", op.ID, status))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	inv, ok := r.mu.pending[op.ID]
	if !ok || inv.Process != op.Process {
		panic(fmt.Sprintf("history: complete of op %d (process %d) that is not pending", op.ID, op.Process))
	}
	delete(r.mu.pending, op.ID)
	delete(r.mu.busy, op.Process)
	op.InvokeNs = inv.InvokeNs
	op.CompleteNs = r.now()
	op.Status = status
	r.mu.done = append(r.mu.done, op)
	if status != Info {
		return op.Process
	}
	r.mu.retired[op.Process] = true
	return r.newProcessLocked()
}

// Event records an instantaneous nemesis event (op.F names it) and returns
// it as recorded.
func (r *Recorder) Event(op Op) Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.ID = r.mu.nextID
	r.mu.nextID++
	op.Process = NemesisProcess
	op.InvokeNs = r.now()
	op.CompleteNs = op.InvokeNs
	if op.Status == 0 {
		op.Status = Ok
	}
	r.mu.done = append(r.mu.done, op)
	return op
}

// History returns every recorded op sorted by ID. Ops still pending are
// reported as Info with CompleteNs = Never.
func (r *Recorder) History() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := make([]Op, 0, len(r.mu.done)+len(r.mu.pending))
	ops = append(ops, r.mu.done...)
	for _, op := range r.mu.pending {
		op.Status = Info
		op.CompleteNs = Never
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(a, b Op) int { return a.ID - b.ID })
	return ops
}
