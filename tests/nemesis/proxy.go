package nemesis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards the TCP connections made to one node (Dst) to the node's
// real listener, applying the faults of the links between the connecting
// node and Dst. It tells the connecting node by the connection's source IP
// (each node dials its peers from its own loopback IP: ordo start
// --peer-source-ip); a connection from any other IP (a client, the harness)
// is never faulted and is counted in Foreign.
type Proxy struct {
	Dst     int
	backend string
	ln      net.Listener
	net     *Net
	sources map[string]int
	// foreignAs, if not -1, is the source index of every connection from
	// an IP not in sources (a SQL-port proxy: Net.Clients()).
	foreignAs int
	wg        sync.WaitGroup

	// Peer counts connections from nodes' IPs, Foreign those from any other
	// IP; Dropped the bytes cut links dropped; Lost the chunks held as lost.
	Peer, Foreign, Dropped, Lost atomic.Int64

	mu struct {
		sync.Mutex
		conns  map[*pconn]struct{}
		rng    *rand.Rand
		closed bool
	}
}

// pconn is one proxied connection.
type pconn struct {
	src            int
	client, server net.Conn
	// tainted[dir] is set once a cut dropped some of the bytes flowing in
	// direction dir (0: client → node, 1: node → client): that stream is
	// broken, and the connection is closed when the link heals. The other
	// direction flows on meanwhile (a one-way cut).
	tainted [2]atomic.Bool
	once    sync.Once
	done    chan struct{}
}

func (c *pconn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.client.Close()
		_ = c.server.Close()
	})
}

// NewProxy listens on listen for connections to node dst, whose real
// listener is backend. sources maps node IPs to node indexes.
func NewProxy(nt *Net, dst int, listen, backend string, sources map[string]int, seed uint64) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("nemesis: proxy for n%d: %w", dst+1, err)
	}
	p := &Proxy{Dst: dst, backend: backend, ln: ln, net: nt, sources: sources, foreignAs: -1}
	p.mu.conns = map[*pconn]struct{}{}
	p.mu.rng = rand.New(rand.NewPCG(seed, uint64(dst)))
	nt.register(p)
	p.wg.Go(p.accept)
	return p, nil
}

// NewClientProxy listens on listen for SQL clients of node dst, whose real
// SQL listener is backend: every connection is faulted as coming from
// Net.Clients(), so that all-ports partitions reach clients too.
func NewClientProxy(nt *Net, dst int, listen, backend string, seed uint64) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("nemesis: SQL proxy for n%d: %w", dst+1, err)
	}
	p := &Proxy{Dst: dst, backend: backend, ln: ln, net: nt, sources: map[string]int{}, foreignAs: nt.Clients()}
	p.mu.conns = map[*pconn]struct{}{}
	p.mu.rng = rand.New(rand.NewPCG(seed, uint64(1000+dst)))
	nt.register(p)
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the proxy's address: the node's advertised address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.mu.closed = true
	conns := p.mu.conns
	p.mu.conns = map[*pconn]struct{}{}
	p.mu.Unlock()
	_ = p.ln.Close()
	for c := range conns {
		c.close()
	}
	p.wg.Wait()
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		src := -1
		if a, ok := client.RemoteAddr().(*net.TCPAddr); ok {
			if i, ok := p.sources[a.IP.String()]; ok {
				src = i
			}
		}
		if src < 0 {
			p.Foreign.Add(1)
			src = p.foreignAs
		} else {
			p.Peer.Add(1)
		}
		p.wg.Go(func() { p.serve(client, src) })
	}
}

// serve connects client (from node src) to the backend and pumps both
// directions until either side closes.
func (p *Proxy) serve(client net.Conn, src int) {
	server, err := net.DialTimeout("tcp", p.backend, 2*time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	c := &pconn{src: src, client: client, server: server, done: make(chan struct{})}
	if !p.add(c) {
		c.close()
		return
	}
	defer p.remove(c)
	var wg sync.WaitGroup
	wg.Go(func() { p.pump(c, 0, Pair{src, p.Dst}, client, server) })
	wg.Go(func() { p.pump(c, 1, Pair{p.Dst, src}, server, client) })
	wg.Wait()
}

func (p *Proxy) add(c *pconn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		return false
	}
	p.mu.conns[c] = struct{}{}
	return true
}

func (p *Proxy) remove(c *pconn) {
	c.close()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.mu.conns, c)
}

// closeHealed closes the tainted connections whose links are no longer
// cut: their streams lost bytes, so the nodes must reconnect.
func (p *Proxy) closeHealed() {
	p.mu.Lock()
	var heal []*pconn
	for c := range p.mu.conns {
		if (c.tainted[0].Load() && !p.net.link(c.src, p.Dst).Cut) || (c.tainted[1].Load() && !p.net.link(p.Dst, c.src).Cut) {
			heal = append(heal, c)
		}
	}
	p.mu.Unlock()
	for _, c := range heal {
		c.close()
	}
}

