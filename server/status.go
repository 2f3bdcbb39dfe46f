package server

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/rpc/rpcpb"
)

// The /status document (docs/console.md, "/status"). Every field is always
// present: lists are [] when empty, never null, so a reader (the console,
// a script) need not guess. TestStatusShape compares the document with the
// example in docs/console.md, both ways.

// Status is the document served at /status: the cluster as the answering
// node sees it.
type Status struct {
	NodeID       uint64          `json:"node_id"`
	TimeUnixMs   int64           `json:"time_unix_ms"`
	Nodes        []NodeStatus    `json:"nodes"`
	Ranges       []RangeStatus   `json:"ranges"`
	Leaseholders []Leaseholder   `json:"leaseholders"`
	Locks        []LockStatus    `json:"locks"`
	LockWaits    []LockWait      `json:"lock_waits"`
	InDoubt      []InDoubtTxn    `json:"in_doubt"`
	Settings     []SettingStatus `json:"settings"`
	Throughput   Throughput      `json:"throughput"`
	Errors       []string        `json:"errors"`
}

// NodeStatus is one registered node. Ranges, Leases and Requests are -1
// when the node could not be asked.
type NodeStatus struct {
	NodeID          uint64 `json:"node_id"`
	Address         string `json:"address"`
	SQLAddress      string `json:"sql_address"`
	HTTPAddress     string `json:"http_address"`
	Liveness        string `json:"liveness"`
	Decommissioning bool   `json:"decommissioning"`
	Heartbeat       uint64 `json:"heartbeat"`
	Ranges          int64  `json:"ranges"`
	Leases          int64  `json:"leases"`
	Requests        int64  `json:"requests"`
}

// RangeStatus is one range as meta records it and its leaseholder (or,
// without one, some replica) reports it. Leaseholder is 0 when no replica
// reported holding the lease.
type RangeStatus struct {
	RangeID         uint64          `json:"range_id"`
	StartKey        string          `json:"start_key"`
	EndKey          string          `json:"end_key"`
	StartKeyHex     string          `json:"start_key_hex"`
	EndKeyHex       string          `json:"end_key_hex"`
	Generation      uint64          `json:"generation"`
	Replicas        []ReplicaStatus `json:"replicas"`
	Leaseholder     uint64          `json:"leaseholder"`
	Term            uint64          `json:"term"`
	AppliedIndex    uint64          `json:"applied_index"`
	SizeBytes       int64           `json:"size_bytes"`
	KeyCount        int64           `json:"key_count"`
	LocksHeld       int64           `json:"locks_held"`
	UnderReplicated bool            `json:"under_replicated"`
	Unavailable     bool            `json:"unavailable"`
}

// ReplicaStatus is one replica of a range.
type ReplicaStatus struct {
	NodeID    uint64 `json:"node_id"`
	ReplicaID uint64 `json:"replica_id"`
}

// Leaseholder names the node holding a range's lease (its Raft leader).
type Leaseholder struct {
	RangeID uint64 `json:"range_id"`
	NodeID  uint64 `json:"node_id"`
}

// LockStatus is a lock held at a leaseholder and the transactions waiting
// for it.
type LockStatus struct {
	RangeID uint64  `json:"range_id"`
	TxnID   TxnID   `json:"txn_id"`
	Key     string  `json:"key"`
	EndKey  string  `json:"end_key"`
	Mode    string  `json:"mode"`
	Waiters []TxnID `json:"waiters"`
}

// LockWait is a request waiting for a lock: TxnID waits for WaitingOn.
type LockWait struct {
	RangeID   uint64  `json:"range_id"`
	TxnID     TxnID   `json:"txn_id"`
	Key       string  `json:"key"`
	EndKey    string  `json:"end_key"`
	Mode      string  `json:"mode"`
	WaitingOn []TxnID `json:"waiting_on"`
	WaitingMs int64   `json:"waiting_ms"`
}

// InDoubtTxn is a transaction prepared at a participant range whose
// outcome the range has not learnt yet (it holds its record and locks
// until resolved).
type InDoubtTxn struct {
	RangeID    uint64 `json:"range_id"`
	TxnID      TxnID  `json:"txn_id"`
	AnchorKey  string `json:"anchor_key"`
	PreparedMs int64  `json:"prepared_ms"`
	Writes     int32  `json:"writes"`
}

