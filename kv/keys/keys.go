package keys

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/ordodb/ordo/kv/keys/encoding"
)

// Key-space boundaries.
var (
	localPrefix = []byte{0x01}
	// MinAddressable is the smallest key a KV request may address.
	MinAddressable = []byte{0x02}
	// MetaPrefix prefixes meta records: MetaPrefix + end key → descriptor.
	MetaPrefix = []byte{0x02}
	// SystemPrefix prefixes system records.
	SystemPrefix = []byte{0x03}
	// SystemMax ends the meta range; user data starts here.
	SystemMax = []byte{0x04}
	// UserMin is the first key of user and table data.
	UserMin = []byte{0x04}
	// MaxKey ends the key space; no key is greater or equal.
	MaxKey = []byte{0xff, 0xff}
)

// Local key kinds.
const (
	unreplicatedInfix = 'r'
	replicatedInfix   = 'R'
	storeInfix        = 's'

	raftLogSuffix     = 'l'
	hardStateSuffix   = 'h'
	truncStateSuffix  = 't'
	tombstoneSuffix   = 'z'
	ingestSuffix      = 'i'
	appliedSuffix     = 'a'
	descSuffix        = 'd'
	preparedSuffix    = 'p'
	txnRecordSuffix   = 'x'
	provisionalSuffix = 'w'
)

func rangePrefix(infix byte, rangeID uint64) []byte {
	b := make([]byte, 0, 2+8+1+8)
	b = append(b, localPrefix[0], infix)
	return binary.BigEndian.AppendUint64(b, rangeID)
}

// RaftLogKey is the key of log entry index of range rangeID.
func RaftLogKey(rangeID, index uint64) []byte {
	b := append(rangePrefix(unreplicatedInfix, rangeID), raftLogSuffix)
	return binary.BigEndian.AppendUint64(b, index)
}

// RaftLogPrefix spans all log entries of range rangeID.
func RaftLogPrefix(rangeID uint64) []byte {
	return append(rangePrefix(unreplicatedInfix, rangeID), raftLogSuffix)
}

// HardStateKey holds the Raft HardState of range rangeID's local replica.
func HardStateKey(rangeID uint64) []byte {
	return append(rangePrefix(unreplicatedInfix, rangeID), hardStateSuffix)
}

// TruncatedStateKey holds the index and term of the last truncated log entry.
func TruncatedStateKey(rangeID uint64) []byte {
	return append(rangePrefix(unreplicatedInfix, rangeID), truncStateSuffix)
}

// RangeTombstoneKey holds, on a node whose replica of rangeID was removed,
// the smallest replica id the node may hold again: messages to an older
// replica id must not bring the removed replica back.
func RangeTombstoneKey(rangeID uint64) []byte {
	return append(rangePrefix(unreplicatedInfix, rangeID), tombstoneSuffix)
}

// SnapshotIngestKey marks, on a node, a snapshot of rangeID whose state is
// committed but whose staged sstable (the value: its path) may not be
// ingested yet; the store finishes the ingestion when it starts.
func SnapshotIngestKey(rangeID uint64) []byte {
	return append(rangePrefix(unreplicatedInfix, rangeID), ingestSuffix)
}

// UnreplicatedSpan covers all unreplicated state of range rangeID.
func UnreplicatedSpan(rangeID uint64) (start, end []byte) {
	return rangePrefix(unreplicatedInfix, rangeID), rangePrefix(unreplicatedInfix, rangeID+1)
}

// AppliedStateKey holds the applied index (and ConfState) of range rangeID.
// It is written in the same batch as the data it covers.
func AppliedStateKey(rangeID uint64) []byte {
	return append(rangePrefix(replicatedInfix, rangeID), appliedSuffix)
}

// RangeDescKey holds the range-local copy of the range descriptor.
func RangeDescKey(rangeID uint64) []byte {
	return append(rangePrefix(replicatedInfix, rangeID), descSuffix)
}

