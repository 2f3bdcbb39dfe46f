package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/rpc/rpcpb"
)

// statusFixture is a two-node cluster with two ranges: txn 7 holds "a" on
// range 2, txn 9 waits for it, txn 5 is prepared there; node 2 did not
// answer.
func statusFixture() statusInput {
	desc := func(id uint64, start, end string, nodes ...uint64) *rpcpb.RangeDescriptor {
		d := &rpcpb.RangeDescriptor{RangeId: id, StartKey: []byte(start), EndKey: []byte(end), Generation: 1}
		for i, n := range nodes {
			d.Replicas = append(d.Replicas, &rpcpb.ReplicaDescriptor{NodeId: n, ReplicaId: uint64(i + 1)})
		}
		return d
	}
	return statusInput{
		nodeID: 1,
		now:    time.UnixMilli(1_700_000_000_000),
		nodes: []*rpcpb.NodeStatus{
			{Node: &rpcpb.NodeDescriptor{NodeId: 1, Address: "127.0.0.1:26257", SqlAddress: "127.0.0.1:5432", HttpAddress: "127.0.0.1:8080"},
				Liveness: Live, Ranges: 2, Leases: 2, Heartbeat: 40},
			{Node: &rpcpb.NodeDescriptor{NodeId: 2, Address: "127.0.0.1:26258"}, Liveness: Suspect, Ranges: -1, Leases: -1,
				Decommissioning: true},
		},
		requests: map[uint64]int64{1: 1234},
		ranges: []*rpcpb.RangeInfo{
			{Desc: desc(1, "\x02", "\x04", 1, 2), NodeId: 1, IsLeaseholder: true, Term: 6, AppliedIndex: 90, SizeBytes: 512, KeyCount: 9},
			{Desc: desc(2, "\x04", "\xff\xff", 1, 2), NodeId: 1, IsLeaseholder: true, Term: 6, AppliedIndex: 31, LocksHeld: 2,
				Locks: []*rpcpb.LockHeld{
					{TxnId: 7, Key: []byte("a"), Mode: "X"},
					{TxnId: 5, Key: []byte("b"), Mode: "X"},
				},
				LockWaits:       []*rpcpb.LockWait{{TxnId: 9, Key: []byte("a"), Mode: "X", WaitingOn: []uint64{7}, WaitingMs: 1500}},
				Prepared:        []*rpcpb.PreparedTxn{{TxnId: 5, AnchorKey: []byte("z"), PreparedMs: 2500, Writes: 1}},
				UnderReplicated: true},
		},
		settings: []SettingStatus{{Name: "kv.replication_factor", Value: "3", Type: "int", Description: "replicas per range", Set: false}},
		errs:     []string{"node 2: unavailable"},
	}
}

func getStatus(t *testing.T, in statusInput) []byte {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, buildStatus(in))
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// documentedStatus is the example document in docs/console.md.
func documentedStatus(t *testing.T) any {
	t.Helper()
	doc, err := os.ReadFile("../docs/console.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## /status\n.*?```json\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/console.md: no ```json block in the /status section")
	}
	var v any
	if err := json.Unmarshal(m[1], &v); err != nil {
		t.Fatalf("docs/console.md: the /status example is not JSON: %v", err)
	}
	return v
}

// sameShape reports the differences between the shapes (keys and JSON
// types, arrays by their first element) of got and want.
func sameShape(path string, got, want any) []string {
	kind := func(v any) string { return fmt.Sprintf("%T", v) }
	if kind(got) != kind(want) {
		return []string{fmt.Sprintf("%s: %s, documented as %s", path, kind(got), kind(want))}
	}
	var out []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k := range w {
			if _, ok := g[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: documented, missing", path, k))
			}
		}
		for k, gv := range g {
			wv, ok := w[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: served, not documented", path, k))
				continue
			}
			out = append(out, sameShape(path+"."+k, gv, wv)...)
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			out = append(out, sameShape(path+"[0]", g[0], w[0])...)
		} else if len(w) > 0 {
			out = append(out, fmt.Sprintf("%s: empty in the fixture, cannot compare", path))
		}
	}
	return out
}

// The served /status has exactly the shape docs/console.md documents: a
// field that disappears (or appears undocumented) fails here.
func TestStatusShape(t *testing.T) {
	var got any
	if err := json.Unmarshal(getStatus(t, statusFixture()), &got); err != nil {
		t.Fatal(err)
	}
	diffs := sameShape("status", got, documentedStatus(t))
	slices.Sort(diffs)
	for _, d := range diffs {
		t.Error(d)
	}
}

