package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/grpc"
)

// demoNode is one child process of a demo cluster.
type demoNode struct {
	dir, addr, sql, http string
	cmd                  *exec.Cmd
	done                 chan struct{} // closed when the process has exited
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("nodes", 3, "number of nodes")
	root := fs.String("store-root", "", "directory for the stores (default: a temporary directory, removed at exit)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 1 {
		fmt.Fprintln(stderr, "ordo demo: --nodes must be at least 1")
		return 2
	}
	dir, cleanup, err := demoRoot(*root)
	if err != nil {
		return fail(stderr, "demo", err)
	}
	defer cleanup()
	nodes, err := demoLayout(dir, *n)
	if err != nil {
		return fail(stderr, "demo", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer stopDemo(nodes)
	if err := startDemo(nodes, stderr); err != nil {
		return fail(stderr, "demo", err)
	}
	if err := initDemo(nodes[0].addr); err != nil {
		return fail(stderr, "demo", err)
	}
	printDemo(stdout, nodes, dir)
	exited := make(chan *demoNode, len(nodes))
	for _, nd := range nodes {
		go func() { <-nd.done; exited <- nd }()
	}
	select {
	case <-sig:
		fmt.Fprintln(stdout, "\nstopping the demo cluster")
		return 0
	case nd := <-exited:
		fmt.Fprintf(stderr, "ordo demo: node in %s exited: %v\n", nd.dir, nd.cmd.ProcessState)
		return 1
	}
}

func demoRoot(root string) (string, func(), error) {
	if root != "" {
		return root, func() {}, os.MkdirAll(root, 0o755)
	}
	dir, err := os.MkdirTemp("", "ordo-demo-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func demoLayout(root string, n int) ([]*demoNode, error) {
	var nodes []*demoNode
	for i := 1; i <= n; i++ {
		nd := &demoNode{dir: filepath.Join(root, fmt.Sprintf("n%d", i))}
		for _, p := range []*string{&nd.addr, &nd.sql, &nd.http} {
			a, err := freeAddr()
			if err != nil {
				return nil, err
			}
			*p = a
		}
		nodes = append(nodes, nd)
	}
	return nodes, nil
}

func startDemo(nodes []*demoNode, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var join []string
	for _, nd := range nodes {
		join = append(join, nd.addr)
	}
	for _, nd := range nodes {
		nd.cmd = exec.Command(self, "start", "--store", nd.dir, "--listen-addr", nd.addr,
			"--sql-addr", nd.sql, "--http-addr", nd.http, "--join", strings.Join(join, ","), "--log-level", "warn")
		nd.cmd.Stdout, nd.cmd.Stderr = io.Discard, stderr
		if err := nd.cmd.Start(); err != nil {
			return err
		}
		nd.done = make(chan struct{})
		go func(nd *demoNode) { _ = nd.cmd.Wait(); close(nd.done) }(nd)
	}
	return nil
}

func initDemo(addr string) error {
	conn, err := grpc.NewClient(addr, rpc.DialOptions()...)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := rpcpb.NewNodeClient(conn)
	if _, err := c.Bootstrap(ctx, &rpcpb.BootstrapRequest{}, grpc.WaitForReady(true)); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	// Wait until the cluster serves a write.
	for ctx.Err() == nil {
		resp, err := c.Batch(ctx, &rpcpb.BatchRequest{Ops: []*rpcpb.Op{{Kind: rpcpb.Op_PUT, Key: []byte("demo/ready"), Value: []byte("1")}}})
		if err == nil && resp.Error == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("cluster did not become ready")
}

func printDemo(w io.Writer, nodes []*demoNode, root string) {
	fmt.Fprintf(w, "ordo demo: %d nodes running (stores under %s)\n\n", len(nodes), root)
	for i, nd := range nodes {
		fmt.Fprintf(w, "  node %d  kv/gRPC %s   sql postgresql://root@%s/defaultdb?sslmode=disable   http http://%s/status\n", i+1, nd.addr, nd.sql, nd.http)
	}
	fmt.Fprintf(w, "\ntry:\n  ordo kv put --host %s hello world\n  ordo kv get --host %s hello\n  ordo node status --host %s\n  ordo range list --host %s\n",
		nodes[0].addr, nodes[len(nodes)-1].addr, nodes[0].addr, nodes[0].addr)
	fmt.Fprintf(w, "  psql -h %s -p %s -U root defaultdb\n", hostOf(nodes[0].sql), portOf(nodes[0].sql))
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

func stopDemo(nodes []*demoNode) {
	for _, nd := range nodes {
		if nd.cmd != nil && nd.cmd.Process != nil {
			_ = nd.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(10 * time.Second)
	for _, nd := range nodes {
		if nd.done == nil {
			continue
		}
		select {
		case <-nd.done:
		case <-deadline:
			_ = nd.cmd.Process.Kill()
			<-nd.done
		}
	}
}

func hostOf(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func portOf(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