// PreparedKey holds the prepared record of txnID at range rangeID.
func PreparedKey(rangeID, txnID uint64) []byte {
	return binary.BigEndian.AppendUint64(PreparedPrefix(rangeID), txnID)
}

// PreparedPrefix spans the prepared records of range rangeID.
func PreparedPrefix(rangeID uint64) []byte {
	return append(rangePrefix(replicatedInfix, rangeID), preparedSuffix)
}

// TxnRecordKey holds the record of txnID at its anchor range rangeID.
func TxnRecordKey(rangeID, txnID uint64) []byte {
	return binary.BigEndian.AppendUint64(TxnRecordPrefix(rangeID), txnID)
}

// TxnRecordPrefix spans the transaction records of range rangeID.
func TxnRecordPrefix(rangeID uint64) []byte {
	return append(rangePrefix(replicatedInfix, rangeID), txnRecordSuffix)
}

// ProvisionalKey holds a provisional (spilled) write of txnID to key at
// range rangeID: replicated, invisible to every reader but txnID, moved to
// key when txnID commits and deleted when it aborts.
func ProvisionalKey(rangeID, txnID uint64, key []byte) []byte {
	return append(ProvisionalTxnPrefix(rangeID, txnID), key...)
}

// ProvisionalTxnPrefix spans the provisional writes of txnID at range rangeID.
func ProvisionalTxnPrefix(rangeID, txnID uint64) []byte {
	return binary.BigEndian.AppendUint64(ProvisionalPrefix(rangeID), txnID)
}

// ProvisionalPrefix spans the provisional writes of every transaction at
// range rangeID.
func ProvisionalPrefix(rangeID uint64) []byte {
	return append(rangePrefix(replicatedInfix, rangeID), provisionalSuffix)
}

