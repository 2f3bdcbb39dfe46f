package register

import (
	"fmt"
	"hash/maphash"

	"github.com/anishathalye/porcupine"
)

// Kind is the kind of a register operation.
type Kind uint8

const (
	// Read returns the value of Key, if any.
	Read Kind = iota
	// Write sets Key to Value.
	Write
	// CAS sets Key to Value if Key exists and holds Expected.
	CAS
)

var kindNames = [...]string{Read: "read", Write: "write", CAS: "cas"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Input is a porcupine Operation's Input.
type Input struct {
	Op       Kind
	Key      string
	Value    string // written by Write and CAS
	Expected string // compared by CAS
}

// Output is a porcupine Operation's Output.
type Output struct {
	// Ok is CAS success, or for a read that the key was found (equal to
	// Exists). Ignored for writes.
	Ok bool
	// Value is the value read.
	Value string
	// Exists is whether a read found the key.
	Exists bool
	// Unknown marks a write or CAS whose outcome is unknown.
	Unknown bool
}

// state is one key's register. It is comparable, so porcupine's default
// shallow equality applies.
type state struct {
	exists bool
	value  string
}

var hashSeed = maphash.MakeSeed()

// Model returns the partitioned register model.
func Model() porcupine.Model {
	return porcupine.Model{
		Partition:      partition,
		PartitionEvent: partitionEvent,
		Init:           func() interface{} { return state{} },
		Step:           step,
		Hash:           hash,
		DescribeOperation: func(in, out interface{}) string {
			return describe(in.(Input), out.(Output))
		},
		DescribeState: func(s interface{}) string {
			st := s.(state)
			if !st.exists {
				return "<none>"
			}
			return fmt.Sprintf("%q", st.value)
		},
	}
}

func hash(s interface{}) uint64 {
	st := s.(state)
	h := maphash.String(hashSeed, st.value)
	if st.exists {
		h ^= 0x9e3779b97f4a7c15
	}
	return h
}

func step(s, in, out interface{}) (bool, interface{}) {
	st, i, o := s.(state), in.(Input), out.(Output)
	switch i.Op {
	case Read:
		if o.Unknown {
			return true, st
		}
		return o.Exists == st.exists && (!st.exists || o.Value == st.value), st
	case Write:
		return true, state{exists: true, value: i.Value}
	case CAS:
		match := st.exists && st.value == i.Expected
		if o.Unknown {
			if match {
				return true, state{exists: true, value: i.Value}
			}
			return true, st
		}
		if o.Ok {
			return match, state{exists: true, value: i.Value}
		}
		return !match, st
	}
	panic(fmt.Sprintf("register: unknown op kind %d", i.Op))
}

func describe(i Input, o Output) string {
	switch {
	case o.Unknown:
		return fmt.Sprintf("%s(%q, %q, %q) -> ?", i.Op, i.Key, i.Expected, i.Value)
	case i.Op == Read && !o.Exists:
		return fmt.Sprintf("read(%q) -> <none>", i.Key)
	case i.Op == Read:
		return fmt.Sprintf("read(%q) -> %q", i.Key, o.Value)
	case i.Op == Write:
		return fmt.Sprintf("write(%q, %q)", i.Key, i.Value)
	default:
		return fmt.Sprintf("cas(%q, %q, %q) -> %t", i.Key, i.Expected, i.Value, o.Ok)
	}
}

func partition(history []porcupine.Operation) [][]porcupine.Operation {
	idx := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		k := op.Input.(Input).Key
		i, ok := idx[k]
		if !ok {
			i = len(parts)
			idx[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func partitionEvent(history []porcupine.Event) [][]porcupine.Event {
	// Return events carry only the output; key them by their call's id.
	keyOf := map[int]string{}
	idx := map[string]int{}
	var parts [][]porcupine.Event
	for _, ev := range history {
		k, ok := keyOf[ev.Id]
		if !ok {
			k = ev.Value.(Input).Key
			keyOf[ev.Id] = k
		}
		i, ok := idx[k]
		if !ok {
			i = len(parts)
			idx[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], ev)
	}
	return parts
}
