package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/server"
	"github.com/ordodb/ordo/server/settings"
	"github.com/ordodb/ordo/tests/cluster"
	"github.com/ordodb/ordo/tests/testutil"
	"github.com/ordodb/ordo/txn"
)

// chromiumTimeout bounds each browser run.
const chromiumTimeout = 90 * time.Second

// findChromium returns the browser to run: $ORDO_CHROMIUM, or the first of
// the usual names on PATH. Without one the test skips, unless CI is set:
// CI installs chromium (.ci/run), so a missing one there is a failure.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ORDO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and CI is set: .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("chromium not found (apt-get install chromium); skipping the console test")
	return ""
}

// status is the part of /status the test checks.
type status struct {
	Nodes []struct {
		NodeID   uint64 `json:"node_id"`
		Liveness string `json:"liveness"`
	} `json:"nodes"`
	Ranges []struct {
		RangeID     uint64 `json:"range_id"`
		Leaseholder uint64 `json:"leaseholder"`
	} `json:"ranges"`
	LockWaits []struct {
		TxnID     server.TxnID   `json:"txn_id"`
		WaitingOn []server.TxnID `json:"waiting_on"`
	} `json:"lock_waits"`
}

func getStatus(addr string) (*status, error) {
	c := http.Client{Timeout: 15 * time.Second}
	resp, err := c.Get("http://" + addr + "/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/status: %d %s", resp.StatusCode, b)
	}
	st := &status{}
	return st, json.Unmarshal(b, st)
}

func (st *status) leaseholders() map[uint64]uint64 {
	out := map[uint64]uint64{}
	for _, r := range st.Ranges {
		out[r.RangeID] = r.Leaseholder
	}
	return out
}

// ready says why st does not yet show the cluster the test built.
func (st *status) ready(nodes, ranges int, waiter, holder uint64) error {
	live := 0
	for _, n := range st.Nodes {
		if n.Liveness == server.Live {
			live++
		}
	}
	if live != nodes {
		return fmt.Errorf("%d of %d nodes live", live, nodes)
	}
	if len(st.Ranges) != ranges {
		return fmt.Errorf("%d ranges, want %d", len(st.Ranges), ranges)
	}
	for _, r := range st.Ranges {
		if r.Leaseholder == 0 {
			return fmt.Errorf("range %d has no leaseholder yet", r.RangeID)
		}
	}
	for _, w := range st.LockWaits {
		if uint64(w.TxnID) == waiter && len(w.WaitingOn) == 1 && uint64(w.WaitingOn[0]) == holder {
			return nil
		}
	}
	return fmt.Errorf("txn %d not yet listed waiting for txn %d", waiter, holder)
}

// startCluster starts three nodes with HTTP ports, rebalancing off (so
// leases stay where the test saw them), and splits the user key space at
// splitKeys.
func startCluster(t *testing.T, splitKeys ...string) *cluster.InProcess {
	c := cluster.StartInProcessWith(t, 3, func(c *cluster.InProcess) {
		c.Configure = func(i int, cfg *server.Config) {
			if cfg.HTTPAddr == "" {
				cfg.HTTPAddr = "127.0.0.1:0"
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range []settings.BoolSetting{settings.LeaseRebalancing, settings.ReplicaRebalancing} {
		if err := c.DB(0).Put(ctx, settings.Key(s.Name()), settings.Encode(settings.BoolValue(false))); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range splitKeys {
		if _, err := c.NodeClient(0).AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: []byte(k)}); err != nil {
			t.Fatalf("split at %q: %v", k, err)
		}
	}
	return c
}

// holdLockWait makes a younger transaction wait for an older one's
// exclusive lock on key, and keeps it waiting until the test ends.
func holdLockWait(t *testing.T, c *cluster.InProcess, key string) (waiter, holder uint64) {
	ctx := context.Background()
	h := c.Node(0).Txns().Begin()
	if err := h.Put(ctx, []byte(key), []byte("held")); err != nil {
		t.Fatal(err)
	}
	w := c.Node(1).Txns().Begin() // younger: it waits rather than wounds
	w.SetLockTimeout(5 * time.Minute)
	done := make(chan error, 1)
	go func() {
		_, _, err := w.Get(ctx, []byte(key), txn.LockExclusive)
		done <- err
	}()
	t.Cleanup(func() {
		h.Rollback(ctx)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the waiter did not finish after the holder rolled back")
		}
		w.Rollback(ctx)
	})
	return w.ID(), h.ID()
}

// writeLoad puts keys under prefix until the test ends, so the
// throughput chart has something to draw.
func writeLoad(t *testing.T, c *cluster.InProcess, prefix string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			_ = c.DB(2).Put(ctx, []byte(fmt.Sprintf("%s%04d", prefix, i%500)), []byte("v"))
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// runChromium runs headless Chromium with args and returns its stdout.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstderr:\n%s", bin, args, err, stderr.String())
	}
	return stdout.Bytes()
}

var (
	tagRe  = regexp.MustCompile(`<[a-zA-Z][a-zA-Z0-9-]*\s[^>]*>`)
	attrRe = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)="([^"]*)"`)
)

