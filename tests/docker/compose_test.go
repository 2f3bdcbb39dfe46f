package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/testutil"
)

// buildBudget bounds `make docker`. With a warm build cache it takes
// 10-30s; with a cold one the static build recompiles the tree and
// pg_query's C (measured: 5m40s on two busy cores).
const buildBudget = 6 * time.Minute

// clusterBudget bounds everything after the build: compose up, SQL, the
// kills and restarts (about 30s here).
const clusterBudget = 4 * time.Minute

// cleanupBudget bounds `docker-compose down -v` and the image removal,
// which run with a context of their own after the test's has expired. The
// test's contexts end this much before go test's -timeout, so the cleanup
// runs before the timeout panic would skip it.
const cleanupBudget = 90 * time.Second

// TestComposeCluster builds the image, starts docker-compose.yml's cluster,
// and runs SQL through psql while one node at a time is killed and
// restarted. See doc.go.
func TestComposeCluster(t *testing.T) {
	requireTools(t)
	// An interrupt cancels the running command instead of killing the test,
	// so the cleanup still takes the cluster down.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dl, ok := t.Deadline(); ok {
		end := dl.Add(-cleanupBudget - 10*time.Second)
		if time.Until(end) < time.Minute {
			t.Fatalf("go test -timeout leaves %s: give this test at least 3m with a warm build cache "+
				"(1m40s of it kept for cleanup), 12m with a cold one, as make test-docker does", time.Until(dl).Round(time.Second))
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, end)
		defer cancel()
	}
	c := newCluster(t)
	c.build(ctx)

	begin := time.Now()
	ctx, cancel := context.WithTimeout(ctx, clusterBudget)
	defer cancel()
	c.ctx = ctx // every step after the build
	c.up()
	c.waitInit()
	c.waitLive()

	c.mustSQL("CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)")
	c.mustSQL("INSERT INTO kv VALUES (1, 'one')")
	c.expectRows("1|one")

	// Node 3 down: nodes 1 and 2 are a quorum of every range.
	c.kill("ordo3")
	c.waitNotLive("ordo3")
	c.retrySQL("INSERT INTO kv VALUES (2, 'two')")
	c.expectRows("1|one", "2|two")
	c.start("ordo3")
	c.waitLive()

	// Node 2 down: now writes commit only if node 3 rejoined and caught up.
	c.kill("ordo2")
	c.waitNotLive("ordo2")
	c.retrySQL("INSERT INTO kv VALUES (3, 'three')")
	c.expectRows("1|one", "2|two", "3|three")
	c.start("ordo2")
	c.waitLive()

	c.upAgain()
	t.Logf("compose cluster part took %s", time.Since(begin).Round(time.Second))
}

// requireTools fails (never skips: CI has Docker) when a tool the test
// runs is missing or the Docker engine does not answer.
func requireTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"docker", "docker-compose", "make", "readelf", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: this test needs Docker with docker-compose, make, binutils' readelf "+
				"and PostgreSQL's psql client on the host (see tests/docker/doc.go): %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("the Docker engine does not answer (docker info): %v\n%s", err, out)
	}
}

// cluster is one compose project of the test, with its own image tag.
type cluster struct {
	t       *testing.T
	ctx     context.Context // bounds every step after the build
	root    string          // module root: docker-compose.yml and the Makefile
	project string          // compose project name
	image   string          // image tag the test builds and removes
	bin     string          // static binary, relative to root
	sqlPort string          // node 1's SQL port on 127.0.0.1
	ids     map[string]string
}

func newCluster(t *testing.T) *cluster {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	suffix := hex.EncodeToString(b[:])
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{
		t: t, root: root,
		project: "ordotest" + suffix,
		image:   "ordo:test-" + suffix,
		bin:     "bin/ordo-static-" + suffix,
		ids:     map[string]string{},
	}
}

// build runs `make docker` under the test's own tag and binary name, and
// removes both when the test ends.
func (c *cluster) build(ctx context.Context) {
	c.t.Cleanup(c.removeImage)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, buildBudget)
	defer cancel()
	out, err := c.command(ctx, "make", "-C", c.root, "--no-print-directory", "docker",
		"DOCKER_IMAGE="+c.image, "DOCKER_BIN="+c.bin).CombinedOutput()
	if err != nil {
		c.t.Fatalf("make docker: %v\n%s", err, out)
	}
	size, _ := c.output(ctx, "docker", "image", "inspect", "--format", "{{.Size}}", c.image)
	c.t.Logf("make docker: %s, image %s of %s bytes", time.Since(start).Round(time.Second), c.image, size)
}

