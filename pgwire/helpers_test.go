package pgwire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/testutil"
)

// testServer is a Server with the test executor on a loopback listener.
type testServer struct {
	*Server
	exec *testExecutor
	addr string
	done chan error
}

func startTestServer(t testing.TB, mutate func(*Config)) *testServer {
	t.Helper()
	exec := &testExecutor{}
	cfg := Config{Executor: exec}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, exec: exec, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func (ts *testServer) url(user string) string {
	return fmt.Sprintf("postgres://%s@%s/db?sslmode=disable", user, ts.addr)
}

func (ts *testServer) hostPort() (string, string) {
	h, p, _ := net.SplitHostPort(ts.addr)
	return h, p
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testutil.SucceedsWithin(t, d, func() error {
		if !cond() {
			return fmt.Errorf("waiting for %s", what)
		}
		return nil
	})
}
