package nemesis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config describes a local cluster. The zero value of the optional fields
// is the default.
type Config struct {
	// Binary is the ordo binary to run. Required.
	Binary string
	// Dir holds one store directory per node (n1, n2, ...), each with the
	// node's stderr.log. Required.
	Dir string
	// Nodes is the number of processes. Default 3.
	Nodes int
	// Subnet is the first three octets of the nodes' loopback IPs: node i
	// is Subnet.(i+1). Default "127.0.1".
	Subnet string
	// Seed seeds the proxies' jitter and loss.
	Seed uint64
	// LogLevel of the processes. Default "info".
	LogLevel string
	// ExtraArgs are added to every `ordo start`.
	ExtraArgs []string
	// StartTimeout bounds init and the wait for every node's health.
	// Default 90 s.
	StartTimeout time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Binary == "" || c.Dir == "" {
		return c, errors.New("nemesis: cluster config needs Binary and Dir")
	}
	if c.Nodes <= 0 {
		c.Nodes = 3
	}
	if c.Nodes > 250 {
		return c, fmt.Errorf("nemesis: %d nodes: at most 250", c.Nodes)
	}
	if c.Subnet == "" {
		c.Subnet = "127.0.1"
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 90 * time.Second
	}
	return c, nil
}

// Node is one process's addresses.
type Node struct {
	// IP is the node's own loopback IP, its source address for peers.
	IP string
	// Addr is its real gRPC listener; Advertise is its proxy, the address
	// its peers (and only they) use.
	Addr, Advertise string
	// SQLAddr and HTTPAddr are the real listeners, reached directly and
	// never faulted; SQLProxy is the SQL port's proxy (clients through it
	// are cut by all-ports partitions).
	SQLAddr, HTTPAddr, SQLProxy string
	Dir                         string
}

// Cluster is N ordo processes on loopback, each behind its proxy. Its
// methods are safe for concurrent use.
type Cluster struct {
	cfg     Config
	Nodes   []Node
	Net     *Net
	proxies []*Proxy
	// sqlProxies are the SQL ports' proxies (NewClientProxy).
	sqlProxies []*Proxy
	http       *http.Client

	mu struct {
		sync.Mutex
		procs []*proc
	}
}

// proc is one running process.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartCluster starts cfg.Nodes processes, runs init against the first and
// waits until every node is healthy. On error everything it started is
// stopped.
func StartCluster(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, Net: NewNet(cfg.Nodes), http: &http.Client{Timeout: 2 * time.Second}}
	c.mu.procs = make([]*proc, cfg.Nodes)
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.layout(); err != nil {
		return nil, err
	}
	for i := range c.Nodes {
		if err := c.Start(i); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	if err := c.init(ctx); err != nil {
		return nil, err
	}
	for i := range c.Nodes {
		if err := c.WaitHealthy(ctx, i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// layout picks every node's IP and ports and starts its proxy.
func (c *Cluster) layout() error {
	sources := map[string]int{}
	for i := range c.cfg.Nodes {
		ip := fmt.Sprintf("%s.%d", c.cfg.Subnet, i+1)
		sources[ip] = i
		n := Node{IP: ip, Dir: filepath.Join(c.cfg.Dir, fmt.Sprintf("n%d", i+1))}
		var err error
		for _, a := range []*string{&n.Addr, &n.SQLAddr, &n.HTTPAddr} {
			if *a, err = freeAddr(ip); err != nil {
				return err
			}
		}
		c.Nodes = append(c.Nodes, n)
	}
	for i := range c.Nodes {
		p, err := NewProxy(c.Net, i, c.Nodes[i].IP+":0", c.Nodes[i].Addr, sources, c.cfg.Seed)
		if err != nil {
			return err
		}
		c.proxies = append(c.proxies, p)
		c.Nodes[i].Advertise = p.Addr()
		sp, err := NewClientProxy(c.Net, i, c.Nodes[i].IP+":0", c.Nodes[i].SQLAddr, c.cfg.Seed)
		if err != nil {
			return err
		}
		c.sqlProxies = append(c.sqlProxies, sp)
		c.Nodes[i].SQLProxy = sp.Addr()
	}
	return nil
}

// freeAddr returns ip:port for a port that was free a moment ago.
func freeAddr(ip string) (string, error) {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		return "", fmt.Errorf("nemesis: listen on %s (the harness needs the loopback range 127.0.0.0/8, as on Linux): %w", ip, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Proxy returns the proxy in front of node i.
func (c *Cluster) Proxy(i int) *Proxy { return c.proxies[i] }

// SQLAddrs are the addresses clients use: the nodes' SQL proxies, so that
// all-ports partitions reach them.
func (c *Cluster) SQLAddrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.SQLProxy
	}
	return out
}

func (c *Cluster) joinList() string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Advertise)
	}
	return strings.Join(out, ",")
}

