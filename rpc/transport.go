package rpc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

// TransportConfig configures a RaftTransport.
type TransportConfig struct {
	NodeID uint64
	Dialer *Dialer
	// Resolve maps a node id to its address.
	Resolve func(nodeID uint64) (string, bool)
	// OnUnreachable is told when messages to a node could not be sent.
	OnUnreachable func(nodeID uint64)
	// Drop, if set, drops messages for which it returns true (fault injection).
	Drop   func(from, to uint64) bool
	Logger *slog.Logger
}

// queueLen bounds the messages waiting for one peer; beyond it they are
// dropped and Raft retransmits.
const queueLen = 4096

// maxBatch bounds the messages sent in one stream message.
const maxBatch = 256

// RaftTransport sends Raft messages: one queue and one stream per peer node.
type RaftTransport struct {
	cfg    TransportConfig
	nodeID atomic.Uint64
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     struct {
		sync.Mutex
		queues map[uint64]chan *rpcpb.RaftMessage
	}
}

// NewRaftTransport returns a transport; Close stops its goroutines.
func NewRaftTransport(cfg TransportConfig) *RaftTransport {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &RaftTransport{cfg: cfg}
	t.nodeID.Store(cfg.NodeID)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.mu.queues = map[uint64]chan *rpcpb.RaftMessage{}
	return t
}

// Send queues m for its destination node; it never blocks.
func (t *RaftTransport) Send(m *rpcpb.RaftMessage) bool {
	to := m.To.NodeId
	if t.cfg.Drop != nil && t.cfg.Drop(t.nodeID.Load(), to) {
		return false
	}
	q := t.queue(to)
	if q == nil {
		return false
	}
	select {
	case q <- m:
		return true
	default:
		return false
	}
}

func (t *RaftTransport) queue(to uint64) chan *rpcpb.RaftMessage {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx.Err() != nil {
		return nil
	}
	q, ok := t.mu.queues[to]
	if !ok {
		q = make(chan *rpcpb.RaftMessage, queueLen)
		t.mu.queues[to] = q
		t.wg.Add(1)
		go t.run(to, q)
	}
	return q
}

// run keeps a stream to node to open and drains its queue into it.
func (t *RaftTransport) run(to uint64, q chan *rpcpb.RaftMessage) {
	defer t.wg.Done()
	backoff := 50 * time.Millisecond
	for t.ctx.Err() == nil {
		if err := t.stream(to, q); err != nil && t.ctx.Err() == nil {
			t.cfg.Logger.Debug("raft stream failed", "to", to, "err", err)
			if t.cfg.OnUnreachable != nil {
				t.cfg.OnUnreachable(to)
			}
			drain(q)
			select {
			case <-t.ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
	}
}

func drain(q chan *rpcpb.RaftMessage) {
	for {
		select {
		case <-q:
		default:
			return
		}
	}
}

func (t *RaftTransport) stream(to uint64, q chan *rpcpb.RaftMessage) error {
	addr, ok := t.cfg.Resolve(to)
	if !ok {
		return errUnknownNode
	}
	client, err := t.cfg.Dialer.Client(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(t.ctx)
	defer cancel()
	s, err := client.RaftStream(ctx)
	if err != nil {
		return err
	}
	for {
		var first *rpcpb.RaftMessage
		select {
		case <-t.ctx.Done():
			return nil
		case first = <-q:
		}
		batch := &rpcpb.RaftMessageBatch{FromNode: t.nodeID.Load(), Messages: []*rpcpb.RaftMessage{first}}
	fill:
		for len(batch.Messages) < maxBatch {
			select {
			case m := <-q:
				batch.Messages = append(batch.Messages, m)
			default:
				break fill
			}
		}
		if t.cfg.Drop != nil && t.cfg.Drop(t.nodeID.Load(), to) {
			continue
		}
		if err := s.Send(batch); err != nil {
			return err
		}
	}
}

type transportError string

func (e transportError) Error() string { return string(e) }

const errUnknownNode = transportError("rpc: node address unknown")

// SetNodeID sets the sending node's id once it is known.
func (t *RaftTransport) SetNodeID(id uint64) { t.nodeID.Store(id) }

// Close stops every stream.
func (t *RaftTransport) Close() {
	t.mu.Lock()
	t.cancel()
	t.mu.Unlock()
	t.wg.Wait()
}

// SendSnapshot opens a snapshot stream to node to and runs stream with a
// function that sends one chunk; it returns the receiver's answer. A
// receiver that refuses the snapshot answers before the stream ends: the
// sender's next send fails and the answer says why.
func (t *RaftTransport) SendSnapshot(ctx context.Context, to uint64, stream func(send func(*rpcpb.SnapshotChunk) error) error) (*rpcpb.SnapshotResponse, error) {
	if t.cfg.Drop != nil && t.cfg.Drop(t.nodeID.Load(), to) {
		return nil, transportError("rpc: snapshot dropped by a test")
	}
	addr, ok := t.cfg.Resolve(to)
	if !ok {
		return nil, errUnknownNode
	}
	conn, err := t.cfg.Dialer.Conn(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := rpcpb.NewSnapshotsClient(conn).RaftSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	err = stream(func(c *rpcpb.SnapshotChunk) error {
		if t.cfg.Drop != nil && t.cfg.Drop(t.nodeID.Load(), to) {
			return transportError("rpc: snapshot dropped by a test")
		}
		return s.Send(c)
	})
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return s.CloseAndRecv()
}
