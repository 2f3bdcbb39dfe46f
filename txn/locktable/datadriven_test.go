package locktable

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// harness runs the commands of testdata files against one Table.
// Transactions are named in the scripts; names map to IDs in order of
// new-txn.
type harness struct {
	t     *testing.T
	table *Table
	ids   map[string]TxnID
	names map[TxnID]string
	prios map[TxnID]Priority
}

func newHarness(t *testing.T, cfg Config) *harness {
	return &harness{t: t, table: New(cfg), ids: map[string]TxnID{},
		names: map[TxnID]string{}, prios: map[TxnID]Priority{}}
}

func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := newHarness(t, Config{})
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			h.t = t
			return h.run(d)
		})
	})
}

func (h *harness) run(d *datadriven.TestData) string {
	switch d.Cmd {
	case "reset":
		var maxBytes int64
		d.MaybeScanArgs(h.t, "max-bytes", &maxBytes)
		*h = *newHarness(h.t, Config{MaxTxnBytes: maxBytes})
		return "ok"
	case "new-txn":
		return h.newTxn(d)
	case "acquire":
		return h.acquire(d, modeArg(h.t, d))
	case "upgrade":
		return h.acquire(d, Exclusive)
	case "release":
		return h.grants(h.table.Release(h.txn(d)))
	case "abort":
		return h.grants(h.table.Abort(h.txn(d)))
	case "wound":
		return h.wound(d)
	case "release-shared":
		return h.grants(h.table.ReleaseShared(h.txn(d)))
	case "prepare":
		g, err := h.table.Prepare(h.txn(d))
		return h.errOr(err, func() string { return h.grants(g) })
	case "cancel":
		return h.grants(h.table.Cancel(h.txn(d)))
	default:
		return h.runData(d)
	}
}

func (h *harness) runData(d *datadriven.TestData) string {
	switch d.Cmd {
	case "put":
		var val string
		d.ScanArgs(h.t, "val", &val)
		return h.errOr(h.table.PutPending(h.txn(d), h.span(d).Key, []byte(val), seqArg(h.t, d)), ok)
	case "del":
		return h.errOr(h.table.DeletePending(h.txn(d), h.span(d).Key, seqArg(h.t, d)), ok)
	case "rollback-to":
		return h.rollbackTo(d)
	case "pending":
		return formatWrites(h.table.PendingWrites(h.txn(d), h.span(d)))
	case "scan":
		return h.scan(d)
	case "memory":
		return fmt.Sprintf("%d bytes", h.table.MemoryUsage(h.txn(d)))
	case "pending-bytes":
		return fmt.Sprintf("%d bytes", h.table.PendingBytes(h.txn(d)))
	case "take":
		id := h.txn(d)
		ws := h.table.TakePendingWrites(id)
		return fmt.Sprintf("took %d, spilled=%t\n%s", len(ws), h.table.Spilled(id), formatWrites(ws))
	case "print":
		return h.table.Snapshot().Format(h.name)
	}
	d.Fatalf(h.t, "unknown command %s", d.Cmd)
	return ""
}

func ok() string { return "ok" }

// seqArg is a write's optional sequence number (seq=N, default 0).
func seqArg(t *testing.T, d *datadriven.TestData) uint64 {
	var seq uint64
	d.MaybeScanArgs(t, "seq", &seq)
	return seq
}

// rollbackTo runs "rollback-to txn=a seq=N [up-to=M]".
func (h *harness) rollbackTo(d *datadriven.TestData) string {
	var seq, upTo uint64
	d.ScanArgs(h.t, "seq", &seq)
	d.MaybeScanArgs(h.t, "up-to", &upTo)
	id := h.txn(d)
	more, err := h.table.RollbackTo(id, h.prios[id], seq, upTo)
	return h.errOr(err, func() string { return fmt.Sprintf("ok, writes left: %t", more) })
}

func (h *harness) newTxn(d *datadriven.TestData) string {
	var name string
	var p Priority
	d.ScanArgs(h.t, "name", &name)
	d.ScanArgs(h.t, "start", &p.StartNanos)
	d.MaybeScanArgs(h.t, "tie", &p.Tiebreak)
	id := TxnID(len(h.ids) + 1)
	h.ids[name], h.names[id], h.prios[id] = id, name, p
	return fmt.Sprintf("%s: id=%d prio=%d.%d", name, id, p.StartNanos, p.Tiebreak)
}

