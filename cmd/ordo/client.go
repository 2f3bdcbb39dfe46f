package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// clientFlags are the flags of every command that talks to a node.
type clientFlags struct {
	host    *string
	timeout *time.Duration
	format  *string
}

func addClientFlags(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		host:    fs.String("host", "127.0.0.1:26257", "address (--listen-addr) of any node"),
		timeout: fs.Duration("timeout", 15*time.Second, "how long to wait for an answer"),
		format:  fs.String("format", "table", "output format: table or json"),
	}
}

func (f clientFlags) dial() (rpcpb.NodeClient, func(), error) {
	conn, err := grpc.NewClient(*f.host, rpc.DialOptions()...)
	if err != nil {
		return nil, nil, err
	}
	return rpcpb.NewNodeClient(conn), func() { _ = conn.Close() }, nil
}

func (f clientFlags) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), *f.timeout)
}

// fail prints err for the user and returns the exit code.
func fail(stderr io.Writer, cmd string, err error) int {
	if st, ok := status.FromError(err); ok {
		err = fmt.Errorf("%s", st.Message())
	}
	fmt.Fprintf(stderr, "ordo %s: %v\n", cmd, err)
	return 1
}

func runInit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	ifNeeded := fs.Bool("if-needed", false, "succeed (exit 0) if the cluster is already initialized")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, closeConn, err := cf.dial()
	if err != nil {
		return fail(stderr, "init", err)
	}
	defer closeConn()
	ctx, cancel := cf.ctx()
	defer cancel()
	resp, err := c.Bootstrap(ctx, &rpcpb.BootstrapRequest{}, grpc.WaitForReady(true))
	if err != nil && *ifNeeded && status.Code(err) == codes.AlreadyExists {
		fmt.Fprintln(stdout, "cluster already initialized")
		return 0
	}
	if err != nil {
		return fail(stderr, "init", err)
	}
	fmt.Fprintf(stdout, "cluster %s initialized with %d node(s)\n", resp.ClusterId, len(resp.Nodes))
	return 0
}

