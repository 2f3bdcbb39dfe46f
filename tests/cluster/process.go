package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
	"google.golang.org/grpc"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds bin/ordo once per test process and returns its path.
func Binary(t testing.TB) string {
	build.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "ordo-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "ordo")
		cmd := exec.Command("go", "build", "-o", build.path, "./cmd/ordo")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// Processes is a cluster of real ordo processes on loopback.
type Processes struct {
	t      testing.TB
	bin    string
	Addrs  []string
	Dirs   []string
	mu     sync.Mutex
	cmds   []*exec.Cmd
	dialer *rpc.Dialer
	// SQLAddrs, if set, are the processes' SQL addresses (--sql-addr).
	SQLAddrs []string
	// ExtraArgs are added to every later Start's `ordo start`.
	ExtraArgs []string
}

// StartProcesses starts n ordo processes that join each other and runs
// init against the first.
func StartProcesses(t testing.TB, n int) *Processes {
	return startProcesses(t, n, false)
}

func startProcesses(t testing.TB, n int, sql bool) *Processes {
	p := &Processes{t: t, bin: Binary(t), dialer: rpc.NewDialer()}
	root := t.TempDir()
	for i := 0; i < n; i++ {
		p.Addrs = append(p.Addrs, FreeAddr(t))
		if sql {
			p.SQLAddrs = append(p.SQLAddrs, FreeAddr(t))
		}
		p.Dirs = append(p.Dirs, filepath.Join(root, fmt.Sprintf("n%d", i+1)))
	}
	p.cmds = make([]*exec.Cmd, n)
	t.Cleanup(p.Stop)
	for i := 0; i < n; i++ {
		p.Start(i)
	}
	out, err := exec.Command(p.bin, "init", "--host", p.Addrs[0], "--timeout", "60s").CombinedOutput()
	if err != nil {
		t.Fatalf("ordo init: %v\n%s", err, out)
	}
	for i := 0; i < n; i++ {
		p.WaitHealthy(i)
	}
	return p
}

// Start starts (or restarts) process i on its store.
func (p *Processes) Start(i int) {
	if err := os.MkdirAll(p.Dirs[i], 0o755); err != nil {
		p.t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(p.Dirs[i], "stderr.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	args := []string{"start", "--store", p.Dirs[i], "--listen-addr", p.Addrs[i],
		"--join", strings.Join(p.Addrs, ","), "--log-level", nodeLogLevel()}
	if i < len(p.SQLAddrs) {
		args = append(args, "--sql-addr", p.SQLAddrs[i])
	}
	args = append(args, p.ExtraArgs...)
	cmd := exec.Command(p.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); _ = logf.Close() }()
	p.mu.Lock()
	p.cmds[i] = cmd
	p.mu.Unlock()
}

// Kill sends SIGKILL to process i and waits for it to die.
func (p *Processes) Kill(i int) {
	p.signal(i, syscall.SIGKILL)
}

func (p *Processes) signal(i int, sig syscall.Signal) {
	p.mu.Lock()
	cmd := p.cmds[i]
	p.cmds[i] = nil
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	testutil.SucceedsWithin(p.t, 20*time.Second, func() error {
		if err := cmd.Process.Signal(syscall.Signal(0)); err == nil {
			return fmt.Errorf("process %d still running", cmd.Process.Pid)
		}
		return nil
	})
}

// Stop stops every process (SIGTERM, then SIGKILL).
func (p *Processes) Stop() {
	for i := range p.cmds {
		p.mu.Lock()
		cmd := p.cmds[i]
		p.mu.Unlock()
		if cmd != nil && cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for i := range p.cmds {
		p.mu.Lock()
		cmd := p.cmds[i]
		p.cmds[i] = nil
		p.mu.Unlock()
		if cmd == nil {
			continue
		}
		if err := testutil.Retry(10*time.Second, func() error {
			if cmd.Process.Signal(syscall.Signal(0)) == nil {
				return fmt.Errorf("running")
			}
			return nil
		}); err != nil {
			_ = cmd.Process.Kill()
		}
	}
	p.dialer.Close()
}

// NodeClient returns a gRPC client for process i.
func (p *Processes) NodeClient(i int) rpcpb.NodeClient {
	c, err := p.dialer.Client(p.Addrs[i])
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// Client returns a routed kv client through process i.
func (p *Processes) Client(i int) *RoutedClient {
	return &RoutedClient{dialer: p.dialer, addr: p.Addrs[i]}
}

// WaitHealthy waits until process i has joined and serves requests.
func (p *Processes) WaitHealthy(i int) {
	testutil.SucceedsSoon(p.t, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		info, err := p.NodeClient(i).ClusterInfo(ctx, &rpcpb.ClusterInfoRequest{}, grpc.WaitForReady(true))
		if err != nil {
			return err
		}
		if !info.Initialized {
			return fmt.Errorf("node %d not initialized", i+1)
		}
		_, err = p.Client(i).Do(ctx, &rpcpb.Op{Kind: rpcpb.Op_GET, Key: []byte("health")})
		return err
	})
}

// nodeLogLevel is the processes' log level: ORDO_NODE_LOG_LEVEL, else info.
func nodeLogLevel() string {
	if l := os.Getenv("ORDO_NODE_LOG_LEVEL"); l != "" {
		return l
	}
	return "info"
}

// KeepLogs copies every process's log to dir as PREFIX-nN.log, for the
// analysis of a failed run after its temporary directory is gone.
func (p *Processes) KeepLogs(dir, prefix string) []string {
	var out []string
	for i := range p.Dirs {
		b, err := os.ReadFile(filepath.Join(p.Dirs[i], "stderr.log"))
		if err != nil {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-n%d.log", prefix, i+1))
		if os.WriteFile(path, b, 0o644) == nil {
			out = append(out, path)
		}
	}
	return out
}

// Log returns the log of process i, for failure messages.
func (p *Processes) Log(i int) string {
	b, _ := os.ReadFile(filepath.Join(p.Dirs[i], "stderr.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// AddProcess starts one more process that joins the running cluster and
// returns its index.
func (p *Processes) AddProcess() int {
	p.mu.Lock()
	i := len(p.Addrs)
	p.Addrs = append(p.Addrs, FreeAddr(p.t))
	if len(p.SQLAddrs) > 0 {
		p.SQLAddrs = append(p.SQLAddrs, FreeAddr(p.t))
	}
	p.Dirs = append(p.Dirs, filepath.Join(filepath.Dir(p.Dirs[0]), fmt.Sprintf("n%d", i+1)))
	p.cmds = append(p.cmds, nil)
	p.mu.Unlock()
	p.Start(i)
	p.WaitHealthy(i)
	return i
}

// PeakRSS is process i's peak resident set size in bytes (VmHWM).
func (p *Processes) PeakRSS(i int) int64 {
	p.mu.Lock()
	cmd := p.cmds[i]
	p.mu.Unlock()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		p.t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				p.t.Fatal(err)
			}
			return kb << 10
		}
	}
	p.t.Fatalf("no VmHWM for process %d", i)
	return 0
}
