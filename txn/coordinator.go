package txn

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ordodb/ordo/kv"
	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// Transport sends a transactional request to the replica on node.
type Transport interface {
	SendTxn(ctx context.Context, node uint64, req *rpcpb.TxnRequest) (*rpcpb.TxnResponse, error)
}

// Config configures a Coordinator. Zero values are defaults.
type Config struct {
	// NodeID and Instance identify this coordinator to the leaseholders,
	// which ask it whether its idle transactions are alive.
	NodeID, Instance uint64
	Sender           *kv.DistSender
	Transport        Transport
	// LockTimeout bounds each lock wait (0: the leaseholder's default).
	LockTimeout time.Duration
	// LockTimeoutFunc, if set, is asked instead of LockTimeout at each
	// request (the cluster setting kv.lock_timeout, which may change).
	LockTimeoutFunc func() time.Duration
	// MaxAttempts bounds Run's retries (0: until the context ends).
	MaxAttempts int
	Logger      *slog.Logger
	// Metrics record transaction outcomes; nil records into a private,
	// unregistered set.
	Metrics *Metrics
	Knobs   TestingKnobs
}

// TestingKnobs let tests stop a coordinator at a point of the commit
// protocol as if its process died there.
type TestingKnobs struct {
	// CrashAfterPrepare, if it returns true, abandons the transaction after
	// every participant prepared and before the commit record.
	CrashAfterPrepare func(txnID uint64) bool
	// CrashAfterCommit, if it returns true, abandons the transaction after
	// the commit record, before any participant is resolved.
	CrashAfterCommit func(txnID uint64) bool
}

// Coordinator runs transactions from one gateway.
type Coordinator struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     struct {
		sync.Mutex
		active map[uint64]struct{}
	}
}

// New returns a coordinator; Close waits for its background resolution.
func New(cfg Config) *Coordinator {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Instance == 0 {
		cfg.Instance = rand.Uint64() | 1
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	c := &Coordinator{cfg: cfg}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.mu.active = map[uint64]struct{}{}
	return c
}

// Instance identifies this coordinator's process.
func (c *Coordinator) Instance() uint64 { return c.cfg.Instance }

// Close stops background resolution (participants finish it by recovery).
func (c *Coordinator) Close() {
	c.cancel()
	c.wg.Wait()
}

// Alive returns which of ids are transactions this coordinator is running,
// if instance is this process.
func (c *Coordinator) Alive(ids []uint64, instance uint64) []uint64 {
	if instance != c.cfg.Instance {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []uint64
	for _, id := range ids {
		if _, ok := c.mu.active[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// Priority orders transactions for wound-wait: older wins.
type Priority struct {
	Start    int64
	Tiebreak uint64
}

// NewPriority returns the priority of a transaction starting now.
func NewPriority() Priority {
	return Priority{Start: failpoint.Now().UnixNano(), Tiebreak: rand.Uint64()}
}

// Begin starts an interactive transaction with a fresh priority.
func (c *Coordinator) Begin() *Txn { return c.begin(NewPriority()) }

// BeginWithPriority starts the retry of an aborted attempt: it keeps the
// attempt's priority, so a retried transaction ages.
func (c *Coordinator) BeginWithPriority(p Priority) *Txn {
	c.cfg.Metrics.Retries.Inc()
	return c.begin(p)
}

func (c *Coordinator) begin(p Priority) *Txn {
	id := rand.Uint64() | 1
	c.mu.Lock()
	c.mu.active[id] = struct{}{}
	c.mu.Unlock()
	return &Txn{
		c:     c,
		prio:  p,
		meta:  &rpcpb.TxnMeta{Id: id, PriorityStart: p.Start, PriorityTiebreak: p.Tiebreak, CoordinatorNode: c.cfg.NodeID, CoordinatorInstance: c.cfg.Instance},
		parts: map[uint64]*participant{},
	}
}

func (c *Coordinator) finished(id uint64) {
	c.mu.Lock()
	delete(c.mu.active, id)
	c.mu.Unlock()
}

// Run runs fn in a transaction and commits it, retrying on retryable
// errors with the same priority until it commits, fails otherwise, or ctx
// ends.
func (c *Coordinator) Run(ctx context.Context, fn func(ctx context.Context, t *Txn) error) error {
	prio := NewPriority()
	backoff := time.Millisecond
	for attempt := 1; ; attempt++ {
		t := c.begin(prio)
		if attempt > 1 {
			c.cfg.Metrics.Retries.Inc()
		}
		err := fn(ctx, t)
		if err == nil {
			err = t.Commit(ctx)
		} else {
			t.Rollback(ctx)
		}
		if err == nil || !IsRetryable(err) || (c.cfg.MaxAttempts > 0 && attempt >= c.cfg.MaxAttempts) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(rand.Int64N(int64(backoff))) + time.Millisecond):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// IsRetryable reports whether err asks the transaction to run again.
func IsRetryable(err error) bool {
	var r *kverr.TxnRetryError
	return errors.As(err, &r)
}
