package kverr

import (
	"errors"
	"testing"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		err   error
		check func(error) bool
	}{
		{&NotLeaseholderError{RangeID: 3, Leaseholder: &rpcpb.ReplicaDescriptor{NodeId: 2}}, func(e error) bool {
			var nl *NotLeaseholderError
			return errors.As(e, &nl) && nl.RangeID == 3 && nl.Leaseholder.NodeId == 2
		}},
		{&RangeKeyMismatchError{RangeID: 4, Descriptors: []*rpcpb.RangeDescriptor{{RangeId: 5}}}, func(e error) bool {
			var km *RangeKeyMismatchError
			return errors.As(e, &km) && km.RangeID == 4 && km.Descriptors[0].RangeId == 5
		}},
		{&RangeNotFoundError{RangeID: 7}, func(e error) bool {
			var nf *RangeNotFoundError
			return errors.As(e, &nf) && nf.RangeID == 7
		}},
		{&AmbiguousError{Reason: "leader lost"}, IsAmbiguous},
		{BadRequestf("key %q", "x"), func(e error) bool { return errors.Is(e, ErrBadRequest) }},
		{&TxnRetryError{Reason: "wounded"}, func(e error) bool {
			var r *TxnRetryError
			return errors.As(e, &r) && r.Retryable()
		}},
		{&LockTimeoutError{Key: []byte("k")}, func(e error) bool {
			var l *LockTimeoutError
			return errors.As(e, &l) && string(l.Key) == "k"
		}},
		{&ResourceLimitError{Msg: "too big"}, func(e error) bool {
			var r *ResourceLimitError
			return errors.As(e, &r) && r.Msg == "too big"
		}},
		{ErrNotInitialized, func(e error) bool { return errors.Is(e, ErrNotInitialized) }},
		{ErrUnavailable, func(e error) bool { return errors.Is(e, ErrUnavailable) }},
	}
	for _, tc := range tests {
		got := FromProto(ToProto(tc.err))
		if !tc.check(got) {
			t.Errorf("%v: round trip gave %v", tc.err, got)
		}
	}
	if ToProto(nil) != nil || FromProto(nil) != nil {
		t.Error("nil must stay nil")
	}
}
