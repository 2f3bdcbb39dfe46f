package rpc

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/ordodb/ordo/tests/testutil"
)

// blackhole forwards TCP connections to a backend until cut, then swallows
// every byte both ways (a paused peer, a partition that drops packets):
// the connections stay open and nothing answers.
type blackhole struct {
	ln  net.Listener
	cut atomic.Bool
	wg  sync.WaitGroup
	mu  sync.Mutex
	// conns are the piped connections: heal closes them, as a stalled
	// TCP connection whose bytes were lost would time out.
	conns []net.Conn
}

// heal stops swallowing and closes the connections that lost bytes.
func (b *blackhole) heal() {
	b.cut.Store(false)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.conns = nil
}

func newBlackhole(t *testing.T, backend string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", backend)
			if err != nil {
				_ = c.Close()
				continue
			}
			b.mu.Lock()
			b.conns = append(b.conns, c, s)
			b.mu.Unlock()
			b.wg.Add(2)
			go b.pipe(c, s)
			go b.pipe(s, c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return b
}

func (b *blackhole) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !b.cut.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			_ = dst.Close()
			return
		}
	}
}

// A peer that stops answering while its connection stays up: once the
// probes go unanswered, Ready refuses it at once (a caller moves on to
// another replica instead of waiting on it); once it answers again, Ready
// accepts it.
func TestDialerSuspectsSilentPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	bh := newBlackhole(t, ln.Addr().String())
	addr := bh.ln.Addr().String()

	d := NewDialer()
	defer d.Close()
	ctx := context.Background()
	if err := d.Ready(ctx, addr, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	bh.cut.Store(true)
	start := time.Now()
	testutil.SucceedsWithin(t, 30*time.Second, func() error {
		if !d.isSuspect(addr) {
			return errors.New("a silent peer is not suspect")
		}
		return nil
	})
	t.Logf("suspect after %s", time.Since(start).Round(time.Millisecond))
	// Refused for being suspect, not after waiting for a connection that
	// claims to be up.
	if err := d.Ready(ctx, addr, 5*time.Second); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("Ready of a suspect peer: %v", err)
	}

	bh.heal()
	testutil.SucceedsWithin(t, 30*time.Second, func() error { return d.Ready(ctx, addr, time.Second) })
}
