package rpc

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// MaxMessageBytes bounds one gRPC message (snapshots travel inline).
const MaxMessageBytes = 256 << 20

// Dialer keeps one client connection per address, and probes each: a
// connection that is up but whose peer stops answering — a paused process,
// a partition that blackholes packets, a host gone without a reset — would
// otherwise take every request sent on it, each held until its own
// deadline, since nothing tells the sender to look elsewhere. A peer that
// leaves probeFailures probes in a row unanswered for probeTimeout each is
// suspect: Ready refuses it at once (so routing tries the next replica,
// which names the new leaseholder) until a probe is answered again. The
// connection itself is left alone: the requests already on it end at their
// deadlines, and a peer only slow to answer (a starved process) loses
// nothing but new requests for a few seconds — closing it would tear down
// its Raft streams too.
type Dialer struct {
	// source, if set, is the local IP outgoing connections are bound to.
	source net.IP
	stop   chan struct{}
	mu     struct {
		sync.Mutex
		conns   map[string]*grpc.ClientConn
		suspect map[string]error
		probing map[string]bool
		closed  bool
	}
}

// Probing of connections (see Dialer). Any answer to a probe, an error
// included, proves the peer alive; only silence counts.
const (
	probeInterval = time.Second
	probeTimeout  = 2 * time.Second
	probeFailures = 2
)

// NewDialer returns an empty pool.
func NewDialer() *Dialer {
	d := &Dialer{stop: make(chan struct{})}
	d.mu.conns = map[string]*grpc.ClientConn{}
	d.mu.suspect = map[string]error{}
	d.mu.probing = map[string]bool{}
	return d
}

// NewDialerFrom returns an empty pool whose connections leave from the
// local IP sourceIP ("" is any address), so that a fault-injection proxy can
// tell nodes apart by their source address (ordo start --peer-source-ip).
func NewDialerFrom(sourceIP string) *Dialer {
	d := NewDialer()
	d.source = net.ParseIP(sourceIP)
	return d
}

// dialOptions are DialOptions, bound to d's source IP if it has one.
func (d *Dialer) dialOptions() []grpc.DialOption {
	opts := DialOptions()
	if d.source == nil {
		return opts
	}
	nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: d.source}}
	return append(opts, grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
		return nd.DialContext(ctx, "tcp", addr)
	}))
}

// DialOptions are the options every ordo client connection uses.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		}),
	}
}

// streamWorkers is the number of goroutines a server keeps to run its
// handlers on; a request finding none idle gets a new goroutine, as without
// workers. Reused goroutines keep their grown stacks, so a request does not
// pay for growing a fresh 8 KiB stack through gRPC, Raft and Pebble.
const streamWorkers = 32

// ServerOptions are the options every ordo gRPC server uses.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.NumStreamWorkers(streamWorkers),
	}
}

// Conn returns the connection to addr, creating it lazily.
func (d *Dialer) Conn(addr string) (*grpc.ClientConn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mu.closed {
		return nil, fmt.Errorf("rpc: dialer closed")
	}
	if c, ok := d.mu.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, d.dialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial %s: %w", addr, err)
	}
	d.mu.conns[addr] = c
	if !d.mu.probing[addr] {
		d.mu.probing[addr] = true
		go d.probe(addr)
	}
	return c, nil
}

// probe checks the connection to addr every probeInterval while it is up
// (one that is not up is Ready's to wait for), until the dialer closes.
func (d *Dialer) probe(addr string) {
	t := time.NewTicker(probeInterval)
	defer t.Stop()
	fails := 0
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
		}
		c, err := d.Conn(addr)
		if err != nil {
			return // closed
		}
		if st := c.GetState(); st != connectivity.Ready {
			if st == connectivity.Idle && d.isSuspect(addr) {
				c.Connect()
			}
			fails = 0
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		_, err = healthpb.NewHealthClient(c).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if code := status.Code(err); code != codes.DeadlineExceeded && code != codes.Canceled {
			fails = 0
			d.setSuspect(addr, nil)
			continue
		}
		if fails++; fails >= probeFailures {
			d.setSuspect(addr, fmt.Errorf("rpc: %s does not answer (%d probes of %s unanswered)", addr, fails, probeTimeout))
		}
	}
}

// setSuspect marks addr suspect with err, or clears the mark if err is nil.
func (d *Dialer) setSuspect(addr string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		delete(d.mu.suspect, addr)
		return
	}
	d.mu.suspect[addr] = err
}

func (d *Dialer) isSuspect(addr string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mu.suspect[addr] != nil
}

// Client returns a Node client for addr.
func (d *Dialer) Client(addr string) (rpcpb.NodeClient, error) {
	c, err := d.Conn(addr)
	if err != nil {
		return nil, err
	}
	return rpcpb.NewNodeClient(c), nil
}

// Ready waits up to timeout for the connection to addr to be established.
// A request sent on a connection that was never ready cannot have been
// delivered, so a client may safely try elsewhere.
func (d *Dialer) Ready(ctx context.Context, addr string, timeout time.Duration) error {
	c, err := d.Conn(addr)
	if err != nil {
		return err
	}
	d.mu.Lock()
	err = d.mu.suspect[addr]
	d.mu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		st := c.GetState()
		if st == connectivity.Ready {
			return nil
		}
		if st == connectivity.Idle {
			c.Connect()
		}
		if !c.WaitForStateChange(ctx, st) {
			return fmt.Errorf("rpc: %s not reachable (%v)", addr, st)
		}
	}
}

// Close closes every connection.
func (d *Dialer) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.mu.closed {
		close(d.stop)
	}
	d.mu.closed = true
	for _, c := range d.mu.conns {
		_ = c.Close()
	}
	d.mu.conns = nil
}