func (c *cluster) removeImage() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupBudget)
	defer cancel()
	if out, err := c.command(ctx, "docker", "rmi", "--force", c.image).CombinedOutput(); err != nil {
		c.t.Errorf("cleanup: docker rmi %s: %v\n%s", c.image, err, out)
	}
	if err := os.Remove(filepath.Join(c.root, c.bin)); err != nil && !os.IsNotExist(err) {
		c.t.Errorf("cleanup: %v", err)
	}
}

// up starts the project and registers its teardown, which runs on failure
// too and first prints the nodes' last log lines if the test failed.
func (c *cluster) up() {
	c.t.Cleanup(c.down)
	c.compose("up", "-d")
	addr := c.compose("port", "ordo1", "5432")
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		c.t.Fatalf("node 1's SQL port is published at %q, want 127.0.0.1:PORT (%v)", addr, err)
	}
	c.sqlPort = port
	for _, svc := range []string{"ordo1", "ordo2", "ordo3", "init"} {
		c.ids[svc] = c.compose("ps", "-a", "-q", svc)
	}
	c.t.Logf("project %s up; SQL at 127.0.0.1:%s", c.project, c.sqlPort)
}

func (c *cluster) down() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupBudget)
	defer cancel()
	if c.t.Failed() {
		logs, _ := c.composeCmd(ctx, "logs", "--no-color", "--tail", "30").CombinedOutput()
		c.t.Logf("compose logs:\n%s", logs)
	}
	out, err := c.composeCmd(ctx, "down", "-v", "--remove-orphans", "--timeout", "5").CombinedOutput()
	if err != nil {
		c.t.Errorf("cleanup: docker-compose down -v: %v\n%s", err, out)
	}
}

// waitInit waits for the one-shot init service and wants it to succeed.
func (c *cluster) waitInit() {
	code, logs := c.waitExit("init", time.Time{})
	if code != "0" {
		c.t.Fatalf("init exited %s:\n%s", code, logs)
	}
	c.t.Logf("init: %s", strings.TrimSpace(logs))
}

// upAgain runs `docker-compose up -d` on the running cluster, as an
// operator would after changing nothing, and wants init to be harmless:
// either success or ordo init's "already initialized" (AlreadyExists,
// exit 1), with every node still live.
func (c *cluster) upAgain() {
	since := time.Now()
	c.compose("up", "-d")
	c.ids["init"] = c.compose("ps", "-a", "-q", "init") // recreated if its config changed
	code, logs := c.waitExit("init", since)
	if code != "0" && !strings.Contains(logs, "cluster has already been initialized") {
		c.t.Fatalf("second init exited %s:\n%s", code, logs)
	}
	c.t.Logf("second init exited %s: %s", code, strings.TrimSpace(logs))
	c.waitLive()
}

// waitExit waits for a one-shot container to exit and returns its exit
// code and what it printed (both streams) since the given time (zero: all).
func (c *cluster) waitExit(svc string, since time.Time) (code, logs string) {
	code = c.docker("wait", c.ids[svc])
	args := []string{"logs", c.ids[svc]}
	if !since.IsZero() {
		args = append(args, "--since", since.Format(time.RFC3339Nano))
	}
	out, err := c.command(c.ctx, "docker", args...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("docker logs %s: %v\n%s", svc, err, out)
	}
	return code, string(out)
}

// nodeStatus is one row of `ordo node status --format json`.
type nodeStatus struct {
	NodeID   int64  `json:"node_id"`
	Address  string `json:"address"`
	Liveness string `json:"liveness"`
	Ranges   int64  `json:"ranges"` // -1: the node did not answer
}

// waitLive waits until node 1 reports three live nodes that each answer
// with their range count.
func (c *cluster) waitLive() {
	c.waitNodes("three live nodes", func(nodes []nodeStatus) error {
		if len(nodes) != 3 {
			return fmt.Errorf("node status lists %d nodes", len(nodes))
		}
		for _, n := range nodes {
			if n.Liveness != "live" || n.Ranges < 0 {
				return fmt.Errorf("node %d (%s) is %s with %d ranges", n.NodeID, n.Address, n.Liveness, n.Ranges)
			}
		}
		return nil
	})
}

// waitNotLive waits until node 1 no longer reports svc as live (suspect
// once its heartbeat is 4s old), so the queries that follow run against a
// cluster that knows a node is gone.
func (c *cluster) waitNotLive(svc string) {
	c.waitNodes(svc+" not live", func(nodes []nodeStatus) error {
		for _, n := range nodes {
			if n.Address == svc+":26257" && n.Liveness != "live" {
				return nil
			}
		}
		return fmt.Errorf("%s is still live", svc)
	})
}

