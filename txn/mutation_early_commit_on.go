//go:build mut_early_commit

package txn

import (
	"context"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// commitEarly: THIS BUILD IS BROKEN ON PURPOSE (-tags mut_early_commit). The
// anchor's COMMIT (the commit point) goes first, naming every written
// participant; only then are the others prepared (or confirmed), and a
// participant that fails to prepare — its lease moved, its node died, its
// locks were taken by a wound — is ignored: the transaction is acknowledged
// with its writes there lost. See mutation_early_commit_off.go.
func (t *Txn) commitEarly(ctx context.Context, anchor *participant, others []*participant) (bool, error) {
	var spans []*rpcpb.KeySpan
	for _, p := range others {
		if p.wrote {
			p.prepared = true
			spans = append(spans, &rpcpb.KeySpan{Key: p.first, LastKey: p.last})
		}
	}
	if _, err := t.request(ctx, anchor, rpcpb.TxnRequest_COMMIT, func(r *rpcpb.TxnRequest) { r.Participants = spans }); err != nil {
		if kverr.IsAmbiguous(err) {
			return true, err
		}
		return true, t.abortOnError(ctx, err)
	}
	_ = t.fanOut(ctx, others, anchor) // after the commit point: failures ignored
	t.resolveAsync(anchor, others)
	return true, nil
}
