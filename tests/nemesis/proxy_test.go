package nemesis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
)

// fakeCluster is n gRPC servers (no services: they answer HTTP/2 PINGs) on
// 127.0.2.(i+1), each behind a Proxy, as a Cluster without processes, so
// the probe checks of the nemeses run on it.
func fakeCluster(t *testing.T, n int) *Cluster {
	t.Helper()
	c := &Cluster{Net: NewNet(n)}
	sources := map[string]int{}
	for i := range n {
		ip := fmt.Sprintf("127.0.2.%d", i+1)
		sources[ip] = i
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			t.Fatalf("no loopback %s (the harness needs Linux's 127.0.0.0/8): %v", ip, err)
		}
		srv := grpc.NewServer()
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(srv.Stop)
		c.Nodes = append(c.Nodes, Node{IP: ip, Addr: ln.Addr().String()})
	}
	for i := range n {
		p, err := NewProxy(c.Net, i, c.Nodes[i].IP+":0", c.Nodes[i].Addr, sources, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		c.proxies = append(c.proxies, p)
		c.Nodes[i].Advertise = p.Addr()
	}
	return c
}

// Every shape cuts what it says: a probe along a pair with either direction
// cut gets no answer, every other pair answers, and after the heal all do.
func TestProxyPartitionShapes(t *testing.T) {
	for _, n := range []int{3, 5} {
		c := fakeCluster(t, n)
		rng := rand.New(rand.NewPCG(1, 2))
		for _, shape := range Shapes(n) {
			desc, grudge := ShapeOf(shape, rng.Perm(n))
			c.Net.Cut(grudge)
			cut := map[Pair]bool{}
			for _, p := range grudge {
				cut[p] = true
			}
			var probes []probe
			for a := range n {
				for b := range n {
					if a != b {
						probes = append(probes, probe{Pair{a, b}, !cut[Pair{a, b}] && !cut[Pair{b, a}]})
					}
				}
			}
			if err := runProbes(context.Background(), c, probes); err != nil {
				t.Fatalf("%d nodes, %s: %v", n, desc, err)
			}
			c.Net.Heal()
			if err := checkAllLinks(context.Background(), c); err != nil {
				t.Fatalf("%d nodes, after healing %s: %v", n, desc, err)
			}
		}
		for i, p := range c.proxies {
			if p.Foreign.Load() != 0 || p.Peer.Load() == 0 {
				t.Errorf("proxy of n%d: %d foreign, %d peer connections", i+1, p.Foreign.Load(), p.Peer.Load())
			}
		}
	}
}

func shapeOf(desc string) string { s, _, _ := strings.Cut(desc, ":"); return s }

// A one-way cut drops what its source sends and delivers what it receives,
// on the same connection; the healed connection, which lost bytes, is
// closed.
func TestProxyOneWay(t *testing.T) {
	nt := NewNet(2)
	back, err := net.Listen("tcp", "127.0.2.2:0")
	if err != nil {
		t.Fatalf("no loopback 127.0.2.2 (the harness needs Linux's 127.0.0.0/8): %v", err)
	}
	defer back.Close()
	sources := map[string]int{"127.0.2.1": 0, "127.0.2.2": 1}
	p, err := NewProxy(nt, 1, "127.0.2.2:0", back.Addr().String(), sources, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.2.1")}, Timeout: time.Second}
	client, err := d.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := back.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	exchange(t, client, server, "healthy up", true)
	exchange(t, server, client, "healthy down", true)
	nt.Cut([]Pair{{0, 1}})
	exchange(t, client, server, "cut up", false)
	exchange(t, server, client, "down beside a cut up", true)
	if p.Dropped.Load() == 0 {
		t.Error("no bytes counted as dropped")
	}
	nt.Heal()
	_ = client.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("the healed connection that lost bytes: read %v, want EOF", err)
	}
}

// exchange writes msg on w and checks whether r receives it within 300 ms.
func exchange(t *testing.T, w, r net.Conn, msg string, want bool) {
	t.Helper()
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatalf("%s: write: %v", msg, err)
	}
	buf := make([]byte, len(msg))
	_ = r.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, err := io.ReadFull(r, buf)
	switch {
	case want && (err != nil || string(buf) != msg):
		t.Fatalf("%s: read %q, %v", msg, buf, err)
	case !want && err == nil:
		t.Fatalf("%s: delivered across the cut", msg)
	}
}

// A delayed link holds a round trip at least twice its delay; a lossy one
// stalls lost chunks and counts them.
func TestProxyDelayAndLoss(t *testing.T) {
	c := fakeCluster(t, 2)
	ctx := context.Background()
	rtt := func() time.Duration {
		start := time.Now()
		if err := c.Probe(ctx, 0, 1, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	c.Net.Set(map[Pair]Link{{0, 1}: {Delay: 100 * time.Millisecond}, {1, 0}: {Delay: 100 * time.Millisecond}})
	if d := rtt(); d < 200*time.Millisecond {
		t.Errorf("round trip with 100 ms each way took %s", d)
	}
	c.Net.Set(map[Pair]Link{{0, 1}: {Loss: 1}, {1, 0}: {}})
	if d := rtt(); d < LossStall {
		t.Errorf("round trip with every chunk lost took %s", d)
	}
	if c.lost() == 0 {
		t.Error("no chunk counted as lost")
	}
	c.Net.Heal()
	if d := rtt(); d > 100*time.Millisecond {
		t.Errorf("healed round trip took %s", d)
	}
}

// Shape's grudges: one and majority cut a group off both ways, bridge
// leaves one node seeing all, asymmetric is one-way.
func TestShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		n := 3 + rng.IntN(3)
		desc, grudge := Shape(n, rng)
		cut := map[Pair]bool{}
		for _, p := range grudge {
			if p.From == p.To || p.From < 0 || p.To >= n || cut[p] {
				t.Fatalf("%s: bad pair %v in %v", desc, p, grudge)
			}
			cut[p] = true
		}
		twoWay := true
		for p := range cut {
			twoWay = twoWay && cut[Pair{p.To, p.From}]
		}
		switch shape := shapeOf(desc); shape {
		case "one":
			if len(grudge) != 2*(n-1) || !twoWay {
				t.Fatalf("%d nodes, %s: %v", n, desc, grudge)
			}
		case "asymmetric":
			if len(grudge) != n-1 || twoWay {
				t.Fatalf("%d nodes, %s: %v", n, desc, grudge)
			}
		case "bridge":
			a := (n - 1) / 2
			if len(grudge) != 2*a*(n-1-a) || !twoWay {
				t.Fatalf("%d nodes, %s: %v", n, desc, grudge)
			}
		case "majority":
			m := (n - 1) / 2
			if n < 5 || len(grudge) != 2*m*(n-m) || !twoWay {
				t.Fatalf("%d nodes, %s: %v", n, desc, grudge)
			}
		default:
			t.Fatalf("unknown shape %q", shape)
		}
	}
}