// element is a start tag's attributes.
type element map[string]string

// elements lists the start tags of dom that have attributes.
func elements(dom []byte) []element {
	var out []element
	for _, tag := range tagRe.FindAll(dom, -1) {
		e := element{}
		for _, m := range attrRe.FindAllSubmatch(tag, -1) {
			e[string(m[1])] = string(m[2])
		}
		out = append(out, e)
	}
	return out
}

func (e element) hasClass(c string) bool {
	return regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(c) + `(\s|$)`).MatchString(e["class"])
}

func find(els []element, class string, match func(element) bool) (element, bool) {
	for _, e := range els {
		if e.hasClass(class) && match(e) {
			return e, true
		}
	}
	return nil, false
}

// checkDOM checks that the rendered console shows every node, every range
// with its leaseholder (as /status gave it before or after the browser
// ran), and the lock wait.
func checkDOM(t *testing.T, dom []byte, before, after *status, waiter, holder uint64) {
	t.Helper()
	els := elements(dom)
	if !bytes.Contains(dom, []byte(`data-state="ready"`)) {
		t.Errorf("the page never rendered a status document (body data-state is not ready)")
	}
	for _, n := range after.Nodes {
		id := strconv.FormatUint(n.NodeID, 10)
		if _, ok := find(els, "node", func(e element) bool { return e["data-node-id"] == id && e["data-liveness"] == "live" }); !ok {
			t.Errorf("node %s: no live .node[data-node-id=%s] in the DOM", id, id)
		}
	}
	lh0, lh1 := before.leaseholders(), after.leaseholders()
	for _, r := range after.Ranges {
		id := strconv.FormatUint(r.RangeID, 10)
		bar, ok := find(els, "range-bar", func(e element) bool { return e["data-range-id"] == id })
		if !ok {
			t.Errorf("range %s: no .range-bar[data-range-id=%s] in the DOM", id, id)
			continue
		}
		got := bar["data-leaseholder"]
		if got != strconv.FormatUint(lh0[r.RangeID], 10) && got != strconv.FormatUint(lh1[r.RangeID], 10) {
			t.Errorf("range %s: the console shows leaseholder %s, /status said %d (before) and %d (after)", id, got, lh0[r.RangeID], lh1[r.RangeID])
		}
		if _, ok := find(els, "replica", func(e element) bool { return e["data-leaseholder"] == "true" && e["data-node-id"] == got }); !ok {
			t.Errorf("range %s: no leaseholder replica chip for node %s", id, got)
		}
	}
	w, h := strconv.FormatUint(waiter, 10), strconv.FormatUint(holder, 10)
	if _, ok := find(els, "lock-wait", func(e element) bool { return e["data-waiter-txn"] == w && e["data-holder-txn"] == h }); !ok {
		t.Errorf("no .lock-wait with txn %s waiting for txn %s in the DOM", w, h)
	}
	if _, ok := find(els, "lock", func(e element) bool { return e["data-holder-txn"] == h && e["data-waiters"] == w }); !ok {
		t.Errorf("no held lock of txn %s listing waiter %s in the DOM", h, w)
	}
}

// checkPNG checks that file is a PNG of the window's size.
func checkPNG(t *testing.T, file string, width, height int) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", file, err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), width, height)
	}
	if fi, _ := f.Stat(); fi.Size() < 1000 {
		t.Errorf("screenshot is only %d bytes", fi.Size())
	}
}

// TestConsole renders the console of a three-node cluster with six ranges
// and a lock wait in headless Chromium and checks what it shows.
func TestConsole(t *testing.T) {
	bin := findChromium(t)
	c := startCluster(t, "c", "f", "m", "t")
	waiter, holder := holdLockWait(t, c, "m/lock")
	writeLoad(t, c, "a/")
	addr := c.Node(1).HTTPAddr()
	var before *status
	testutil.SucceedsSoon(t, func() error {
		st, err := getStatus(addr)
		if err != nil {
			return err
		}
		before = st
		return st.ready(3, 6, waiter, holder) // meta + /User split four times
	})

	const budget = "--virtual-time-budget=4000"
	for _, path := range []string{"/console/", "/"} {
		dom := runChromium(t, bin, budget, "--dump-dom", "http://"+addr+path)
		after, err := getStatus(addr)
		if err != nil {
			t.Fatal(err)
		}
		checkDOM(t, dom, before, after, waiter, holder)
		if t.Failed() {
			t.Logf("DOM of %s:\n%s", path, dom)
			return
		}
	}

	shot := filepath.Join(t.TempDir(), "console.png")
	runChromium(t, bin, "--virtual-time-budget=8000", "--screenshot="+shot, "--window-size=1280,1600", "http://"+addr+"/")
	checkPNG(t, shot, 1280, 1600)
	if dir := os.Getenv("ORDO_CONSOLE_SCREENSHOT_DIR"); dir != "" {
		if b, err := os.ReadFile(shot); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "console.png"), b, 0o644)
		}
	}
}
