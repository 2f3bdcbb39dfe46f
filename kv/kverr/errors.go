package kverr

import (
	"errors"
	"fmt"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// NotLeaseholderError says the replica that got a request does not hold the
// range's lease (is not the Raft leader). Leaseholder is a hint, maybe nil.
type NotLeaseholderError struct {
	RangeID     uint64
	Leaseholder *rpcpb.ReplicaDescriptor
}

func (e *NotLeaseholderError) Error() string {
	if e.Leaseholder == nil || e.Leaseholder.NodeId == 0 {
		return fmt.Sprintf("kv: range %d: not leaseholder, leaseholder unknown", e.RangeID)
	}
	return fmt.Sprintf("kv: range %d: not leaseholder, try node %d", e.RangeID, e.Leaseholder.NodeId)
}

// RangeKeyMismatchError says a request addressed keys outside the range that
// got it. Descriptors are the ones the node holds for the keys.
type RangeKeyMismatchError struct {
	RangeID     uint64
	Key         []byte
	Descriptors []*rpcpb.RangeDescriptor
}

func (e *RangeKeyMismatchError) Error() string {
	return fmt.Sprintf("kv: range %d does not hold key %s", e.RangeID, keys.Pretty(e.Key))
}

// RangeNotFoundError says the node has no replica of the range.
type RangeNotFoundError struct{ RangeID uint64 }

func (e *RangeNotFoundError) Error() string {
	return fmt.Sprintf("kv: range %d not found on this node", e.RangeID)
}

// AmbiguousError says a write may or may not have been applied.
type AmbiguousError struct{ Reason string }

func (e *AmbiguousError) Error() string { return "kv: result is ambiguous: " + e.Reason }

// TxnRetryError says a transaction must abort; it may run again.
type TxnRetryError struct{ Reason string }

func (e *TxnRetryError) Error() string { return "kv: transaction must retry: " + e.Reason }

// Retryable marks the error as a serialization failure (SQLSTATE 40001).
func (e *TxnRetryError) Retryable() bool { return true }

// LockTimeoutError says a lock wait exceeded the lock timeout.
type LockTimeoutError struct{ Key []byte }

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("kv: lock wait timeout on %s", keys.Pretty(e.Key))
}

// LockTimeout marks the error as SQLSTATE 55P03.
func (e *LockTimeoutError) LockTimeout() bool { return true }

// ResourceLimitError says a transaction exceeded a memory limit (for
// instance the pending writes one range holds for it).
type ResourceLimitError struct{ Msg string }

func (e *ResourceLimitError) Error() string { return "kv: " + e.Msg }

// ResourceLimit marks the error as SQLSTATE 53200.
func (e *ResourceLimitError) ResourceLimit() bool { return true }

// Ambiguous marks the outcome as unknown (SQLSTATE 40003).
func (e *AmbiguousError) Ambiguous() bool { return true }

// Sentinels.
var (
	// ErrBadRequest marks a malformed request.
	ErrBadRequest = errors.New("kv: bad request")
	// ErrNotInitialized says the node is not part of an initialised cluster.
	ErrNotInitialized = errors.New("kv: node not initialized")
	// ErrUnavailable says the request could not be served in time.
	ErrUnavailable = errors.New("kv: unavailable")
)

// BadRequestf returns an error wrapping ErrBadRequest.
func BadRequestf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

// IsAmbiguous reports whether err leaves the outcome of a write unknown.
func IsAmbiguous(err error) bool {
	var a *AmbiguousError
	return errors.As(err, &a)
}

// ToProto converts err to its wire form; nil stays nil.
func ToProto(err error) *rpcpb.Error {
	if err == nil {
		return nil
	}
	pe := &rpcpb.Error{Message: err.Error()}
	var (
		nl *NotLeaseholderError
		km *RangeKeyMismatchError
		nf *RangeNotFoundError
		am *AmbiguousError
	)
	switch {
	case errors.As(err, &nl):
		pe.Code, pe.RangeId, pe.Leaseholder = rpcpb.Error_NOT_LEASEHOLDER, nl.RangeID, nl.Leaseholder
	case errors.As(err, &km):
		pe.Code, pe.RangeId, pe.Descriptors = rpcpb.Error_RANGE_KEY_MISMATCH, km.RangeID, km.Descriptors
	case errors.As(err, &nf):
		pe.Code, pe.RangeId = rpcpb.Error_RANGE_NOT_FOUND, nf.RangeID
	case errors.As(err, &am):
		pe.Code, pe.Message = rpcpb.Error_AMBIGUOUS, am.Reason
	case errors.As(err, new(*TxnRetryError)):
		var tr *TxnRetryError
		errors.As(err, &tr)
		pe.Code, pe.Message = rpcpb.Error_TXN_RETRY, tr.Reason
	case errors.As(err, new(*LockTimeoutError)):
		var lt *LockTimeoutError
		errors.As(err, &lt)
		pe.Code, pe.Message = rpcpb.Error_LOCK_TIMEOUT, string(lt.Key)
	case errors.As(err, new(*ResourceLimitError)):
		var rl *ResourceLimitError
		errors.As(err, &rl)
		pe.Code, pe.Message = rpcpb.Error_RESOURCE_LIMIT, rl.Msg
	case errors.Is(err, ErrBadRequest):
		pe.Code = rpcpb.Error_BAD_REQUEST
	case errors.Is(err, ErrNotInitialized):
		pe.Code = rpcpb.Error_NOT_INITIALIZED
	case errors.Is(err, ErrUnavailable):
		pe.Code = rpcpb.Error_UNAVAILABLE
	}
	return pe
}

// FromProto converts a wire error back into its typed form; nil stays nil.
func FromProto(pe *rpcpb.Error) error {
	if pe == nil {
		return nil
	}
	switch pe.Code {
	case rpcpb.Error_NOT_LEASEHOLDER:
		return &NotLeaseholderError{RangeID: pe.RangeId, Leaseholder: pe.Leaseholder}
	case rpcpb.Error_RANGE_KEY_MISMATCH:
		return &RangeKeyMismatchError{RangeID: pe.RangeId, Descriptors: pe.Descriptors}
	case rpcpb.Error_RANGE_NOT_FOUND:
		return &RangeNotFoundError{RangeID: pe.RangeId}
	case rpcpb.Error_AMBIGUOUS:
		return &AmbiguousError{Reason: pe.Message}
	case rpcpb.Error_BAD_REQUEST:
		return fmt.Errorf("%w: %s", ErrBadRequest, pe.Message)
	case rpcpb.Error_TXN_RETRY:
		return &TxnRetryError{Reason: pe.Message}
	case rpcpb.Error_RESOURCE_LIMIT:
		return &ResourceLimitError{Msg: pe.Message}
	case rpcpb.Error_LOCK_TIMEOUT:
		return &LockTimeoutError{Key: []byte(pe.Message)}
	case rpcpb.Error_NOT_INITIALIZED:
		return fmt.Errorf("%w: %s", ErrNotInitialized, pe.Message)
	case rpcpb.Error_UNAVAILABLE:
		return fmt.Errorf("%w: %s", ErrUnavailable, pe.Message)
	}
	return errors.New(pe.Message)
}