// TxnID is a transaction id, written in JSON as a decimal string: ids use
// all 64 bits, beyond the integers JavaScript's numbers hold exactly.
type TxnID uint64

// MarshalJSON implements json.Marshaler.
func (id TxnID) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatUint(uint64(id), 10)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (id *TxnID) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("status: txn id %s: %w", b, err)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	*id = TxnID(v)
	return err
}

func txnIDs(ids []uint64) []TxnID {
	out := make([]TxnID, 0, len(ids))
	for _, id := range ids {
		out = append(out, TxnID(id))
	}
	return out
}

// SettingStatus is one cluster setting; Set is false when it keeps its
// default (the node's configuration).
type SettingStatus struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Set         bool   `json:"set"`
}

// Throughput is a counter the console turns into a rate: requests (ops)
// served by the replicas of every node that answered, since each replica
// was created. It can fall when a replica is removed or a node does not
// answer; a reader clamps negative differences to zero.
type Throughput struct {
	Requests int64 `json:"requests"`
}

// statusInput is what the document is assembled from.
type statusInput struct {
	nodeID   uint64
	now      time.Time
	nodes    []*rpcpb.NodeStatus
	requests map[uint64]int64 // per node; absent: not asked
	ranges   []*rpcpb.RangeInfo
	settings []SettingStatus
	errs     []string
}

// gatherStatus asks every node once for its replicas and reads meta.
func (s *Server) gatherStatus(ctx context.Context) statusInput {
	in := statusInput{nodeID: s.NodeID(), now: time.Now(), requests: map[uint64]int64{}}
	cache := s.newRangeInfoCache(ctx)
	in.nodes = s.nodeStatusWith(ctx, cache).Nodes
	for _, n := range in.nodes {
		if infos, err := cache.of(n.Node.GetNodeId()); err == nil {
			in.requests[n.Node.GetNodeId()] = sumRequests(infos)
		} else {
			in.errs = append(in.errs, fmt.Sprintf("node %d: %v", n.Node.GetNodeId(), err))
		}
	}
	ranges, err := s.rangeListWith(ctx, cache)
	if err != nil {
		in.errs = append(in.errs, "range list: "+err.Error())
	}
	in.ranges = ranges
	in.settings = s.settingStatuses()
	return in
}

func sumRequests(infos []*rpcpb.RangeInfo) int64 {
	var n int64
	for _, i := range infos {
		n += i.Requests
	}
	return n
}

// settingStatuses lists the cluster settings as this node last loaded them
// (the settings loop reloads them every second).
func (s *Server) settingStatuses() []SettingStatus {
	v := s.settings.Load()
	out := []SettingStatus{}
	for _, r := range v.Show() {
		set := v.IsSet(r.Name)
		if !set {
			r.Value = s.nodeDefault(r.Name, r.Value)
		}
		out = append(out, SettingStatus{Name: r.Name, Value: r.Value, Type: r.Type, Description: r.Description, Set: set})
	}
	return out
}

// buildStatus assembles the document; it does no I/O.
func buildStatus(in statusInput) *Status {
	st := &Status{
		NodeID: in.nodeID, TimeUnixMs: in.now.UnixMilli(),
		Nodes: []NodeStatus{}, Ranges: []RangeStatus{}, Leaseholders: []Leaseholder{},
		Locks: []LockStatus{}, LockWaits: []LockWait{}, InDoubt: []InDoubtTxn{},
		Settings: in.settings, Errors: append([]string{}, in.errs...),
	}
	if st.Settings == nil {
		st.Settings = []SettingStatus{}
	}
	for _, n := range in.nodes {
		st.Nodes = append(st.Nodes, nodeStatusOf(n, in.requests))
	}
	for _, n := range in.requests {
		st.Throughput.Requests += n
	}
	for _, r := range in.ranges {
		st.addRange(r)
	}
	return st
}

func nodeStatusOf(n *rpcpb.NodeStatus, requests map[uint64]int64) NodeStatus {
	id := n.Node.GetNodeId()
	req, ok := requests[id]
	if !ok {
		req = -1
	}
	return NodeStatus{
		NodeID: id, Address: n.Node.GetAddress(), SQLAddress: n.Node.GetSqlAddress(),
		HTTPAddress: n.Node.GetHttpAddress(), Liveness: n.Liveness, Decommissioning: n.Decommissioning,
		Heartbeat: n.Heartbeat, Ranges: n.Ranges, Leases: n.Leases, Requests: req,
	}
}