// DecodeProvisionalKey returns the transaction and user key of a key under
// ProvisionalPrefix(rangeID).
func DecodeProvisionalKey(rangeID uint64, k []byte) (txnID uint64, key []byte, ok bool) {
	p := ProvisionalPrefix(rangeID)
	if len(k) < len(p)+8 || !bytes.HasPrefix(k, p) {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(k[len(p):]), k[len(p)+8:], true
}

// ReplicatedSpan covers all replicated range-local state of range rangeID.
func ReplicatedSpan(rangeID uint64) (start, end []byte) {
	return rangePrefix(replicatedInfix, rangeID), rangePrefix(replicatedInfix, rangeID+1)
}

// AllRangeDescsSpan covers every replicated range-local key of every range;
// a store scans it at start-up to find its replicas.
func AllRangeDescsSpan() (start, end []byte) {
	return []byte{localPrefix[0], replicatedInfix}, []byte{localPrefix[0], replicatedInfix + 1}
}

// DecodeRangeLocalKey returns the range id and suffix of a replicated
// range-local key.
func DecodeRangeLocalKey(k []byte) (rangeID uint64, suffix byte, ok bool) {
	if len(k) != 11 || k[0] != localPrefix[0] || k[1] != replicatedInfix {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(k[2:10]), k[10], true
}

// IsRangeDescKey reports whether k is a RangeDescKey.
func IsRangeDescKey(k []byte) bool {
	_, s, ok := DecodeRangeLocalKey(k)
	return ok && s == descSuffix
}

// StoreIdentKey holds the store's cluster id and node id.
func StoreIdentKey() []byte {
	return []byte{localPrefix[0], storeInfix, 'i', 'd', 'e', 'n', 't'}
}

// StoreNodesKey holds the node directory last known to the store.
func StoreNodesKey() []byte {
	return []byte{localPrefix[0], storeInfix, 'n', 'o', 'd', 'e', 's'}
}

// MetaKey is the meta record of the range whose end key is endKey.
func MetaKey(endKey []byte) []byte {
	return append(bytes.Clone(MetaPrefix), endKey...)
}

// MetaLookupStart is where a meta scan for the range holding key starts:
// the range holding key is the first whose end key is greater than key.
func MetaLookupStart(key []byte) []byte {
	return Next(MetaKey(key))
}

// MetaSpanEnd ends the meta records.
func MetaSpanEnd() []byte { return SystemPrefix }

// Next returns the smallest key greater than k.
func Next(k []byte) []byte {
	return append(bytes.Clone(k), 0)
}

// PrefixEnd returns the smallest key greater than every key with prefix p.
func PrefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return MaxKey
}

// IsLocal reports whether k is a node-local key that no request may address.
func IsLocal(k []byte) bool {
	return len(k) > 0 && k[0] == localPrefix[0]
}

// Addressable reports whether k may be addressed by a KV request.
func Addressable(k []byte) bool {
	return bytes.Compare(k, MinAddressable) >= 0 && bytes.Compare(k, MaxKey) < 0
}

// System keys.

// NodeDescKey is the registry record of node id.
func NodeDescKey(id uint64) []byte { return sysKey("node/", id) }

// NodeDescPrefix spans the node registry.
func NodeDescPrefix() []byte { return sysKey("node/") }

// LivenessKey is the liveness record of node id.
func LivenessKey(id uint64) []byte { return sysKey("live/", id) }

// LivenessPrefix spans all liveness records.
func LivenessPrefix() []byte { return sysKey("live/") }

// NodeIDGenKey is the counter node ids are allocated from.
func NodeIDGenKey() []byte { return sysKey("idgen/node") }

// RangeIDGenKey is the counter range ids are allocated from.
func RangeIDGenKey() []byte { return sysKey("idgen/range") }

// CatalogPrefix prefixes the SQL catalog (namespace and descriptors). It
// lives in the meta range with the other system records.
func CatalogPrefix() []byte { return sysKey("cat/") }

// DecommissionKey marks node as being decommissioned.
func DecommissionKey(node uint64) []byte { return sysKey("decom/", node) }

// DecommissionPrefix spans the decommission marks.
func DecommissionPrefix() []byte { return sysKey("decom/") }

// SettingsPrefix prefixes cluster settings.
func SettingsPrefix() []byte { return sysKey("set/") }

// TableDataPrefix prefixes SQL table data:
// TableDataPrefix + uvarint(table id) + uvarint(index id) + key columns.
var TableDataPrefix = []byte{0x10}

// TablePrefix spans all indexes of a table.
func TablePrefix(tableID uint64) []byte {
	return encoding.EncodeUvarintAscending(bytes.Clone(TableDataPrefix), tableID)
}

// IndexPrefix spans one index of a table.
func IndexPrefix(tableID, indexID uint64) []byte {
	return encoding.EncodeUvarintAscending(TablePrefix(tableID), indexID)
}

// ClusterIDKey holds the cluster id.
func ClusterIDKey() []byte { return sysKey("cluster-id") }

func sysKey(name string, id ...uint64) []byte {
	b := append(bytes.Clone(SystemPrefix), name...)
	for _, v := range id {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return b
}

// Pretty renders a key for humans: printable bytes as is, others escaped,
// with the key space's well-known prefixes named.
func Pretty(k []byte) string {
	switch {
	case len(k) == 0:
		return "/Min"
	case bytes.Equal(k, MaxKey):
		return "/Max"
	case bytes.Equal(k, UserMin):
		return "/User"
	case k[0] == MetaPrefix[0]:
		return "/Meta" + prettyRest(k[1:])
	case k[0] == SystemPrefix[0]:
		return "/System" + prettyRest(k[1:])
	case k[0] == localPrefix[0]:
		return "/Local" + prettyRest(k[1:])
	}
	return prettyRest(k)
}

func prettyRest(k []byte) string {
	if len(k) == 0 {
		return ""
	}
	q := strconv.Quote(string(k))
	return fmt.Sprintf("/%s", q[1:len(q)-1])
}

// TableOf returns the table id of a SQL table data key.
func TableOf(key []byte) (uint64, bool) {
	if !bytes.HasPrefix(key, TableDataPrefix) {
		return 0, false
	}
	_, id, err := encoding.DecodeUvarintAscending(key[len(TableDataPrefix):])
	return id, err == nil
}