func (h *harness) txn(d *datadriven.TestData) TxnID {
	var name string
	d.ScanArgs(h.t, "txn", &name)
	id, found := h.ids[name]
	if !found {
		d.Fatalf(h.t, "unknown txn %q", name)
	}
	return id
}

func (h *harness) name(id TxnID) string { return h.names[id] }

func (h *harness) span(d *datadriven.TestData) Span {
	var key, end string
	d.ScanArgs(h.t, "key", &key)
	d.MaybeScanArgs(h.t, "end", &end)
	s := Span{Key: []byte(key)}
	if end != "" {
		s.EndKey = []byte(end)
	}
	return s
}

func modeArg(t *testing.T, d *datadriven.TestData) Mode {
	var m string
	d.ScanArgs(t, "mode", &m)
	switch m {
	case "S":
		return Shared
	case "X":
		return Exclusive
	}
	d.Fatalf(t, "bad mode %q", m)
	return 0
}

func (h *harness) acquire(d *datadriven.TestData, m Mode) string {
	id := h.txn(d)
	res, err := h.table.Acquire(Request{Txn: id, Priority: h.prios[id], Span: h.span(d), Mode: m})
	if err != nil {
		return h.errString(err)
	}
	if res.Granted {
		return "granted"
	}
	out := "waiting on " + names(res.WaitingOn, h.name)
	if len(res.Wound) > 0 {
		out += "; wound " + names(res.Wound, h.name)
	}
	return out
}

// wound plays the driver acting on a wound effect: the wounded transaction
// is aborted.
func (h *harness) wound(d *datadriven.TestData) string {
	id := h.txn(d)
	var wounded bool
	for _, tx := range h.table.Snapshot().Txns {
		wounded = wounded || tx.ID == id && tx.Wounded
	}
	if !wounded {
		return "error: not wounded"
	}
	return h.grants(h.table.Abort(id))
}

func (h *harness) grants(gs []Grant) string {
	if len(gs) == 0 {
		return "no grants"
	}
	var b strings.Builder
	for _, g := range gs {
		fmt.Fprintf(&b, "granted %s %s to %s\n", g.Span, g.Mode, h.name(g.Txn))
	}
	return b.String()
}

func (h *harness) errOr(err error, f func() string) string {
	if err != nil {
		return h.errString(err)
	}
	return f()
}

// errString names the error by its type so scripts show what callers can
// branch on.
func (h *harness) errString(err error) string {
	var we *WoundedError
	var me *MemoryLimitError
	switch {
	case errors.As(err, &we):
		return fmt.Sprintf("error: wounded (retryable=%t): %s", we.Retryable(), err)
	case errors.As(err, &me):
		return fmt.Sprintf("error: memory limit (is ErrMemoryLimit=%t): %s", errors.Is(err, ErrMemoryLimit), err)
	}
	return "error: " + err.Error()
}

func (h *harness) scan(d *datadriven.TestData) string {
	var opts ScanOptions
	d.MaybeScanArgs(h.t, "limit", &opts.Limit)
	opts.Reverse = d.HasArg("reverse")
	stored := parseKVs(h.t, d.Input)
	if opts.Reverse {
		for i, j := 0, len(stored)-1; i < j; i, j = i+1, j-1 {
			stored[i], stored[j] = stored[j], stored[i]
		}
	}
	kvs, err := MergeScan(&SliceIterator{KVs: stored}, h.table.PendingWrites(h.txn(d), h.span(d)), opts)
	if err != nil {
		return h.errString(err)
	}
	return formatKVs(kvs)
}

// parseKVs reads "key=value" lines, sorted ascending.
func parseKVs(t *testing.T, input string) []KV {
	var kvs []KV
	for _, line := range strings.Fields(input) {
		k, v, found := strings.Cut(line, "=")
		if !found {
			t.Fatalf("bad kv %q", line)
		}
		kvs = append(kvs, KV{Key: []byte(k), Value: []byte(v)})
	}
	return kvs
}

func formatKVs(kvs []KV) string {
	if len(kvs) == 0 {
		return "empty"
	}
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%s=%s\n", kv.Key, kv.Value)
	}
	return b.String()
}

func formatWrites(ws []Write) string {
	if len(ws) == 0 {
		return "empty"
	}
	var b strings.Builder
	for _, w := range ws {
		if w.Deleted {
			fmt.Fprintf(&b, "%s deleted\n", w.Key)
		} else {
			fmt.Fprintf(&b, "%s=%s\n", w.Key, w.Value)
		}
	}
	return b.String()
}
