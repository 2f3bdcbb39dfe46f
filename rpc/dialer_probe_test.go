package rpc

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// blackhole forwards TCP connections to a backend until cut, then swallows
// every byte both ways (a paused peer, a partition that drops packets):
// the connections stay open and nothing answers.
type blackhole struct {
	ln  net.Listener
	cut atomic.Bool
	wg  sync.WaitGroup
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

// A peer that stops answering while its connection stays up: the request
// in flight fails once the probes go unanswered (not at its own 60 s
// deadline), Ready refuses the peer at once while it is suspect, and once
// the peer answers again Ready accepts it.
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
	c, err := d.Conn(addr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	callCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(c).Check(callCtx, &healthpb.HealthCheckRequest{})
	took := time.Since(start)
	if err == nil || callCtx.Err() != nil {
		t.Fatalf("a request to a silent peer ended after %s with %v (its own deadline: %v)", took, err, callCtx.Err())
	}
	t.Logf("the request in flight failed after %s: %v", took.Round(time.Millisecond), err)
	if err := d.Ready(ctx, addr, 5*time.Second); err == nil {
		t.Fatal("Ready accepted a suspect peer")
	}

	bh.cut.Store(false)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := d.Ready(ctx, addr, time.Second)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the peer answers again, yet Ready refuses it after 30 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