// chunk is bytes read from one side, to be written at at.
type chunk struct {
	b  []byte
	at time.Time
}

// pump copies r to w, the bytes of c's direction dir on link l, applying
// its faults. The reader never waits for the delay: a writer goroutine
// releases chunks in order at their times.
func (p *Proxy) pump(c *pconn, dir int, l Pair, r io.Reader, w io.Writer) {
	q := make(chan chunk, 1024)
	var wg sync.WaitGroup
	wg.Go(func() { p.release(c, q, w) })
	defer wg.Wait()
	defer close(q)
	var last time.Time
	for {
		buf := make([]byte, 16<<10)
		n, err := r.Read(buf)
		if n > 0 && !p.forward(c, dir, l, buf[:n], &last, q) {
			c.close()
			return
		}
		if err != nil {
			c.close()
			return
		}
	}
}

// forward queues (or drops) one chunk; false if the connection must close.
func (p *Proxy) forward(c *pconn, dir int, pair Pair, b []byte, last *time.Time, q chan<- chunk) bool {
	l := p.net.link(pair.From, pair.To)
	if l.Cut {
		c.tainted[dir].Store(true)
		p.Dropped.Add(int64(len(b)))
		return true
	}
	if c.tainted[dir].Load() {
		return false // the stream lost bytes: never deliver its rest
	}
	at := time.Now().Add(p.hold(l))
	if at.Before(*last) {
		at = *last
	}
	*last = at
	select {
	case q <- chunk{b, at}:
		return true
	case <-c.done:
		return false
	}
}

// hold is how long a chunk on link l waits: its delay, jitter and loss.
func (p *Proxy) hold(l Link) time.Duration {
	if l.Delay == 0 && l.Jitter == 0 && l.Loss == 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := l.Delay
	if l.Jitter > 0 {
		d += time.Duration(p.mu.rng.Int64N(int64(2*l.Jitter)+1)) - l.Jitter
	}
	if l.Loss > 0 && p.mu.rng.Float64() < l.Loss {
		p.Lost.Add(1)
		d += LossStall
	}
	return max(d, 0)
}

// release writes chunks to w at their times until q is closed or the
// connection is.
func (p *Proxy) release(c *pconn, q <-chan chunk, w io.Writer) {
	t := time.NewTimer(0)
	defer t.Stop()
	for ch := range q {
		if d := time.Until(ch.at); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-c.done:
				return
			}
		}
		if _, err := w.Write(ch.b); err != nil {
			c.close()
			return
		}
	}
}

// http2Hello is a gRPC client's first bytes, the HTTP/2 connection preface
// and an empty SETTINGS frame, followed by a PING carrying pingData. A gRPC
// server writes its own SETTINGS before reading anything, so only the PING
// ACK proves that bytes went both ways.
var http2Hello = append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"+
	"\x00\x00\x00\x04\x00\x00\x00\x00\x00"+
	"\x00\x00\x08\x06\x00\x00\x00\x00\x00"), pingData[:]...)

var pingData = [8]byte{'n', 'e', 'm', 'e', 's', 'i', 's', '!'}

// errNoAnswer is a probe that got no answer in time.
var errNoAnswer = errors.New("nemesis: probe: no answer")

// Probe checks a round trip to the gRPC server behind addr from the local
// IP source (the IP a node dials its peers from, or "" for any): it sends
// the HTTP/2 preface and a PING and waits up to timeout for the PING ACK.
func Probe(ctx context.Context, source, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := net.Dialer{}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("nemesis: probe %s from %s: %w", addr, source, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write(http2Hello); err != nil {
		return fmt.Errorf("nemesis: probe %s from %s: %w", addr, source, err)
	}
	if err := awaitPingAck(conn); err != nil {
		return fmt.Errorf("%w from %s at %s in %s (%v)", errNoAnswer, addr, source, timeout, err)
	}
	return nil
}

// awaitPingAck reads HTTP/2 frames until the ACK of our PING.
func awaitPingAck(r io.Reader) error {
	var hdr [9]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return err
		}
		if hdr[3] == 0x6 && hdr[4]&0x1 != 0 && string(payload) == string(pingData[:]) {
			return nil
		}
	}
}

// ProbeSQL checks that the Postgres port at addr answers: it sends an
// SSLRequest and waits for the one-byte answer ('S' or 'N').
func ProbeSQL(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("nemesis: SQL probe %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		return fmt.Errorf("nemesis: SQL probe %s: %w", addr, err)
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		return fmt.Errorf("%w from the SQL port %s in %s (%v)", errNoAnswer, addr, timeout, err)
	}
	return nil
}