// Start starts (or restarts) node i on its store.
func (c *Cluster) Start(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.procs[i] != nil {
		return fmt.Errorf("nemesis: n%d is already running", i+1)
	}
	n := c.Nodes[i]
	if err := os.MkdirAll(n.Dir, 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, "stderr.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	args := []string{"start", "--store", n.Dir, "--listen-addr", n.Addr, "--advertise-addr", n.Advertise,
		"--sql-addr", n.SQLAddr, "--http-addr", n.HTTPAddr, "--join", c.joinList(),
		"--peer-source-ip", n.IP, "--log-level", c.cfg.LogLevel}
	cmd := exec.Command(c.cfg.Binary, append(args, c.cfg.ExtraArgs...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("nemesis: start n%d: %w", i+1, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(p.exited) }()
	c.mu.procs[i] = p
	return nil
}

func (c *Cluster) init(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, c.cfg.Binary, "init", "--host", c.Nodes[0].Addr, "--timeout", "60s").CombinedOutput()
	if err != nil {
		return fmt.Errorf("nemesis: ordo init: %w\n%s", err, out)
	}
	return nil
}

// WaitHealthy waits until node i's /health says it has joined (bounded by
// ctx).
func (c *Cluster) WaitHealthy(ctx context.Context, i int) error {
	url := "http://" + c.Nodes[i].HTTPAddr + "/health"
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("nemesis: n%d not healthy: %w (last: %v)", i+1, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) proc(i int) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.procs[i]
}

// Running reports whether node i's process is running (paused counts).
func (c *Cluster) Running(i int) bool {
	p := c.proc(i)
	if p == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL to node i and waits (up to 10 s) until it has exited.
func (c *Cluster) Kill(i int) error {
	c.mu.Lock()
	p := c.mu.procs[i]
	c.mu.procs[i] = nil
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("nemesis: kill n%d: not running", i+1)
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("nemesis: n%d (pid %d) still running 10 s after SIGKILL", i+1, p.cmd.Process.Pid)
	}
}

// Pause stops node i with SIGSTOP and checks that it is stopped.
func (c *Cluster) Pause(i int) error {
	return c.signalState(i, syscall.SIGSTOP, true)
}

// Resume continues node i with SIGCONT and checks that it runs.
func (c *Cluster) Resume(i int) error {
	return c.signalState(i, syscall.SIGCONT, false)
}

// signalState sends sig to node i and waits (up to 2 s) until /proc says
// the process is stopped (or no longer stopped).
func (c *Cluster) signalState(i int, sig syscall.Signal, stopped bool) error {
	p := c.proc(i)
	if p == nil {
		return fmt.Errorf("nemesis: %v n%d: not running", sig, i+1)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("nemesis: %v n%d: %w", sig, i+1, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := ProcState(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		if (st == 'T') == stopped {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nemesis: n%d (pid %d) in state %q 2 s after %v", i+1, p.cmd.Process.Pid, st, sig)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Pid is node i's process id, 0 if it is not running.
func (c *Cluster) Pid(i int) int {
	if p := c.proc(i); p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// ProcState is the state letter of /proc/PID/stat: R, S, D, T (stopped), Z...
func ProcState(pid int) (byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("nemesis: process state: %w", err)
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, fmt.Errorf("nemesis: /proc/%d/stat: unexpected %q", pid, s)
	}
	return s[i+2], nil
}

// Probe checks a round trip along from→to and back through to's proxy.
func (c *Cluster) Probe(ctx context.Context, from, to int, timeout time.Duration) error {
	return Probe(ctx, c.Nodes[from].IP, c.Nodes[to].Advertise, timeout)
}

// Log returns the end of node i's log, for failure messages.
func (c *Cluster) Log(i int) string {
	b, _ := os.ReadFile(filepath.Join(c.Nodes[i].Dir, "stderr.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Close heals the network, resumes paused processes, stops every process
// (SIGTERM, then SIGKILL after 10 s) and closes the proxies.
func (c *Cluster) Close() {
	c.Net.Heal()
	c.mu.Lock()
	procs := c.mu.procs
	c.mu.procs = make([]*proc, len(procs))
	c.mu.Unlock()
	for _, p := range procs {
		if p != nil {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range procs {
		if p == nil {
			continue
		}
		select {
		case <-p.exited:
		case <-time.After(time.Until(deadline)):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	for _, p := range append(c.proxies, c.sqlProxies...) {
		p.Close()
	}
}
