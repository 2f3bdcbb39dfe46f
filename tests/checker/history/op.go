package history

import (
	"encoding/json"
	"fmt"
	"math"
)

// Status is the client's knowledge of an operation's outcome.
type Status uint8

const (
	// Ok means the operation took effect and its result is known.
	Ok Status = iota + 1
	// Fail means the operation definitely did not take effect.
	Fail
	// Info means the outcome is unknown.
	Info
)

var statusNames = [...]string{Ok: "ok", Fail: "fail", Info: "info"}

// String returns "ok", "fail" or "info".
func (s Status) String() string {
	if s >= Ok && s <= Info {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// MarshalText encodes s as "ok", "fail" or "info".
func (s Status) MarshalText() ([]byte, error) {
	if s < Ok || s > Info {
		return nil, fmt.Errorf("history: invalid status %d", uint8(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText decodes "ok", "fail" or "info".
func (s *Status) UnmarshalText(b []byte) error {
	for i := Ok; i <= Info; i++ {
		if statusNames[i] == string(b) {
			*s = i
			return nil
		}
	}
	return fmt.Errorf("history: invalid status %q", b)
}

// Never is the CompleteNs of an operation that never completed.
const Never int64 = math.MaxInt64

// NemesisProcess is the Process of fault events recorded in a history.
const NemesisProcess = -1

// Op names used by the workloads. Checkers ignore ops whose F they do not
// know only when Process == NemesisProcess; anything else is an error.
const (
	FRead     = "read"
	FWrite    = "write"
	FCAS      = "cas"
	FTxn      = "txn"
	FTransfer = "transfer"
	FAppend   = "append" // a Mop of a list-append txn
	FAdd      = "add"    // a sets add, a counter increment
	FInsert   = "insert" // a registration or g2 insert, a comments write
)

// Op is one operation attempt.
type Op struct {
	ID         int    `json:"id"`
	Process    int    `json:"process"`
	InvokeNs   int64  `json:"invokeNs"`
	CompleteNs int64  `json:"completeNs"`
	Status     Status `json:"status"`
	// F names the operation: read, write, cas, txn, transfer, or a nemesis
	// event name.
	F string `json:"f"`

	// Register: Key, the written Value or the Value read, the Expected value
	// of a CAS, whether a read found the key (Exists), whether an Ok CAS
	// applied (Swapped; an Ok CAS with Swapped false saw a different value).
	// A g2 insert uses Element (the g2 key), Value (the table) and Swapped
	// (it found its predicate empty and inserted); a registration insert
	// uses Key for the user name and Element for the row id.
	Key      string `json:"key,omitempty"`
	Value    string `json:"value,omitempty"`
	Expected string `json:"expected,omitempty"`
	Exists   bool   `json:"exists,omitempty"`
	Swapped  bool   `json:"swapped,omitempty"`

	// Mops are the micro-operations of a list-append txn.
	Mops []Mop `json:"mops,omitempty"`

	// Bank: a transfer, or the balances an Ok read saw.
	Transfer *Transfer        `json:"transfer,omitempty"`
	Balances map[string]int64 `json:"balances,omitempty"`

	// Element is the value an add or insert writes: a sets element or a
	// comments id (unique per run), the row id of a registration insert
	// (unique per run), the key of a g2 insert.
	Element int64 `json:"element,omitempty"`
	// Elements are the elements an Ok sets or comments read saw, in the
	// order read, duplicates kept.
	Elements []int64 `json:"elements,omitempty"`
	// Count is the counter's value an Ok counter read or increment saw.
	Count int64 `json:"count,omitempty"`
	// Rows are the rows an Ok registration or g2 read saw.
	Rows []Row `json:"rows,omitempty"`

	// Error is the client error text, for humans only.
	Error string `json:"error,omitempty"`
}

// Mop is one micro-operation of a list-append transaction: F is FAppend
// (Val is the appended value) or FRead (List is the list read; nil and empty
// both mean the key was absent or empty).
type Mop struct {
	F    string  `json:"f"`
	Key  string  `json:"key"`
	Val  int64   `json:"val,omitempty"`
	List []int64 `json:"list,omitempty"`
}

// Append returns an append micro-operation.
func Append(key string, val int64) Mop { return Mop{F: FAppend, Key: key, Val: val} }

// Read returns a read micro-operation that returned list.
func Read(key string, list ...int64) Mop { return Mop{F: FRead, Key: key, List: list} }

// Row is one row of a registration read (Key is the user name, Element the
// row id) or of a g2 read (Key is the table, Element the g2 key).
type Row struct {
	Key     string `json:"key"`
	Element int64  `json:"element"`
}

// Transfer moves Amount from one bank account to another.
type Transfer struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount int64  `json:"amount"`
}

// String renders op for messages.
func (op Op) String() string {
	b, err := json.Marshal(op)
	if err != nil {
		return fmt.Sprintf("op %d: %v", op.ID, err)
	}
	return string(b)
}