// An empty cluster view still has every list, as [] rather than null.
func TestStatusEmptyListsAreArrays(t *testing.T) {
	var got map[string]any
	if err := json.Unmarshal(getStatus(t, statusInput{}), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nodes", "ranges", "leaseholders", "locks", "lock_waits", "in_doubt", "settings", "errors"} {
		if _, ok := got[k].([]any); !ok {
			t.Errorf("%s: %#v, want an array", k, got[k])
		}
	}
}

func TestStatusContent(t *testing.T) {
	st := buildStatus(statusFixture())
	if len(st.Nodes) != 2 || st.Nodes[0].Requests != 1234 || st.Nodes[1].Requests != -1 || !st.Nodes[1].Decommissioning {
		t.Errorf("nodes: %+v", st.Nodes)
	}
	if st.Throughput.Requests != 1234 {
		t.Errorf("throughput %d", st.Throughput.Requests)
	}
	wantLH := []Leaseholder{{RangeID: 1, NodeID: 1}, {RangeID: 2, NodeID: 1}}
	if !slices.Equal(st.Leaseholders, wantLH) {
		t.Errorf("leaseholders %+v", st.Leaseholders)
	}
	r := st.Ranges[1]
	if r.Leaseholder != 1 || len(r.Replicas) != 2 || r.StartKeyHex != "04" || r.EndKey != "/Max" || !r.UnderReplicated {
		t.Errorf("range 2: %+v", r)
	}
	if len(st.Locks) != 2 || st.Locks[0].Key != "/a" || !slices.Equal(st.Locks[0].Waiters, []TxnID{9}) || len(st.Locks[1].Waiters) != 0 {
		t.Errorf("locks: %+v", st.Locks)
	}
	if len(st.LockWaits) != 1 || st.LockWaits[0].TxnID != 9 || !slices.Equal(st.LockWaits[0].WaitingOn, []TxnID{7}) || st.LockWaits[0].RangeID != 2 {
		t.Errorf("lock waits: %+v", st.LockWaits)
	}
	if len(st.InDoubt) != 1 || st.InDoubt[0].TxnID != 5 || st.InDoubt[0].AnchorKey != "/z" {
		t.Errorf("in doubt: %+v", st.InDoubt)
	}
}

func TestOverlaps(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	tests := []struct {
		k1, e1, k2, e2 string
		want           bool
	}{
		{"a", "", "a", "", true},
		{"a", "", "b", "", false},
		{"a", "c", "b", "", true},
		{"a", "c", "c", "", false},
		{"a", "c", "b", "d", true},
		{"a", "b", "b", "c", false},
		{"b", "", "a", "b", false},
		{"a", "", "a", "a\x00", true},
	}
	for _, tc := range tests {
		if got := overlaps(b(tc.k1), b(tc.e1), b(tc.k2), b(tc.e2)); got != tc.want {
			t.Errorf("overlaps([%q,%q), [%q,%q)) = %v", tc.k1, tc.e1, tc.k2, tc.e2, got)
		}
	}
}

// /debug/pprof serves its index, every named profile through it, and the
// handlers that are not profiles; / and /console/ serve the console.
func TestHTTPRoutes(t *testing.T) {
	mux := http.NewServeMux()
	registerPprof(mux)
	registerConsole(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	routes := []struct{ path, contains string }{
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/heap?debug=1", "heap profile"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile"},
		{"/debug/pprof/mutex?debug=1", "mutex"},
		{"/debug/pprof/block?debug=1", ""},
		{"/debug/pprof/allocs?debug=1", "heap profile"},
		{"/debug/pprof/threadcreate?debug=1", "threadcreate profile"},
		{"/debug/pprof/cmdline", ""},
		{"/debug/pprof/symbol", "num_symbols"},
		{"/debug/pprof/profile?seconds=1", ""},
		{"/debug/pprof/trace?seconds=1", ""},
		{"/", `id="keyspace"`},
		{"/console/", `id="keyspace"`},
		{"/console.js", "fetch(\"/status\""},
		{"/console/console.css", ".range-bar"},
	}
	for _, rt := range routes {
		resp, err := http.Get(srv.URL + rt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 || !strings.Contains(string(body), rt.contains) {
			t.Errorf("GET %s: %d, %d bytes, want 200 containing %q", rt.path, resp.StatusCode, len(body), rt.contains)
		}
	}
}
