package record

import "errors"

// Status is a transaction's fate as recorded at its anchor.
type Status int

// Statuses. None means no record exists.
const (
	None Status = iota
	Pending
	Committed
	Aborted
)

func (s Status) String() string {
	return [...]string{"none", "pending", "committed", "aborted"}[s]
}

// Errors of Commit; both make the transaction retry.
var (
	ErrLeaseMoved = errors.New("record: the lease moved before the commit applied")
	ErrAborted    = errors.New("record: the transaction was aborted by recovery")
)

// Commit decides a COMMIT command at apply, given the current record and
// whether the command carries the lock term and generation it applies in.
// It returns the new status or an error (the record is then unchanged).
func Commit(cur Status, lockTermHeld bool) (Status, error) {
	switch {
	case !lockTermHeld:
		return cur, ErrLeaseMoved
	case cur == Aborted:
		return cur, ErrAborted
	}
	return Committed, nil
}

// AbortRecord decides an ABORT_RECORD command: a tombstone where no record
// exists, else the existing record stands. It returns the resulting status
// and whether a record must be written.
func AbortRecord(cur Status) (Status, bool) {
	if cur != None {
		return cur, false
	}
	return Aborted, true
}

// QueryAnswer is what the anchor does for a QUERY.
type QueryAnswer struct {
	Status Status
	// WriteAbort: no record and the transaction is not live here; write
	// ABORT_RECORD through Raft and answer with its outcome.
	WriteAbort bool
}

// Query decides a QUERY at the anchor.
func Query(cur Status, liveAtAnchor bool) QueryAnswer {
	switch {
	case cur != None:
		return QueryAnswer{Status: cur}
	case liveAtAnchor:
		return QueryAnswer{Status: Pending}
	}
	return QueryAnswer{WriteAbort: true}
}

// Action is what a participant does with its prepared record.
type Action int

// Actions.
const (
	Wait Action = iota
	ApplyWrites
	Discard
)

func (a Action) String() string { return [...]string{"wait", "apply", "discard"}[a] }

// Recover maps the anchor's answer to the participant's action.
func Recover(anchor Status) Action {
	switch anchor {
	case Committed:
		return ApplyWrites
	case Aborted:
		return Discard
	}
	return Wait
}