// addRange adds range r and what its leaseholder reports of transactions.
func (st *Status) addRange(r *rpcpb.RangeInfo) {
	d := r.Desc
	rs := RangeStatus{
		RangeID: d.GetRangeId(), StartKey: keys.Pretty(d.GetStartKey()), EndKey: keys.Pretty(d.GetEndKey()),
		StartKeyHex: hex.EncodeToString(d.GetStartKey()), EndKeyHex: hex.EncodeToString(d.GetEndKey()),
		Generation: d.GetGeneration(), Replicas: []ReplicaStatus{}, Term: r.Term, AppliedIndex: r.AppliedIndex,
		SizeBytes: r.SizeBytes, KeyCount: r.KeyCount, LocksHeld: r.LocksHeld,
		UnderReplicated: r.UnderReplicated, Unavailable: r.Unavailable,
	}
	for _, rd := range d.GetReplicas() {
		rs.Replicas = append(rs.Replicas, ReplicaStatus{NodeID: rd.NodeId, ReplicaID: rd.ReplicaId})
	}
	if r.IsLeaseholder {
		rs.Leaseholder = r.NodeId
		st.Leaseholders = append(st.Leaseholders, Leaseholder{RangeID: rs.RangeID, NodeID: r.NodeId})
	}
	st.Ranges = append(st.Ranges, rs)
	st.addLocks(rs.RangeID, r)
	for _, p := range r.Prepared {
		st.InDoubt = append(st.InDoubt, InDoubtTxn{RangeID: rs.RangeID, TxnID: TxnID(p.TxnId),
			AnchorKey: keys.Pretty(p.AnchorKey), PreparedMs: p.PreparedMs, Writes: p.Writes})
	}
}

// addLocks lists r's held locks, each with the waiters blocked on its
// holder over an overlapping span, and r's waits.
func (st *Status) addLocks(rangeID uint64, r *rpcpb.RangeInfo) {
	for _, l := range r.Locks {
		ls := LockStatus{RangeID: rangeID, TxnID: TxnID(l.TxnId), Key: keys.Pretty(l.Key), EndKey: prettyEnd(l.EndKey),
			Mode: l.Mode, Waiters: []TxnID{}}
		for _, w := range r.LockWaits {
			if waitsOn(w, l.TxnId) && overlaps(w.Key, w.EndKey, l.Key, l.EndKey) {
				ls.Waiters = append(ls.Waiters, TxnID(w.TxnId))
			}
		}
		st.Locks = append(st.Locks, ls)
	}
	for _, w := range r.LockWaits {
		st.LockWaits = append(st.LockWaits, LockWait{RangeID: rangeID, TxnID: TxnID(w.TxnId), Key: keys.Pretty(w.Key),
			EndKey: prettyEnd(w.EndKey), Mode: w.Mode, WaitingOn: txnIDs(w.WaitingOn), WaitingMs: w.WaitingMs})
	}
}

// prettyEnd renders a span's end key; "" for a point (no end key).
func prettyEnd(k []byte) string {
	if len(k) == 0 {
		return ""
	}
	return keys.Pretty(k)
}

func waitsOn(w *rpcpb.LockWait, txn uint64) bool {
	for _, o := range w.WaitingOn {
		if o == txn {
			return true
		}
	}
	return false
}

// overlaps reports whether spans [k1, e1) and [k2, e2) share a key; an
// empty end key makes the span the single key.
func overlaps(k1, e1, k2, e2 []byte) bool {
	end := func(k, e []byte) []byte {
		if len(e) == 0 {
			return append(bytes.Clone(k), 0)
		}
		return e
	}
	return bytes.Compare(k1, end(k2, e2)) < 0 && bytes.Compare(k2, end(k1, e1)) < 0
}

// handleStatus serves /status (docs/console.md).
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	if s.Store() == nil {
		http.Error(w, "not initialized", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	writeStatus(w, buildStatus(s.gatherStatus(ctx)))
}

func writeStatus(w http.ResponseWriter, st *Status) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(st)
}