// waitNodes polls `ordo node status`, run by the image's own binary inside
// node 1's container, until check accepts its rows.
func (c *cluster) waitNodes(what string, check func([]nodeStatus) error) {
	start := time.Now()
	c.within(90*time.Second, what, func() error {
		out, err := c.output(c.ctx, "docker", "exec", c.ids["ordo1"],
			"/ordo", "node", "status", "--host", "127.0.0.1:26257", "--format", "json", "--timeout", "5s")
		if err != nil {
			return err
		}
		var nodes []nodeStatus
		if err := json.Unmarshal([]byte(out), &nodes); err != nil {
			return fmt.Errorf("node status: %v: %s", err, out)
		}
		if err := check(nodes); err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	})
	c.t.Logf("%s after %s", what, time.Since(start).Round(100*time.Millisecond))
}

// kill sends SIGKILL to a node's container (the restart policy leaves a
// killed container down) and checks it stopped.
func (c *cluster) kill(svc string) {
	c.docker("kill", "--signal", "KILL", c.ids[svc])
	if state := c.docker("inspect", "--format", "{{.State.Running}}", c.ids[svc]); state != "false" {
		c.t.Fatalf("%s still running after docker kill", svc)
	}
	c.t.Logf("killed %s", svc)
}

func (c *cluster) start(svc string) {
	c.docker("start", c.ids[svc])
	c.t.Logf("restarted %s", svc)
}

// psql runs one statement through the host's psql against node 1 and
// returns its unaligned, tuples-only output.
func (c *cluster) psql(sql string) (string, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	cmd := c.command(ctx, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", c.sqlPort, "-U", "root", "-d", "defaultdb", "-c", sql)
	cmd.Env = append(cmd.Env, "PGCONNECT_TIMEOUT=5", "PGSSLMODE=disable")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("psql %q: %v: %s", sql, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func (c *cluster) mustSQL(sql string) string {
	out, err := c.psql(sql)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// retrySQL runs a statement until it succeeds: the first attempts after a
// node dies may fail while a lease or leadership moves. Every failed
// attempt is logged, so a run shows how many retries it needed.
func (c *cluster) retrySQL(sql string) {
	attempts := 0
	c.within(45*time.Second, sql, func() error {
		attempts++
		_, err := c.psql(sql)
		if err != nil {
			c.t.Logf("attempt %d failed (retrying): %v", attempts, err)
		}
		return err
	})
	c.t.Logf("%s: succeeded at attempt %d", sql, attempts)
}

// expectRows reads the table (retrying like retrySQL) and wants rows.
func (c *cluster) expectRows(rows ...string) {
	want := strings.Join(rows, "\n")
	c.within(45*time.Second, "SELECT", func() error {
		got, err := c.psql("SELECT k, v FROM kv ORDER BY k")
		if err != nil {
			c.t.Logf("SELECT failed (retrying): %v", err)
			return err
		}
		if got != want {
			c.t.Fatalf("SELECT: got\n%s\nwant\n%s", got, want)
		}
		return nil
	})
}

// within is testutil.SucceedsWithin, cut short by the test's budget and
// stopped at once by an interrupt.
func (c *cluster) within(d time.Duration, what string, fn func() error) {
	c.t.Helper()
	if dl, ok := c.ctx.Deadline(); ok && time.Until(dl) < d {
		d = time.Until(dl)
	}
	err := testutil.Retry(d, func() error {
		if err := c.ctx.Err(); err != nil {
			c.t.Fatalf("%s: %v", what, context.Cause(c.ctx))
		}
		return fn()
	})
	if err != nil {
		c.t.Fatalf("%s: not done after %s: %v", what, d.Round(time.Second), err)
	}
}

// compose runs docker-compose on the test's project and returns its
// trimmed standard output, failing the test on error.
func (c *cluster) compose(args ...string) string {
	c.t.Helper()
	cmd := c.composeCmd(c.ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		c.t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// composeCmd is docker-compose on the repository's docker-compose.yml,
// under the test's project name and image, with node 1's ports published
// at ports Docker picks.
func (c *cluster) composeCmd(ctx context.Context, args ...string) *exec.Cmd {
	base := []string{"--ansi", "never", "-f", filepath.Join(c.root, "docker-compose.yml"), "-p", c.project}
	cmd := c.command(ctx, "docker-compose", append(base, args...)...)
	cmd.Env = append(cmd.Env, "ORDO_IMAGE="+c.image, "ORDO_SQL_PORT=0", "ORDO_HTTP_PORT=0")
	return cmd
}

// docker runs a docker command, failing the test on error.
func (c *cluster) docker(args ...string) string {
	c.t.Helper()
	out, err := c.output(c.ctx, "docker", args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// output runs a command and returns its trimmed standard output; the error
// carries its standard error.
func (c *cluster) output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := c.command(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func (c *cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.root
	cmd.Env = os.Environ()
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