func runKV(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: ordo kv put|get|del|scan|cas --host ADDR ARGS...")
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("kv "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	limit := fs.Int64("limit", 0, "scan: maximum rows (0: all)")
	absent := fs.Bool("absent", false, "cas: expect the key to be absent (then give only KEY NEW)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	op, err := kvOp(sub, fs.Args(), *limit, *absent)
	if err != nil {
		fmt.Fprintf(stderr, "ordo kv %s: %v\n", sub, err)
		return 2
	}
	c, closeConn, err := cf.dial()
	if err != nil {
		return fail(stderr, "kv", err)
	}
	defer closeConn()
	ctx, cancel := cf.ctx()
	defer cancel()
	resp, err := c.Batch(ctx, &rpcpb.BatchRequest{Ops: []*rpcpb.Op{op}}, grpc.WaitForReady(true))
	if err != nil {
		return fail(stderr, "kv "+sub, err)
	}
	if resp.Error != nil {
		return fail(stderr, "kv "+sub, kverr.FromProto(resp.Error))
	}
	return printKV(sub, resp.Results[0], stdout)
}

func kvOp(sub string, args []string, limit int64, absent bool) (*rpcpb.Op, error) {
	need := map[string]int{"put": 2, "get": 1, "del": 1, "scan": 2, "cas": 3}
	n, ok := need[sub]
	if !ok {
		return nil, fmt.Errorf("unknown kv command (want put, get, del, scan or cas)")
	}
	if sub == "cas" && absent {
		n = 2
	}
	if len(args) != n {
		return nil, fmt.Errorf("want %d arguments, got %d", n, len(args))
	}
	k := []byte(args[0])
	switch sub {
	case "put":
		return &rpcpb.Op{Kind: rpcpb.Op_PUT, Key: k, Value: []byte(args[1])}, nil
	case "get":
		return &rpcpb.Op{Kind: rpcpb.Op_GET, Key: k}, nil
	case "del":
		return &rpcpb.Op{Kind: rpcpb.Op_DELETE, Key: k}, nil
	case "scan":
		return &rpcpb.Op{Kind: rpcpb.Op_SCAN, Key: k, EndKey: []byte(args[1]), Limit: limit}, nil
	}
	if absent {
		return &rpcpb.Op{Kind: rpcpb.Op_CAS, Key: k, ExpectAbsent: true, Value: []byte(args[1])}, nil
	}
	return &rpcpb.Op{Kind: rpcpb.Op_CAS, Key: k, Expected: []byte(args[1]), Value: []byte(args[2])}, nil
}

func printKV(sub string, res *rpcpb.OpResult, stdout io.Writer) int {
	switch sub {
	case "get":
		if !res.Found {
			fmt.Fprintln(stdout, "(not found)")
			return 1
		}
		fmt.Fprintln(stdout, string(res.Value))
	case "del":
		if res.Found {
			fmt.Fprintln(stdout, "deleted")
		} else {
			fmt.Fprintln(stdout, "(not found)")
		}
	case "scan":
		for _, kv := range res.Rows {
			fmt.Fprintf(stdout, "%s\t%s\n", kv.Key, kv.Value)
		}
	case "cas":
		if !res.Swapped {
			cur := "(absent)"
			if res.Found {
				cur = string(res.Value)
			}
			fmt.Fprintf(stdout, "not swapped: current value %s\n", cur)
			return 1
		}
		fmt.Fprintln(stdout, "swapped")
	default:
		fmt.Fprintln(stdout, "OK")
	}
	return 0
}

func runNode(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "decommission" || args[0] == "recommission") {
		return runDecommission(args[0], args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprintln(stderr, "usage: ordo node status --host ADDR [--format json]\n       ordo node decommission|recommission NODE_ID --host ADDR [--wait=false]")
		return 2
	}
	fs := flag.NewFlagSet("node status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	c, closeConn, err := cf.dial()
	if err != nil {
		return fail(stderr, "node status", err)
	}
	defer closeConn()
	ctx, cancel := cf.ctx()
	defer cancel()
	resp, err := c.NodeStatus(ctx, &rpcpb.NodeStatusRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return fail(stderr, "node status", err)
	}
	if *cf.format == "json" {
		var out []map[string]any
		for _, n := range resp.Nodes {
			out = append(out, map[string]any{
				"node_id": n.Node.NodeId, "address": n.Node.Address, "sql_address": n.Node.SqlAddress,
				"http_address": n.Node.HttpAddress, "liveness": n.Liveness, "ranges": n.Ranges, "leases": n.Leases,
				"decommissioning": n.Decommissioning,
			})
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\taddress\tliveness\tranges\tleases\tmembership")
	for _, n := range resp.Nodes {
		membership := "active"
		if n.Decommissioning {
			membership = "decommissioning"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", n.Node.NodeId, n.Node.Address, n.Liveness, count(n.Ranges), count(n.Leases), membership)
	}
	_ = tw.Flush()
	return 0
}

func count(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}

func runRange(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "split") {
		fmt.Fprintln(stderr, "usage: ordo range list|split --host ADDR [--key K] [--format json]")
		return 2
	}
	fs := flag.NewFlagSet("range "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	key := fs.String("key", "", "split: the key the right-hand range starts at")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	c, closeConn, err := cf.dial()
	if err != nil {
		return fail(stderr, "range", err)
	}
	defer closeConn()
	ctx, cancel := cf.ctx()
	defer cancel()
	if args[0] == "split" {
		return rangeSplit(ctx, c, *key, stdout, stderr)
	}
	resp, err := c.RangeList(ctx, &rpcpb.RangeListRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return fail(stderr, "range list", err)
	}
	if *cf.format == "json" {
		return printJSON(stdout, rangeJSON(resp.Ranges))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "range_id\tstart_key\tend_key\treplicas\tleaseholder\tapplied\tkeys\tbytes\tstatus")
	for _, r := range resp.Ranges {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.Desc.RangeId, keys.Pretty(r.Desc.StartKey), keys.Pretty(r.Desc.EndKey),
			replicaList(r.Desc), leaseholder(r), r.AppliedIndex, r.KeyCount, r.SizeBytes, rangeStatus(r))
	}
	_ = tw.Flush()
	return 0
}

func rangeSplit(ctx context.Context, c rpcpb.NodeClient, key string, stdout, stderr io.Writer) int {
	if key == "" {
		fmt.Fprintln(stderr, "ordo range split: --key is required")
		return 2
	}
	resp, err := c.AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: []byte(key)}, grpc.WaitForReady(true))
	if err != nil {
		return fail(stderr, "range split", err)
	}
	if resp.Error != nil {
		return fail(stderr, "range split", kverr.FromProto(resp.Error))
	}
	if resp.Left == nil {
		fmt.Fprintf(stdout, "range %d already starts at %s\n", resp.Right.RangeId, keys.Pretty(resp.Right.StartKey))
		return 0
	}
	fmt.Fprintf(stdout, "split range %d at %s: new range %d\n", resp.Left.RangeId, keys.Pretty(resp.Right.StartKey), resp.Right.RangeId)
	return 0
}

func replicaList(d *rpcpb.RangeDescriptor) string {
	var parts []string
	for _, r := range d.Replicas {
		parts = append(parts, fmt.Sprintf("n%d", r.NodeId))
	}
	return strings.Join(parts, ",")
}

func leaseholder(r *rpcpb.RangeInfo) string {
	if !r.IsLeaseholder {
		return "?"
	}
	return fmt.Sprintf("n%d", r.NodeId)
}

func rangeJSON(ranges []*rpcpb.RangeInfo) []map[string]any {
	out := []map[string]any{}
	for _, r := range ranges {
		var reps []map[string]any
		for _, rd := range r.Desc.Replicas {
			reps = append(reps, map[string]any{"node_id": rd.NodeId, "replica_id": rd.ReplicaId})
		}
		var lh any
		if r.IsLeaseholder {
			lh = r.NodeId
		}
		out = append(out, map[string]any{
			"range_id": r.Desc.RangeId, "start_key": keys.Pretty(r.Desc.StartKey), "end_key": keys.Pretty(r.Desc.EndKey),
			"start_key_bytes": r.Desc.StartKey, "end_key_bytes": r.Desc.EndKey, "generation": r.Desc.Generation,
			"replicas": reps, "leaseholder": lh, "applied_index": r.AppliedIndex, "term": r.Term,
			"key_count": r.KeyCount, "size_bytes": r.SizeBytes,
			"locks_held": r.LocksHeld, "lock_waits": lockWaitsJSON(r.LockWaits), "prepared": preparedJSON(r.Prepared),
			"under_replicated": r.UnderReplicated, "unavailable": r.Unavailable,
		})
	}
	return out
}

func lockWaitsJSON(ws []*rpcpb.LockWait) []map[string]any {
	out := []map[string]any{}
	for _, w := range ws {
		// Transaction ids use all 64 bits: strings, as in /status, since
		// JSON numbers are doubles to jq and JavaScript.
		on := make([]string, len(w.WaitingOn))
		for i, id := range w.WaitingOn {
			on[i] = strconv.FormatUint(id, 10)
		}
		out = append(out, map[string]any{"txn_id": strconv.FormatUint(w.TxnId, 10), "key": keys.Pretty(w.Key), "mode": w.Mode,
			"waiting_on": on, "waiting_ms": w.WaitingMs})
	}
	return out
}

func preparedJSON(ps []*rpcpb.PreparedTxn) []map[string]any {
	out := []map[string]any{}
	for _, p := range ps {
		out = append(out, map[string]any{"txn_id": strconv.FormatUint(p.TxnId, 10), "anchor_key": keys.Pretty(p.AnchorKey), "prepared_ms": p.PreparedMs})
	}
	return out
}

// rangeStatus is the health column of ordo range list.
func rangeStatus(r *rpcpb.RangeInfo) string {
	switch {
	case r.Unavailable:
		return "unavailable"
	case r.UnderReplicated:
		return "under-replicated"
	}
	return "ok"
}
